//! Word-prefix search: what a contact's searchable words are, what a search
//! asks, and whether one matches the other. Every store answers a search with
//! exactly this meaning (the embedded store's word index and the DynamoDB
//! search index are ways to find candidates fast; [`WordSearch::matches`]
//! decides).
//!
//! Text is folded (lower case, accents removed: `Jürgen` → `jurgen`) and
//! split into words. Every word of a search must be the start of some word
//! of the field it searches: `ann le` finds `Ann Lee`, not `Ann Moss`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::model::{AttributeId, AttributeValue, Contact, InvalidValue, PhoneNumber};
use crate::query::TextField;

/// The characters of an index key: searches of at least this many
/// characters in one word can be answered from a search index.
pub const KEY_CHARS: usize = 2;

/// The digits of a phone's index keys (its starts and its ending): a phone
/// search needs at least this many to be answered from a search index.
/// With fewer, the keys of a number's starts would hold a tenth of a
/// workspace and more, and a search of its last digits could not be
/// told from them.
pub const PHONE_KEY_DIGITS: usize = 4;

/// The longest search text, in characters.
const MAX_CHARS: usize = 255;

/// `text` in lower case without accents (`García` → `garcia`).
pub fn fold(text: &str) -> String {
    text.to_lowercase()
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .collect()
}

/// A group of a contact's words: each search field reads one or more.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    FirstName,
    LastName,
    Email,
    /// A phone's E.164 digits, national significant number and national
    /// format (`4930901820`, `30901820`, `030901820`).
    Phone,
    /// A phone's E.164 digits reversed, to find it by its last digits.
    PhoneEnding,
    /// A text custom attribute.
    Attribute(AttributeId),
}

impl Group {
    /// A short stable name, as stores keep it.
    pub fn tag(&self) -> String {
        match self {
            Group::FirstName => "f".to_owned(),
            Group::LastName => "l".to_owned(),
            Group::Email => "e".to_owned(),
            Group::Phone => "p".to_owned(),
            Group::PhoneEnding => "r".to_owned(),
            Group::Attribute(id) => format!("a.{id}"),
        }
    }

    /// The group a tag names, if any.
    pub fn from_tag(tag: &str) -> Option<Self> {
        Some(match tag {
            "f" => Group::FirstName,
            "l" => Group::LastName,
            "e" => Group::Email,
            "p" => Group::Phone,
            "r" => Group::PhoneEnding,
            _ => Group::Attribute(AttributeId::from_stored(tag.strip_prefix("a.")?.to_owned())),
        })
    }

    /// The index key a word of this group is found under: its first
    /// [`KEY_CHARS`] characters, or a phone's first [`PHONE_KEY_DIGITS`]
    /// digits (`~` first for its ending); `None` for a shorter word.
    fn key(&self, word: &str) -> Option<String> {
        let chars = match self {
            Group::Phone | Group::PhoneEnding => PHONE_KEY_DIGITS,
            _ => KEY_CHARS,
        };
        let prefix: String = word.chars().take(chars).collect();
        (prefix.chars().count() == chars).then_some(())?;
        match self {
            Group::PhoneEnding => Some(format!("~{prefix}")),
            _ => Some(prefix),
        }
    }
}

/// Every searchable word of a contact, by group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactWords(BTreeMap<Group, BTreeSet<String>>);

impl ContactWords {
    /// The words of `contact`: names, email, phone and text custom values.
    pub fn of(contact: &Contact) -> Self {
        let mut words = Self::default();
        for (group, name) in [
            (Group::FirstName, &contact.first_name),
            (Group::LastName, &contact.last_name),
        ] {
            if let Some(name) = name {
                words.add(group, text_words(name.as_ref()));
            }
        }
        if let Some(email) = contact.reach.email() {
            words.add(Group::Email, email_words(email.as_ref()));
        }
        if let Some(phone) = contact.reach.phone() {
            words.add(Group::Phone, phone_words(phone));
            words.add(Group::PhoneEnding, [phone_ending(phone)]);
        }
        for (id, value) in &contact.attributes {
            if let AttributeValue::Text(text) = value {
                words.add(Group::Attribute(id.clone()), text_words(text));
            }
        }
        words
    }

    /// Words as [`Self::tagged`] writes them; unknown tags are skipped.
    pub fn from_tagged(tagged: impl IntoIterator<Item = String>) -> Self {
        let mut words = Self::default();
        for tagged in tagged {
            if let Some((tag, word)) = tagged.split_once(' ')
                && let Some(group) = Group::from_tag(tag)
            {
                words.add(group, [word.to_owned()]);
            }
        }
        words
    }

