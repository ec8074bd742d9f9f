use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{Column, InvalidValue, clean_text, string_type};

string_type!(
    /// The stable key of a custom attribute: a lower-case letter, then up to
    /// 63 lower-case letters, digits or `_`; never a generic column's name.
    AttributeName
);

impl AttributeName {
    /// The shape of a name, as a JSON Schema pattern (besides: not a
    /// generic column's name nor one of [`AttributeName::RESERVED`]).
    pub const PATTERN: &str = "^[a-z][a-z0-9_]{0,63}$";
    /// Names that generic fields, filters and the contact document already use.
    pub const RESERVED: [&str; 6] = [
        "consent",
        "attributes",
        "version",
        "list",
        "lists",
        "timezone",
    ];

    /// Validates an attribute name.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let mut chars = raw.chars();
        let shaped = raw.len() <= 64
            && chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !shaped {
            return Err(InvalidValue(format!(
                "{raw:?} is not an attribute name: start with a lower-case letter, then up to 63 lower-case letters, digits or _"
            )));
        }
        if Column::parse(raw).is_some() || Self::RESERVED.contains(&raw) {
            return Err(InvalidValue(format!(
                "{raw:?} is the name of a generic attribute"
            )));
        }
        Ok(Self(raw.to_owned()))
    }
}

string_type!(
    /// The display label of a custom attribute: 1–100 characters.
    AttributeLabel
);

impl AttributeLabel {
    /// Longest accepted label, in characters.
    pub const MAX_CHARS: usize = 100;

    /// Validates a label.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        clean_text(raw, Self::MAX_CHARS).map(|text| Self(text.to_owned()))
    }
}

/// The type of a custom attribute's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    Text,
    Number,
    Boolean,
    /// ISO `YYYY-MM-DD`.
    Date,
    /// RFC 3339.
    Datetime,
}

impl AttributeType {
    /// Every type.
    pub const ALL: [AttributeType; 5] = [
        AttributeType::Text,
        AttributeType::Number,
        AttributeType::Boolean,
        AttributeType::Date,
        AttributeType::Datetime,
    ];

    /// The type's name in the API and the stores.
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::Text => "text",
            AttributeType::Number => "number",
            AttributeType::Boolean => "boolean",
            AttributeType::Date => "date",
            AttributeType::Datetime => "datetime",
        }
    }

    /// The type named `raw`.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == raw)
            .ok_or_else(|| {
                InvalidValue(format!(
                    "{raw:?} is not an attribute type (text, number, boolean, date, datetime)"
                ))
            })
    }

    /// Whether values of this type can be compared with `gt` / `lt`.
    pub fn is_ordered(self) -> bool {
        matches!(
            self,
            AttributeType::Number | AttributeType::Date | AttributeType::Datetime
        )
    }
}

string_type!(
    /// The key a definition's values are stored under: assigned once, never
    /// reused, so values of a deleted attribute never reappear under a new
    /// one of the same name.
    AttributeId
);

impl AttributeId {
    /// A new, never-before-issued attribute ID.
    pub fn generate() -> Self {
        Self(format!("a{}", ulid::Ulid::new().to_string().to_lowercase()))
    }
}

/// A workspace's definition of a custom attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDefinition {
    pub id: AttributeId,
    pub name: AttributeName,
    pub label: AttributeLabel,
    pub kind: AttributeType,
}

/// A custom attribute value of a known type.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum AttributeValue {
    Text(String),
    /// Always finite.
    Number(f64),
    Boolean(bool),
    Date(NaiveDate),
    Datetime(DateTime<Utc>),
}

impl Eq for AttributeValue {}

impl AttributeValue {
    /// Longest text value, in characters.
    pub const MAX_TEXT: usize = 1000;

    /// A value of `kind` from JSON: a string for text, date and datetime, a
    /// number, or `true` / `false`.
    pub fn from_json(kind: AttributeType, value: &Value) -> Result<Self, InvalidValue> {
        let expected = || InvalidValue(format!("must be a {} value, got {value}", kind.as_str()));
        match (kind, value) {
            (AttributeType::Number, Value::Number(n)) => n
                .as_f64()
                .filter(|n| n.is_finite())
                .map(Self::Number)
                .ok_or_else(expected),
            (AttributeType::Boolean, Value::Bool(b)) => Ok(Self::Boolean(*b)),
            (_, Value::String(text)) => Self::from_text(kind, text),
            _ => Err(expected()),
        }
    }

