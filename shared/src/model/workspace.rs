use super::InvalidValue;

/// The tenant every record belongs to, taken from the authenticated request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkspaceId(String);

impl WorkspaceId {
    /// Validates a workspace ID: 1–64 ASCII letters, digits, `-` or `_`.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let valid = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidValue(format!(
                "{raw:?} is not a workspace ID (1-64 letters, digits, '-' or '_')"
            )))
        }
    }
}

impl AsRef<str> for WorkspaceId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
