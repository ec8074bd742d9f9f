use std::collections::HashMap;
use std::sync::LazyLock;

use super::{InvalidValue, string_type};

string_type!(
    /// An IANA time zone name in its canonical spelling, e.g. `Europe/Berlin`.
    Timezone
);

impl Timezone {
    /// The shape of every IANA name, as a JSON Schema pattern (the parser
    /// then checks the name is one).
    pub const PATTERN: &str = r"^[A-Za-z0-9_+/-]{1,40}$";

    /// Validates a time zone name (any case).
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let text = raw.trim();
        chrono_tz::Tz::from_str_insensitive(text)
            .map(|tz| Self(tz.name().to_owned()))
            .map_err(|_| {
                InvalidValue(format!(
                    "{text:?} is not an IANA time zone name (e.g. America/New_York)"
                ))
            })
    }
}

impl Timezone {
    /// Reads a time zone as exporters write it: an IANA name in any case,
    /// or a label that ends in one with spaces for `/` and `_`, after an
    /// offset (`UTC +02:00 Europe Oslo`, `(GMT-05:00) America/New_York`).
    pub fn parse_loose(raw: &str) -> Result<Self, InvalidValue> {
        if let Ok(timezone) = Self::parse(raw) {
            return Ok(timezone);
        }
        let text = raw.trim();
        let words: Vec<&str> = text
            .split([' ', '/', '_', '(', ')'])
            .filter(|w| !w.is_empty())
            .collect();
        // The name is the longest run of words at the end that names a zone.
        (0..words.len())
            .find_map(|start| BY_WORDS.get(&words[start..].join(" ").to_lowercase()))
            .map(|name| Self((*name).to_owned()))
            .ok_or_else(|| {
                InvalidValue(format!(
                    "{text:?} is not a time zone: use an IANA name (e.g. America/New_York)"
                ))
            })
    }
}

/// Every zone's name by its words: lower case, `/` and `_` as spaces.
static BY_WORDS: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| (tz.name().replace(['/', '_'], " ").to_lowercase(), tz.name()))
        .collect()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_reads_exporters_labels() {
        for (raw, zone) in [
            ("america/montreal", "America/Montreal"),
            ("UTC +02:00 Europe Oslo", "Europe/Oslo"),
            ("UTC -07:00 America Los Angeles", "America/Los_Angeles"),
            ("(GMT-05:00) America/New_York", "America/New_York"),
            (
                "America Argentina Buenos Aires",
                "America/Argentina/Buenos_Aires",
            ),
        ] {
            assert_eq!(
                Timezone::parse_loose(raw).map(|t| t.0),
                Ok(zone.to_owned()),
                "{raw}"
            );
        }
        for bad in ["", "UTC +02:00", "Mars Olympus", "+02:00"] {
            assert!(Timezone::parse_loose(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn accepts_iana_names_and_canonicalises_case() {
        assert_eq!(
            Timezone::parse("europe/berlin").unwrap().as_ref(),
            "Europe/Berlin"
        );
        assert!(Timezone::parse("UTC").is_ok());
    }

    #[test]
    fn rejects_offsets_and_made_up_zones() {
        for bad in ["", "+02:00", "GMT+25", "Mars/Olympus", "Europe/"] {
            assert!(Timezone::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