    /// The words as stores keep them: each `<group tag> <word>` (a word
    /// has no spaces).
    pub fn tagged(&self) -> BTreeSet<String> {
        self.0
            .iter()
            .flat_map(|(group, words)| {
                let tag = group.tag();
                words.iter().map(move |word| format!("{tag} {word}"))
            })
            .collect()
    }

    /// The index keys that lead to this contact: one per distinct start of
    /// its words.
    pub fn keys(&self) -> BTreeSet<String> {
        self.0
            .iter()
            .flat_map(|(group, words)| words.iter().filter_map(|word| group.key(word)))
            .collect()
    }

    fn add(&mut self, group: Group, words: impl IntoIterator<Item = String>) {
        let entry = self.0.entry(group).or_default();
        entry.extend(words.into_iter().filter(|w| !w.is_empty()));
    }

    fn starts_with(&self, group: &Group, prefix: &str) -> bool {
        self.0.get(group).is_some_and(|words| {
            words
                .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
                .next()
                .is_some_and(|word| word.starts_with(prefix))
        })
    }
}

/// The words of a name or a text value: each whitespace-separated word,
/// and the parts of one joined by punctuation (`jean-luc` → `jean-luc`,
/// `jean`, `luc`).
fn text_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for word in fold(text).split_whitespace() {
        words.push(word.to_owned());
        let parts: Vec<&str> = word
            .split(|c: char| !c.is_alphanumeric())
            .filter(|part| !part.is_empty())
            .collect();
        if parts.len() > 1 || parts.first().is_some_and(|part| *part != word) {
            words.extend(parts.into_iter().map(str::to_owned));
        }
    }
    words
}

/// The words of a stored value of `group` (for a phone, its E.164 form).
pub fn group_words(group: &Group, value: &str) -> Vec<String> {
    match group {
        Group::FirstName | Group::LastName | Group::Attribute(_) => text_words(value),
        Group::Email => email_words(value),
        Group::Phone => phone_words(&PhoneNumber::from_stored(value.to_owned())),
        Group::PhoneEnding => vec![phone_ending(&PhoneNumber::from_stored(value.to_owned()))],
    }
}

/// The words of an email address: the whole address, the local part's
/// pieces between `.`, `_`, `-` and `+`, the domain and its labels.
fn email_words(email: &str) -> Vec<String> {
    let address = fold(email);
    let (local, domain) = address.rsplit_once('@').unwrap_or((&address, ""));
    let mut words = vec![address.clone(), domain.to_owned()];
    words.extend(
        local
            .split(['.', '_', '-', '+'])
            .chain(domain.split('.'))
            .map(str::to_owned),
    );
    words
}

/// A phone's words: its E.164 digits, significant number and national
/// format's digits.
fn phone_words(phone: &PhoneNumber) -> Vec<String> {
    let digits = phone.search_digits();
    let mut words = vec![digits.international];
    words.extend(digits.significant);
    words.extend(digits.national);
    words.sort_unstable();
    words.dedup();
    words
}

/// A phone's E.164 digits reversed.
fn phone_ending(phone: &PhoneNumber) -> String {
    phone
        .as_ref()
        .trim_start_matches('+')
        .chars()
        .rev()
        .collect()
}

/// What a search reads: a generic text field or a text custom attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Field(TextField),
    Attribute(AttributeId),
}

impl Target {
    fn groups(&self) -> Vec<Group> {
        match self {
            Target::Field(TextField::FullName) => vec![Group::FirstName, Group::LastName],
            Target::Field(TextField::FirstName) => vec![Group::FirstName],
            Target::Field(TextField::LastName) => vec![Group::LastName],
            Target::Field(TextField::Email) => vec![Group::Email],
            Target::Field(TextField::Phone) => vec![Group::Phone],
            Target::Attribute(id) => vec![Group::Attribute(id.clone())],
        }
    }
}

/// A word-prefix search of one field: its folded words (for a phone, its
/// digits), every one of which must start a word of the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordSearch {
    target: Target,
    words: Vec<String>,
    /// One per word: any of its alternatives (see [`Self::conditions`]).
    conditions: Vec<Vec<(Group, String)>>,
}

impl WordSearch {
    /// Reads search text for `target`: 1–255 characters without control
    /// characters; a phone search needs at least one digit and reads only
    /// the digits.
    pub fn parse(target: Target, raw: &str) -> Result<Self, InvalidValue> {
        let text = raw.trim();
        if text.chars().any(char::is_control) {
            return Err(InvalidValue("must not contain control characters".into()));
        }
        if text.chars().count() > MAX_CHARS {
            return Err(InvalidValue(format!(
                "must be at most {MAX_CHARS} characters"
            )));
        }
        let words: Vec<String> = if target == Target::Field(TextField::Phone) {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            if digits.is_empty() && !text.is_empty() {
                return Err(InvalidValue(
                    "a phone search is digits: the start of the number, or its last digits".into(),
                ));
            }
            vec![digits]
        } else {
            fold(text).split_whitespace().map(str::to_owned).collect()
        };
        if words.iter().all(String::is_empty) {
            return Err(InvalidValue("must not be empty".into()));
        }
        let conditions = conditions(&target, &words);
        Ok(Self {
            target,
            words,
            conditions,
        })
    }

