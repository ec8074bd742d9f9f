use std::borrow::Cow;
use std::cell::RefCell;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use rlibphonenumber::{PhoneNumberFormat, PhoneNumberUtil, Region};

use super::{Country, InvalidValue, string_type};

string_type!(
    /// A phone number in E.164 form (`+12345678902`) that is valid for its region.
    PhoneNumber
);

impl PhoneNumber {
    /// The E.164 shape, as a JSON Schema pattern (the parser then checks
    /// the number is valid for its country).
    pub const PATTERN: &str = r"^\s*\+[1-9][0-9]{1,14}\s*$";

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
        valid(text, None).ok_or_else(|| {
            InvalidValue(format!(
                "{text:?} is not a valid phone number for its country"
            ))
        })
    }
}

/// Threads that may hold a copy of the library at once; others read with
/// the one shared instance. A copy is 8 MB: with the shared one, phone
/// metadata stays under 25 MB however many threads validate.
const MOST_COPIES: usize = 2;

/// Copies alive now (at most [`MOST_COPIES`]).
static COPIES: AtomicUsize = AtomicUsize::new(0);

/// A thread's own copy of the library and its metadata: the regular
/// expressions of a shared one hand their caches to all but one thread
/// through locked stacks, which cost a third of the time of two threads.
struct ThreadCopy(PhoneNumberUtil);

impl ThreadCopy {
    /// A new copy, if fewer than [`MOST_COPIES`] are alive.
    fn make() -> Option<Self> {
        COPIES
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |alive| {
                (alive < MOST_COPIES).then_some(alive + 1)
            })
            .ok()?;
        match PhoneNumberUtil::new() {
            Ok(util) => Some(Self(util)),
            Err(_) => {
                COPIES.fetch_sub(1, Ordering::AcqRel);
                None
            }
        }
    }
}

impl Drop for ThreadCopy {
    fn drop(&mut self) {
        COPIES.fetch_sub(1, Ordering::AcqRel);
    }
}

thread_local! {
    /// This thread's copy, once it could have one (a copy frees its place
    /// when its thread ends, and a thread without one asks again).
    static UTIL: RefCell<Option<ThreadCopy>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's copy of the library, or with the shared
/// instance when [`MOST_COPIES`] threads hold one.
fn with_util<T>(f: impl FnOnce(&PhoneNumberUtil) -> T) -> T {
    UTIL.with(|cell| {
        let mut copy = cell.borrow_mut();
        if copy.is_none() {
            *copy = ThreadCopy::make();
        }
        match copy.as_ref() {
            Some(ThreadCopy(util)) => f(util),
            None => f(&rlibphonenumber::PHONE_NUMBER_UTIL),
        }
    })
}

/// `text` parsed in `region` (or as an international number), if valid
/// for its region, in E.164 form, which holds at most 15 digits
/// (libphonenumber formats a few longer national numbers).
fn valid(text: &str, region: Option<Region>) -> Option<PhoneNumber> {
    with_util(|util| {
        let number = util.parse(text, region).ok()?;
        util.is_valid_number(&number)
            .then(|| util.format(&number, PhoneNumberFormat::E164).into_owned())
    })
    .filter(|e164| e164.len() <= 16)
    .map(PhoneNumber)
}

impl PhoneNumber {
    /// Reads a phone number as people write it: E.164 with spaces, dashes,
    /// dots or parentheses (`+1 (202) 555-0143`), after the `00`
    /// international prefix (`0049 30 901820`), or, when `country` says
    /// where it belongs, a national number, a number after that country's
    /// international prefix, or its digits with the country code but no `+`
    /// (`33612345678` in FR). No country is ever guessed: anything
    /// ambiguous or invalid is refused.
    pub fn parse_loose(raw: &str, country: Option<&Country>) -> Result<Self, InvalidValue> {
        let text = raw.trim();
        let compact = compact(text);
        if compact.starts_with('+') {
            return Self::parse(&compact).map_err(|_| invalid_loose(text, None));
        }
        if compact.is_empty() || !compact.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid_loose(text, None));
        }
        let international = compact.strip_prefix("00").map(|rest| format!("+{rest}"));
        let region = country.and_then(|c| Region::from_str(c.as_ref()).ok());
        let in_region = region.and_then(|region| valid(&compact, Some(region)));
        in_region
            .or_else(|| international.and_then(|number| Self::parse(&number).ok()))
            .ok_or_else(|| invalid_loose(text, country))
    }

    /// Reads a number from a column whose exporter writes international
    /// numbers as digits without the `+` (Brevo's `SMS`): `33612345678` is
    /// `+33612345678`; other forms are read as [`Self::parse_loose`] does.
    pub fn parse_international(raw: &str, country: Option<&Country>) -> Result<Self, InvalidValue> {
        let compact = compact(raw.trim());
        if !compact.is_empty()
            && compact.bytes().all(|b| b.is_ascii_digit())
            && !compact.starts_with('0')
            && let Ok(number) = Self::parse(&format!("+{compact}"))
        {
            return Ok(number);
        }
        Self::parse_loose(raw, country)
    }
}