    /// A value of `kind` from its text form (`5`, `true`, `2026-11-25`, …).
    pub fn from_text(kind: AttributeType, raw: &str) -> Result<Self, InvalidValue> {
        let text = raw.trim();
        let invalid = |what: &str| InvalidValue(format!("{text:?} is not {what}"));
        match kind {
            AttributeType::Text => {
                if text.chars().count() > Self::MAX_TEXT {
                    Err(InvalidValue(format!(
                        "must be at most {} characters",
                        Self::MAX_TEXT
                    )))
                } else {
                    Ok(Self::Text(text.to_owned()))
                }
            }
            AttributeType::Number => text
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Self::Number)
                .ok_or_else(|| invalid("a number")),
            AttributeType::Boolean => match text.to_ascii_lowercase().as_str() {
                "true" => Ok(Self::Boolean(true)),
                "false" => Ok(Self::Boolean(false)),
                _ => Err(invalid("true or false")),
            },
            AttributeType::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Self::Date)
                .map_err(|_| invalid("a date (YYYY-MM-DD)")),
            AttributeType::Datetime => DateTime::parse_from_rfc3339(text)
                .map(|t| Self::Datetime(t.with_timezone(&Utc)))
                .map_err(|_| invalid("an RFC 3339 date and time (e.g. 2026-11-25T08:00:00Z)")),
        }
    }

    /// The value's type.
    pub fn kind(&self) -> AttributeType {
        match self {
            Self::Text(_) => AttributeType::Text,
            Self::Number(_) => AttributeType::Number,
            Self::Boolean(_) => AttributeType::Boolean,
            Self::Date(_) => AttributeType::Date,
            Self::Datetime(_) => AttributeType::Datetime,
        }
    }

    /// The value as JSON: numbers and booleans bare, the rest as strings
    /// (datetimes in UTC with microseconds, so they sort as text).
    pub fn to_json(&self) -> Value {
        match self {
            Self::Text(text) => Value::String(text.clone()),
            Self::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
            Self::Boolean(b) => Value::Bool(*b),
            Self::Date(d) => Value::String(d.format("%Y-%m-%d").to_string()),
            Self::Datetime(t) => Value::String(t.to_rfc3339_opts(SecondsFormat::Micros, true)),
        }
    }
}

/// The value written as [`AttributeValue::to_json`] shows it, without
/// building a JSON tree first.
impl Serialize for AttributeValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(text) => serializer.serialize_str(text),
            // Finite by construction; serde_json writes `null` otherwise,
            // as `to_json` does.
            Self::Number(n) => serializer.serialize_f64(*n),
            Self::Boolean(b) => serializer.serialize_bool(*b),
            // `NaiveDate` displays as `%Y-%m-%d`, without parsing a format.
            Self::Date(d) => serializer.collect_str(d),
            Self::Datetime(t) => {
                serializer.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Micros, true))
            }
        }
    }
}

/// A value in its stored form (see [`AttributeValue::to_stored`]), written
/// directly: a contact's values are serialised on every write.
pub struct Stored<'a>(pub &'a AttributeValue);

impl Serialize for Stored<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let value = self.0;
        let text = match value {
            AttributeValue::Text(text) => Some(text),
            _ => None,
        };
        let mut map = serializer.serialize_map(Some(1 + usize::from(text.is_some())))?;
        // Keys in the order a JSON object of them sorts to.
        if let Some(text) = text {
            map.serialize_entry("folded", &text.to_lowercase())?;
        }
        map.serialize_entry(value.kind().as_str(), value)?;
        map.end()
    }
}

/// A contact's custom values in their stored form, keyed by attribute ID
/// (`{"<attribute id>": <stored value>, …}`).
pub struct StoredValues<'a>(pub &'a std::collections::BTreeMap<AttributeId, AttributeValue>);

impl Serialize for StoredValues<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(id, value)| (id, Stored(value))))
    }
}

impl AttributeValue {
    /// The stored form: the value under its type's name, plus a lower-cased
    /// copy of text for case-insensitive search (`{"text": "Gold", "folded":
    /// "gold"}`, `{"number": 10}`, …). Both stores keep this shape.
    pub fn to_stored(&self) -> Value {
        serde_json::to_value(Stored(self)).unwrap_or(Value::Null)
    }