    /// What the search reads.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The search's folded words.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// What must hold, one condition per word: any of its alternatives,
    /// each a group one of whose words must start with a prefix.
    pub fn conditions(&self) -> &[Vec<(Group, String)>] {
        &self.conditions
    }

    /// Whether a contact with these words matches.
    pub fn matches(&self, words: &ContactWords) -> bool {
        self.conditions.iter().all(|alternatives| {
            alternatives
                .iter()
                .any(|(group, prefix)| words.starts_with(group, prefix))
        })
    }

    /// The index keys whose entries hold every match of this search, from
    /// its longest word; `None` when no word is long enough for a key.
    pub fn keys(&self) -> Option<Vec<String>> {
        let word = self.words.iter().max_by_key(|w| w.chars().count())?;
        if self.is_phone() {
            return phone_keys(word);
        }
        Some(vec![Group::FirstName.key(word)?])
    }

    /// How many characters the longest word has: the more, the fewer
    /// contacts share its key.
    pub fn longest(&self) -> usize {
        self.words
            .iter()
            .map(|w| w.chars().count())
            .max()
            .unwrap_or(0)
    }

    fn is_phone(&self) -> bool {
        self.target == Target::Field(TextField::Phone)
    }
}

/// The conditions of a search of `words` in `target`: per word, its
/// groups starting with it, and for a phone its ending too.
fn conditions(target: &Target, words: &[String]) -> Vec<Vec<(Group, String)>> {
    let groups = target.groups();
    words
        .iter()
        .map(|word| {
            let mut alternatives: Vec<(Group, String)> =
                groups.iter().map(|g| (g.clone(), word.clone())).collect();
            if *target == Target::Field(TextField::Phone) {
                alternatives.push((Group::PhoneEnding, word.chars().rev().collect()));
            }
            alternatives
        })
        .collect()
}