/// The digits of a number in the forms people search it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDigits {
    /// The E.164 digits (`4930901820`).
    pub international: String,
    /// The national significant number (`30901820`); `None` only for a
    /// stored number the library no longer reads.
    pub significant: Option<String>,
    /// The digits of the national format, with the prefix people dial at
    /// home (`030901820`).
    pub national: Option<String>,
}

impl PhoneNumber {
    /// The digits people search this number by. Read with the library's
    /// one shared instance: search indexing runs on whichever thread runs
    /// the indexer, and a copy per such thread costs memory, not time.
    pub fn search_digits(&self) -> SearchDigits {
        let util = &*rlibphonenumber::PHONE_NUMBER_UTIL;
        let national = util.parse(&self.0, None).ok().map(|number| {
            let significant = number.get_national_significant_number();
            let formatted = util.format(&number, PhoneNumberFormat::National);
            (significant, digits_of(&formatted))
        });
        SearchDigits {
            international: self.0.trim_start_matches('+').to_owned(),
            significant: national.as_ref().map(|(s, _)| s.clone()),
            national: national.map(|(_, n)| n),
        }
    }
}

fn digits_of(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// The text without the spaces, dashes, dots and parentheses people put
/// in numbers (borrowed when it has none, as most do).
fn compact(text: &str) -> Cow<'_, str> {
    let separator = |c: char| matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}');
    if text.contains(separator) {
        Cow::Owned(text.chars().filter(|c| !separator(*c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

fn invalid_loose(text: &str, country: Option<&Country>) -> InvalidValue {
    match country {
        Some(country) => InvalidValue(format!(
            "{text:?} is not a valid phone number, in E.164 (+12345678902) or national for {country}"
        )),
        None => InvalidValue(format!(
            "{text:?} is not a phone number in E.164 format (e.g. +12345678902); a national number needs a Country"
        )),
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

    #[test]
    fn at_most_two_threads_hold_a_copy_and_a_thread_s_end_frees_its_place() {
        let threads = 4;
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(threads));
        let holding = (0..threads).map(|_| {
            let barrier = std::sync::Arc::clone(&barrier);
            std::thread::spawn(move || {
                assert_eq!(
                    PhoneNumber::parse("+4915112345678").unwrap().as_ref(),
                    "+4915112345678",
                    "with a copy or the shared instance alike"
                );
                barrier.wait();
                let alive = COPIES.load(Ordering::Acquire);
                assert!((1..=MOST_COPIES).contains(&alive), "{alive} copies");
                barrier.wait();
            })
        });
        // Joined: each thread has ended, its copy dropped with it.
        for thread in holding.collect::<Vec<_>>() {
            thread.join().unwrap();
        }
        let later = std::thread::spawn(|| {
            PhoneNumber::parse("+447911123456").unwrap();
            UTIL.with(|copy| copy.borrow().is_some())
        });
        assert!(later.join().unwrap(), "a later thread gets a copy");
    }

    #[test]
    fn e164_keeps_what_the_number_needs() {
        assert_eq!(
            PhoneNumber::parse("+390212345678").unwrap().as_ref(),
            "+390212345678",
            "an Italian number keeps its leading zero"
        );
    }

    #[test]
    fn loose_numbers_normalise_when_unambiguous() {
        let us = Country::parse("US").unwrap();
        let gb = Country::parse("GB").unwrap();
        for (raw, country, e164) in [
            ("+1 (202) 555-0143", None, "+12025550143"),
            ("+44 7911 123456", None, "+447911123456"),
            ("(202) 555-0143", Some(&us), "+12025550143"),
            ("07911 123456", Some(&gb), "+447911123456"),
            ("0049 30 901820", None, "+4930901820"),
            ("0049 30 901820", Some(&us), "+4930901820"),
            ("011 49 30 901820", Some(&us), "+4930901820"),
            ("447400123456", Some(&gb), "+447400123456"),
            (
                "33 6 12 34 56 78",
                Country::parse("FR").ok().as_ref(),
                "+33612345678",
            ),
        ] {
            assert_eq!(
                PhoneNumber::parse_loose(raw, country).unwrap().as_ref(),
                e164
            );
        }
        for (raw, country) in [
            ("202 555 0143", None),
            ("+1 000 555 0143", None),
            ("call me", Some(&us)),
            ("07911 123456", Some(&us)),
            ("33612345678", None),
            ("33612345678", Some(&us)),
        ] {
            assert!(PhoneNumber::parse_loose(raw, country).is_err(), "{raw}");
        }
    }

    #[test]
    fn international_columns_read_digits_as_after_a_plus() {
        assert_eq!(
            PhoneNumber::parse_international("33612345678", None)
                .unwrap()
                .as_ref(),
            "+33612345678"
        );
        let gb = Country::parse("GB").unwrap();
        assert_eq!(
            PhoneNumber::parse_international("07400 123456", Some(&gb))
                .unwrap()
                .as_ref(),
            "+447400123456"
        );
        assert!(PhoneNumber::parse_international("12", None).is_err());
    }
}
