use super::{InvalidValue, clean_text, string_type};

string_type!(
    /// A first or last name: up to 255 characters, trimmed.
    Name
);

impl Name {
    /// Longest accepted name, in characters.
    pub const MAX_CHARS: usize = 255;

    /// Validates a name.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        clean_text(raw, Self::MAX_CHARS).map(|text| Self(text.to_owned()))
    }

    /// "First Last", or whichever of the two is present.
    pub fn full(first: Option<&Name>, last: Option<&Name>) -> Option<String> {
        match (first, last) {
            (Some(f), Some(l)) => Some(format!("{} {}", f.0, l.0)),
            (Some(one), None) | (None, Some(one)) => Some(one.0.clone()),
            (None, None) => None,
        }
    }
}
