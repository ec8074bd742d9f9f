use super::{InvalidValue, string_type};

string_type!(
    /// An ISO 3166-1 alpha-2 country code, upper case.
    Country
);

impl Country {
    /// Validates a country code (any case).
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let text = raw.trim();
        isocountry::CountryCode::for_alpha2_caseless(text)
            .map(|code| Self(code.alpha2().to_owned()))
            .map_err(|_| {
                InvalidValue(format!(
                    "{text:?} is not an ISO 3166-1 alpha-2 country code (e.g. US, GB, DE)"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_alpha2_codes_in_any_case() {
        assert_eq!(Country::parse("de").unwrap().as_ref(), "DE");
        assert_eq!(Country::parse("US").unwrap().as_ref(), "US");
    }

    #[test]
    fn rejects_names_alpha3_and_unassigned_codes() {
        for bad in ["", "USA", "Germany", "XX", "U", "ZZ"] {
            assert!(Country::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
