use super::{InvalidValue, clean_text, string_type};

string_type!(
    /// The ID of a contact list: assigned by the system, URL-safe.
    ListId
);

impl ListId {
    /// A new, never-before-issued list ID.
    pub fn generate() -> Self {
        Self(ulid::Ulid::new().to_string())
    }

    /// Checks that `raw` has the form of a list ID.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        ulid::Ulid::from_string(raw)
            .map(|id| Self(id.to_string()))
            .map_err(|_| InvalidValue(format!("{raw:?} is not a list ID")))
    }
}

string_type!(
    /// The name of a contact list: 1–100 characters, unique in the workspace
    /// ignoring case.
    ListName
);

impl ListName {
    /// Longest accepted list name, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Validates a list name.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        clean_text(raw, Self::MAX_CHARS).map(|text| Self(text.to_owned()))
    }

    /// The form uniqueness is checked on.
    pub fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A contact list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactList {
    pub id: ListId,
    pub name: ListName,
    pub created_at: chrono::DateTime<chrono::Utc>,
}