    /// A value from its stored form.
    pub fn from_stored(stored: &Value) -> Result<Self, InvalidValue> {
        AttributeType::ALL
            .into_iter()
            .find_map(|kind| Some(Self::from_json(kind, stored.get(kind.as_str())?)))
            .unwrap_or_else(|| {
                Err(InvalidValue(format!(
                    "{stored} is not a stored attribute value"
                )))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_keys_that_never_shadow_generic_fields() {
        assert!(AttributeName::parse("loyalty_tier2").is_ok());
        for bad in [
            "",
            "Tier",
            "2tier",
            "tier-2",
            "email",
            "full_name",
            "consent",
            "sms_consent",
            &"a".repeat(65),
        ] {
            assert!(AttributeName::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn values_are_checked_against_their_type() {
        use AttributeType::*;
        assert_eq!(
            AttributeValue::from_json(Number, &json!(10.5)),
            Ok(AttributeValue::Number(10.5))
        );
        assert_eq!(
            AttributeValue::from_json(Number, &json!("10")),
            Ok(AttributeValue::Number(10.0))
        );
        assert!(AttributeValue::from_json(Number, &json!("ten")).is_err());
        assert!(AttributeValue::from_json(Number, &json!(true)).is_err());
        assert_eq!(
            AttributeValue::from_json(Boolean, &json!(false)),
            Ok(AttributeValue::Boolean(false))
        );
        assert!(AttributeValue::from_json(Boolean, &json!(1)).is_err());
        assert!(AttributeValue::from_json(Date, &json!("2026-02-30")).is_err());
        assert_eq!(
            AttributeValue::from_json(Date, &json!("2026-11-25"))
                .unwrap()
                .to_json(),
            json!("2026-11-25")
        );
        let at = AttributeValue::from_json(Datetime, &json!("2026-11-25T09:00:00+01:00")).unwrap();
        assert_eq!(at.to_json(), json!("2026-11-25T08:00:00.000000Z"));
        assert!(AttributeValue::from_json(Datetime, &json!("2026-11-25")).is_err());
        assert!(AttributeValue::from_json(Text, &json!(5)).is_err());
        assert!(AttributeValue::from_json(Text, &json!("x".repeat(1001))).is_err());
    }

    #[test]
    fn stored_values_come_back_equal() {
        for value in [
            AttributeValue::Text("Gold Ü".into()),
            AttributeValue::Number(-2.5),
            AttributeValue::Boolean(true),
            AttributeValue::from_text(AttributeType::Date, "2026-11-25").unwrap(),
            AttributeValue::from_text(AttributeType::Datetime, "2026-11-25T08:00:00.123456Z")
                .unwrap(),
        ] {
            assert_eq!(AttributeValue::from_stored(&value.to_stored()), Ok(value));
        }
        assert_eq!(
            AttributeValue::Text("Gold Ü".into()).to_stored()["folded"],
            "gold ü"
        );
    }

    #[test]
    fn stored_values_are_written_as_the_json_object_of_them_reads() {
        let date = |text| AttributeValue::from_text(AttributeType::Date, text).unwrap();
        let values: std::collections::BTreeMap<AttributeId, AttributeValue> = [
            ("ab", AttributeValue::Text("Gold \"Ü\"".into())),
            ("aa", AttributeValue::Number(10.0)),
            ("ac", date("2026-11-05")),
            ("ad", AttributeValue::Boolean(false)),
            ("af", date("0999-01-02")),
            (
                "ae",
                AttributeValue::from_text(AttributeType::Datetime, "2026-11-25T08:00:00+01:00")
                    .unwrap(),
            ),
        ]
        .into_iter()
        .map(|(id, value)| (AttributeId::from_stored(id.into()), value))
        .collect();
        let written = serde_json::to_string(&StoredValues(&values)).unwrap();
        let tree: serde_json::Map<String, Value> = values
            .iter()
            .map(|(id, value)| (id.to_string(), value.to_stored()))
            .collect();
        assert_eq!(written, Value::Object(tree).to_string());
        assert_eq!(
            written,
            r#"{"aa":{"number":10.0},"ab":{"folded":"gold \"ü\"","text":"Gold \"Ü\""},"ac":{"date":"2026-11-05"},"ad":{"boolean":false},"ae":{"datetime":"2026-11-25T07:00:00.000000Z"},"af":{"date":"0999-01-02"}}"#
        );
    }
}
