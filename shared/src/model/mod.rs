//! Validated domain types: a value that exists is valid.

mod attribute;
mod column;
mod consent;
mod contact;
mod country;
mod email;
mod ids;
mod list;
mod name;
mod phone;
mod timezone;
mod workspace;

pub use attribute::{
    AttributeDefinition, AttributeId, AttributeLabel, AttributeName, AttributeType, AttributeValue,
};
pub use column::{Column, JsonPath};
pub use consent::{Channel, Consent, ConsentChange, ConsentChoice, ConsentSource, ConsentStatus};
pub use contact::{Contact, ContactChanges, MAX_LISTS_PER_CONTACT, NewContact, Patch, Reach};
pub use country::Country;
pub use email::Email;
pub use ids::{ExternalId, MessagingId};
pub use list::{ContactList, ListId, ListName};
pub use name::Name;
pub use phone::PhoneNumber;
pub use timezone::Timezone;
pub use workspace::WorkspaceId;

/// The current time at the precision every store keeps (microseconds), so a
/// value read back equals the value written.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// An owned copy of an optional text value.
pub fn owned_text<T: AsRef<str>>(value: Option<&T>) -> Option<String> {
    value.map(|v| v.as_ref().to_owned())
}

/// Why a model type refused a value, written for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

impl InvalidValue {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Trims `raw` and checks it is non-empty, at most `max` characters and free
/// of control characters.
fn clean_text(raw: &str, max: usize) -> Result<&str, InvalidValue> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(InvalidValue::new("must not be empty"));
    }
    if text.chars().count() > max {
        return Err(InvalidValue(format!("must be at most {max} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(InvalidValue::new("must not contain control characters"));
    }
    Ok(text)
}

/// Declares a validated string type: private field, `AsRef<str>`, `Display`,
/// serialized as the bare string, and rebuilt from the store without re-parsing.
macro_rules! string_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Rebuilds a value that this crate validated before storing it.
            pub(crate) fn from_stored(value: String) -> Self {
                Self(value)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use string_type;
