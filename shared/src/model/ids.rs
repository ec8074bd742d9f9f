use super::{InvalidValue, clean_text, string_type};

string_type!(
    /// The workspace's own key for a contact: unique per workspace, up to
    /// 255 characters, surrounding spaces trimmed.
    ExternalId
);

impl ExternalId {
    /// Longest accepted External ID, in characters.
    pub const MAX_CHARS: usize = 255;

    /// Validates an External ID.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        clean_text(raw, Self::MAX_CHARS).map(|text| Self(text.to_owned()))
    }
}

string_type!(
    /// The identifier the system assigns to a contact: unique, immutable,
    /// opaque and URL-safe (a ULID, so it also sorts by creation time).
    MessagingId
);

impl MessagingId {
    /// A new, never-before-issued Messaging ID.
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }

    /// Checks that `raw` has the form of a Messaging ID.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        ulid::Ulid::from_string(raw)
            .map(|id| Self(id.to_string()))
            .map_err(|_| InvalidValue::new("is not a Messaging ID"))
    }

    /// The ID with time part `at_ms` and random part `random` (its low 80
    /// bits): for IDs a writer must be able to make again, and read back.
    pub fn from_parts(at_ms: u64, random: u128) -> Self {
        Self(ulid::Ulid::from_parts(at_ms, random).to_string())
    }

    /// The ID's time and random parts.
    pub fn parts(&self) -> Option<(u64, u128)> {
        let id = ulid::Ulid::from_string(&self.0).ok()?;
        Some((id.timestamp_ms(), id.random()))
    }
}

impl<'de> serde::Deserialize<'de> for MessagingId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(|e| serde::de::Error::custom(e.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_id_is_trimmed_and_bounded() {
        assert_eq!(ExternalId::parse("  crm-1 ").unwrap().as_ref(), "crm-1");
        assert!(ExternalId::parse("   ").is_err());
        assert!(ExternalId::parse(&"x".repeat(256)).is_err());
        assert!(ExternalId::parse(&"é".repeat(255)).is_ok());
        assert!(ExternalId::parse("a\u{0}b").is_err());
    }

    #[test]
    fn messaging_ids_are_unique_url_safe_and_parse_back() {
        let a = MessagingId::generate();
        let b = MessagingId::generate();
        assert_ne!(a, b);
        assert!(a.as_ref().chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(MessagingId::parse(a.as_ref()).unwrap(), a);
        assert!(MessagingId::parse("not-an-id").is_err());
    }
}
