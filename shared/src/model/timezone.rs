use super::{InvalidValue, string_type};

string_type!(
    /// An IANA time zone name in its canonical spelling, e.g. `Europe/Berlin`.
    Timezone
);

impl Timezone {
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

#[cfg(test)]
mod tests {
    use super::*;

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
