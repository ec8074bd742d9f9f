//! Validated domain types: a value that exists is valid.

mod attribute;
mod column;
mod consent;
mod contact;
mod country;
mod duplicates;
mod email;
mod ids;
mod list;
mod merge;
mod name;
mod phone;
pub mod similar;
mod timezone;
mod workspace;

pub use attribute::{
    AttributeDefinition, AttributeId, AttributeLabel, AttributeName, AttributeType, AttributeValue,
    StoredValues,
};
pub use column::{Column, JsonPath};
pub use consent::{Channel, Consent, ConsentChange, ConsentChoice, ConsentSource, ConsentStatus};
pub use contact::{
    Contact, ContactChanges, ImportMark, MAX_LISTS_PER_CONTACT, NewContact, Patch, Reach,
};
pub use country::Country;
pub use duplicates::{ContactSet, DuplicateKey, DuplicateReason, MAX_GROUP, SimilarGroup};
pub use email::Email;
pub use ids::{ExternalId, MessagingId};
pub use list::{ContactList, ListId, ListName};
pub use merge::{LastChanges, MAX_MERGED, Merge, MergeField, MergeRequest};
pub use name::Name;
pub use phone::{PhoneNumber, SearchDigits};
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
    // Counted as sent, so the documented `maxLength` is exact.
    if raw.chars().count() > max {
        return Err(InvalidValue(format!("must be at most {max} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(InvalidValue::new("must not contain control characters"));
    }
    Ok(text)
}

/// What [`clean_text`] accepts, as a JSON Schema pattern: no control
/// characters, and something besides white space.
pub const TEXT_PATTERN: &str =
    r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";

/// A ULID as text (Messaging IDs, list IDs, imports, exports), as a JSON
/// Schema pattern.
pub const ULID_PATTERN: &str = "^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}$";

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

/// Reads a struct only from a JSON object (serde also takes an array of
/// its fields in order): `#[serde(deserialize_with = "json_object")]`.
/// Errors keep the path of the field inside.
pub(crate) fn json_object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(ObjectOnly(deserializer))
}

/// [`json_object`] for an optional field (`null` is `None`).
pub(crate) fn optional_json_object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<JsonObject<T>> as serde::Deserialize>::deserialize(deserializer)
        .map(|found| found.map(|JsonObject(value)| value))
}

/// A struct read by [`json_object`]: from a JSON object only.
pub struct JsonObject<T>(pub T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for JsonObject<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        json_object(deserializer).map(JsonObject)
    }
}

/// A deserializer that reads a struct as a map only.
struct ObjectOnly<D>(D);

impl<'de, D: serde::Deserializer<'de>> serde::Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}
