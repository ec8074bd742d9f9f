use super::{InvalidValue, string_type};

string_type!(
    /// A phone number in E.164 form (`+12345678902`) that is valid for its region.
    PhoneNumber
);

impl PhoneNumber {
    /// Validates an E.164 phone number.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let text = raw.trim();
        let digits = text.strip_prefix('+').unwrap_or("");
        if !(2..=15).contains(&digits.len())
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.starts_with('0')
        {
            return Err(InvalidValue(format!(
                "{text:?} is not in E.164 format: a plus sign, then country code and number, digits only (e.g. +12345678902)"
            )));
        }
        let number = phonenumber::parse(None, text)
            .ok()
            .filter(phonenumber::is_valid)
            .ok_or_else(|| {
                InvalidValue(format!(
                    "{text:?} is not a valid phone number for its country"
                ))
            })?;
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_e164_numbers() {
        for good in [
            "+12345678902",
            "+447911123456",
            "+4915112345678",
            "+61412345678",
        ] {
            assert_eq!(PhoneNumber::parse(good).unwrap().as_ref(), good);
        }
    }

    #[test]
    fn rejects_other_formats_and_numbers_invalid_for_their_region() {
        for bad in [
            "12345678902",
            "+1 234 567 8902",
            "+1-234-567-8902",
            "+0123456789",
            "+",
            "+1234567890123456",
            "+12345",
            "+10005550000",
            "tel:+12345678902",
            "+١٢٣٤٥٦٧٨٩٠٢",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
