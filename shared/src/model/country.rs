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

/// Names people use that the ISO data behind [`Country::parse_loose`] lacks.
const VARIANTS: [(&str, &str); 6] = [
    ("uk", "GB"),
    ("uae", "AE"),
    ("northmacedonia", "MK"),
    ("deutschland", "DE"),
    ("espana", "ES"),
    ("españa", "ES"),
];

impl Country {
    /// Reads a country as people write it: an alpha-2 or alpha-3 code in any
    /// case, or its English name or a common variant (`United States`,
    /// `USA`, `U.S.`, `United Kingdom`, `UK`, `Great Britain`, `Deutschland`).
    /// Stored as the alpha-2 code.
    pub fn parse_loose(raw: &str) -> Result<Self, InvalidValue> {
        if let Ok(country) = Self::parse(raw) {
            return Ok(country);
        }
        let text = raw.trim();
        let key: String = text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        let known = VARIANTS
            .iter()
            .find(|(variant, _)| *variant == key)
            .map(|(_, code)| (*code).to_owned())
            .or_else(|| {
                <celes::Country as std::str::FromStr>::from_str(&key)
                    .ok()
                    .map(|country| country.alpha2.to_owned())
            });
        known
            .and_then(|code| Self::parse(&code).ok())
            .ok_or_else(|| {
                InvalidValue(format!(
                    "{text:?} is not a country: use an ISO 3166-1 code (US, GB, DE, or USA) or the country's English name"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_reads_codes_names_and_variants_as_alpha2() {
        for (raw, code) in [
            ("de", "DE"),
            ("DEU", "DE"),
            ("usa", "US"),
            ("United States", "US"),
            ("U.S.", "US"),
            ("United Kingdom", "GB"),
            ("UK", "GB"),
            ("Great Britain", "GB"),
            ("Deutschland", "DE"),
            ("france", "FR"),
            ("Norway", "NO"),
            ("Ivory Coast", "CI"),
            ("The Netherlands", "NL"),
        ] {
            assert_eq!(
                Country::parse_loose(raw).map(|c| c.0),
                Ok(code.to_owned()),
                "{raw}"
            );
        }
        for bad in ["", "Narnia", "XX", "Europe"] {
            assert!(Country::parse_loose(bad).is_err(), "{bad} was accepted");
        }
    }

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
