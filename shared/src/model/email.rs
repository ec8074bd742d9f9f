use std::borrow::Cow;
use std::str::FromStr;

use super::{InvalidValue, string_type};

string_type!(
    /// An email address with a dotted domain, stored with its domain in lower case.
    Email
);

impl Email {
    /// Longest accepted address, in characters (as sent).
    pub const MAX_CHARS: usize = 254;
    /// What an address looks like, as a JSON Schema pattern (the parser
    /// checks more: the syntax of each part).
    pub const PATTERN: &str = r"^\s*[^\s@<>]+@[^\s@<>\[]+\.[^\s@<>]+\s*$";

    /// Validates an email address.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let text = raw.trim();
        let invalid = || InvalidValue(format!("{text:?} is not a valid email address"));
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(InvalidValue::new("must be at most 254 characters"));
        }
        let address = email_address::EmailAddress::from_str(text).map_err(|_| invalid())?;
        let domain = address.domain();
        if !domain.contains('.') || domain.starts_with('[') || text.contains(['<', '>', ' ']) {
            return Err(invalid());
        }
        Ok(Self(format!(
            "{}@{}",
            address.local_part(),
            domain.to_lowercase()
        )))
    }

    /// The address in lower case, as duplicates and lookups compare
    /// addresses: copied only when it has an upper-case letter or isn't
    /// ASCII.
    pub fn folded(&self) -> Cow<'_, str> {
        if self.0.is_ascii() && !self.0.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Borrowed(&self.0)
        } else {
            Cow::Owned(self.0.to_lowercase())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_to_lower_case_in_every_script_copying_only_when_it_must() {
        let folded = |raw: &str| Email::parse(raw).unwrap().folded().into_owned();
        assert_eq!(folded("Ann.Lee@example.com"), "ann.lee@example.com");
        assert_eq!(folded("ÅSA.Ölund@example.se"), "åsa.ölund@example.se");
        let lower = Email::parse("ann@example.com").unwrap();
        assert!(matches!(lower.folded(), Cow::Borrowed("ann@example.com")));
    }

    #[test]
    fn accepts_ordinary_addresses_and_lowercases_the_domain() {
        assert_eq!(
            Email::parse(" Ann.Lee+tag@Example.COM ").unwrap().as_ref(),
            "Ann.Lee+tag@example.com"
        );
        assert!(Email::parse("o'brien@mail.example.ie").is_ok());
    }

    #[test]
    fn rejects_what_is_not_a_deliverable_address() {
        for bad in [
            "",
            "plain",
            "a@b",
            "@example.com",
            "a@@example.com",
            "a b@example.com",
            "Ann <ann@example.com>",
            "a@[127.0.0.1]",
            "a@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} was accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }
}