/// The keys of a phone search for `digits`: their start (the key of a
/// number's E.164 digits, significant number and national format alike)
/// and their ending. `None` for fewer than [`PHONE_KEY_DIGITS`] digits.
fn phone_keys(digits: &str) -> Option<Vec<String>> {
    let ending: String = digits.chars().rev().collect();
    let mut keys = vec![Group::Phone.key(digits)?, Group::PhoneEnding.key(&ending)?];
    keys.sort_unstable();
    keys.dedup();
    Some(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Consent, Country, Email, ExternalId, MessagingId, Name, Reach, Timezone, now,
    };

    fn contact(first: &str, last: &str, email: &str, phone: Option<&str>) -> Contact {
        let email = Email::parse(email).ok();
        let phone = phone.map(|p| PhoneNumber::parse(p).expect("phone"));
        Contact {
            messaging_id: MessagingId::generate(),
            external_id: ExternalId::parse("x").ok(),
            first_name: Name::parse(first).ok(),
            last_name: Name::parse(last).ok(),
            reach: Reach::new(phone, email).expect("reach"),
            country: Country::parse("DE").ok(),
            timezone: Timezone::parse("Europe/Berlin").ok(),
            consent: Consent::default(),
            attributes: BTreeMap::new(),
            lists: BTreeSet::new(),
            created_at: now(),
            updated_at: now(),
            version: 1,
            imports: Vec::new(),
        }
    }

    fn finds(field: TextField, query: &str, contact: &Contact) -> bool {
        WordSearch::parse(Target::Field(field), query)
            .expect("query")
            .matches(&ContactWords::of(contact))
    }

    #[test]
    fn names_match_by_word_starts_ignoring_case_and_accents() {
        let jurgen = contact("Jürgen", "García-López", "j@example.com", None);
        assert!(finds(TextField::FirstName, "jur", &jurgen));
        assert!(finds(TextField::FirstName, "JÜR", &jurgen));
        assert!(finds(TextField::LastName, "gar", &jurgen));
        assert!(finds(TextField::LastName, "lop", &jurgen));
        assert!(finds(TextField::FullName, "jurgen garcia-l", &jurgen));
        assert!(!finds(TextField::FirstName, "urg", &jurgen));
        assert!(!finds(TextField::FirstName, "gar", &jurgen));
        let ann = contact("Ann", "Lee", "a@example.com", None);
        let moss = contact("Ann", "Moss", "m@example.com", None);
        assert!(finds(TextField::FullName, "ann le", &ann));
        assert!(!finds(TextField::FullName, "ann le", &moss));
    }

    #[test]
    fn emails_match_by_their_parts_and_whole() {
        let ann = contact("Ann", "Lee", "Ann.Lee+news@Example.co.uk", None);
        for query in [
            "ann",
            "lee",
            "news",
            "example",
            "co",
            "uk",
            "example.co.uk",
            "ann.lee+news@ex",
        ] {
            assert!(finds(TextField::Email, query, &ann), "{query}");
        }
        for query in ["nn", "ann.lee@ex", "xample"] {
            assert!(!finds(TextField::Email, query, &ann), "{query}");
        }
    }

    #[test]
    fn phones_match_by_start_national_form_or_ending() {
        let berlin = contact("A", "B", "a@example.com", Some("+4930901820"));
        for query in ["+49 30", "4930", "30 90", "030 901", "1820", "01820", "0"] {
            assert!(finds(TextField::Phone, query, &berlin), "{query}");
        }
        for query in ["309018200", "5555", "9090"] {
            assert!(!finds(TextField::Phone, query, &berlin), "{query}");
        }
        assert!(WordSearch::parse(Target::Field(TextField::Phone), "abc").is_err());
    }

    #[test]
    fn every_match_is_under_one_of_the_search_s_keys() {
        let c = contact(
            "Éloïse",
            "O'Brien",
            "eloise.obrien@mail.example",
            Some("+14155550143"),
        );
        let keys = ContactWords::of(&c).keys();
        for (field, query) in [
            (TextField::FirstName, "elo"),
            (TextField::LastName, "bri"),
            (TextField::LastName, "o'b"),
            (TextField::Email, "mail"),
            (TextField::Phone, "0143"),
            (TextField::Phone, "1415"),
            (TextField::Phone, "(415) 555"),
            (TextField::Phone, "+1 415 5"),
        ] {
            let search = WordSearch::parse(Target::Field(field), query).expect("query");
            assert!(search.matches(&ContactWords::of(&c)), "{query}");
            let wanted = search.keys().expect("keys");
            assert!(
                wanted.iter().any(|k| keys.contains(k)),
                "{query}: {wanted:?} in {keys:?}"
            );
        }
    }

    #[test]
    fn a_phone_is_found_under_its_significant_digits_whichever_form_is_searched() {
        for (number, queries) in [
            (
                "+4930901820",
                ["4930", "+49 30 9", "030 90", "3090", "1820"],
            ),
            (
                "+447911123456",
                ["447911", "07911", "7911", "23456", "+44 79"],
            ),
            (
                "+390612345678",
                ["3906", "0612", "06 1234", "+39 06", "5678"],
            ),
            ("+79123456789", ["7912", "8 9123", "9123", "89123", "6789"]),
            (
                "+14155550143",
                ["1415", "(415) 555", "4155", "0143", "550143"],
            ),
        ] {
            let c = contact("A", "B", "a@example.com", Some(number));
            let words = ContactWords::of(&c);
            let keys = words.keys();
            for query in queries {
                let search =
                    WordSearch::parse(Target::Field(TextField::Phone), query).expect("query");
                assert!(search.matches(&words), "{number} {query}");
                let wanted = search.keys().expect("keys");
                assert!(
                    wanted.iter().any(|k| keys.contains(k)),
                    "{number} {query}: {wanted:?} in {keys:?}"
                );
            }
        }
        let c = contact("A", "B", "a@example.com", Some("+4930901820"));
        let keys = ContactWords::of(&c).keys();
        for key in ["4930", "3090", "0309", "~0281"] {
            assert!(keys.contains(key), "{key} in {keys:?}");
        }
        for keyless in ["4", "0", "05", "912", "+49 3"] {
            let search =
                WordSearch::parse(Target::Field(TextField::Phone), keyless).expect("query");
            assert_eq!(search.keys(), None, "{keyless}");
        }
    }

    #[test]
    fn one_character_searches_have_no_key() {
        let search = WordSearch::parse(Target::Field(TextField::FullName), "a b").expect("query");
        assert_eq!(search.keys(), None);
        let search = WordSearch::parse(Target::Field(TextField::FullName), "a bo").expect("query");
        assert_eq!(search.keys(), Some(vec!["bo".to_owned()]));
    }

    #[test]
    fn words_round_trip_through_their_tags() {
        let c = contact("Ann", "Lee", "ann@example.com", Some("+4930901820"));
        let words = ContactWords::of(&c);
        assert_eq!(ContactWords::from_tagged(words.tagged()), words);
    }
}
