//! Similar names: contacts whose names are the same once folded, or one
//! typing slip apart, and that have something else in common (a country,
//! an email domain, or a phone's last digits).
//!
//! An email domain millions share (`gmail.com`, `outlook.com`, …) counts
//! as nothing in common.
//!
//! A name is folded to lower case without accents, its words in order
//! (`Müller, Zoë` and `zoe muller` are the same name). Names of five
//! characters or more may differ by one edit: a letter added, dropped or
//! changed, or two neighbours swapped (`Jon`/`John`, `Jhon`/`John`);
//! shorter ones must be equal. Only full names count: two words or more,
//! or one word in a script written without spaces (`王小明`, `김민수`).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use unicode_normalization::UnicodeNormalization;

use super::{Contact, MAX_GROUP};

/// How many of a phone's last digits count as its ending.
pub const PHONE_ENDING_DIGITS: usize = 4;
/// Names at least this long (in characters, spaces aside) may differ by one edit.
pub const TOLERANT_FROM: usize = 5;
/// Contacts sharing one name (or one name less a letter) beyond this many
/// are not compared: a name that common is no sign of one person.
pub const MAX_BLOCK: usize = 1_000;
/// Email domains millions share: having one in common is no sign.
const FREE_MAIL: [&str; 16] = [
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "icloud.com",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.ru",
    "yandex.ru",
    "qq.com",
    "163.com",
    "proton.me",
];

/// The comparisons are made in this many rounds, each over a share of the
/// names' variants, to bound the memory one round takes.
const ROUNDS: u64 = 4;

/// What a contact is compared by, compactly (a scan holds one per contact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traits {
    /// The folded name, its words sorted and joined by one space.
    name: Box<str>,
    country: Option<[u8; 2]>,
    /// A hash of the email's domain, in lower case.
    domain: Option<u64>,
    /// The phone's last [`PHONE_ENDING_DIGITS`] digits.
    phone_ending: Option<u16>,
}

impl Traits {
    /// The traits of `contact`; `None` when it has no full name.
    pub fn of(contact: &Contact) -> Option<Self> {
        Some(Self {
            name: folded_name(&contact.full_name()?)?,
            country: contact
                .country
                .as_ref()
                .and_then(|c| country_code(c.as_ref())),
            domain: contact
                .reach
                .email()
                .and_then(|e| e.as_ref().rsplit_once('@'))
                .map(|(_, domain)| domain.to_lowercase())
                .filter(|domain| !FREE_MAIL.contains(&domain.as_str()))
                .map(|domain| domain_hash(&domain)),
            phone_ending: contact.reach.phone().and_then(|p| phone_ending(p.as_ref())),
        })
    }

    /// Whether `self` and `other` are probably one person by their names.
    pub fn similar(&self, other: &Self) -> bool {
        self.share_something(other) && names_match(&self.name, &other.name)
    }

    fn share_something(&self, other: &Self) -> bool {
        fn same<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
            a.is_some() && a == b
        }
        same(&self.country, &other.country)
            || same(&self.domain, &other.domain)
            || same(&self.phone_ending, &other.phone_ending)
    }

    /// The name itself and, when it may differ by an edit, the name less
    /// each one of its letters: two names one edit apart share one of these.
    fn variants(&self) -> Vec<String> {
        let chars: Vec<char> = self.name.chars().collect();
        let mut variants = vec![self.name.to_string()];
        if letters(&self.name) >= TOLERANT_FROM {
            for skip in 0..chars.len() {
                let variant: String = chars
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .map(|(_, c)| c)
                    .collect();
                if variants.last() != Some(&variant) {
                    variants.push(variant);
                }
            }
        }
        variants
    }
}

/// `full` folded, its words sorted; `None` unless it is a full name.
fn folded_name(full: &str) -> Option<Box<str>> {
    // Composed again after folding: Hangul syllables come apart into
    // letters otherwise.
    let folded: String = crate::search::fold(full).nfc().collect();
    let mut words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let full_name = words.len() >= 2
        || words
            .first()
            .is_some_and(|w| w.chars().count() >= 2 && w.chars().all(unspaced_script));
    words.sort_unstable();
    full_name.then(|| words.join(" ").into())
}

fn country_code(code: &str) -> Option<[u8; 2]> {
    code.as_bytes().try_into().ok()
}

fn domain_hash(domain: &str) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    domain.to_lowercase().hash(&mut hasher);
    hasher.finish()
}

fn phone_ending(phone: &str) -> Option<u16> {
    let start = phone.len().checked_sub(PHONE_ENDING_DIGITS)?;
    phone.get(start..)?.parse().ok()
}

/// Scripts whose names are written without spaces between their parts.
fn unspaced_script(c: char) -> bool {
    matches!(u32::from(c),
        0x3040..=0x30FF // Hiragana, Katakana
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF // Han
        | 0xAC00..=0xD7AF // Hangul
        | 0x0E00..=0x0E7F) // Thai
}

fn letters(name: &str) -> usize {
    name.chars().filter(|c| *c != ' ').count()
}

/// Equal, or one edit apart when both are long enough to allow one.
fn names_match(a: &str, b: &str) -> bool {
    a == b || (letters(a).min(letters(b)) >= TOLERANT_FROM && strsim::osa_distance(a, b) <= 1)
}

/// Contacts found to be one person, by their indexes in what was compared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grouping {
    /// Each group's indexes in order, 2 to [`MAX_GROUP`] of them.
    pub groups: Vec<Vec<usize>>,
    /// Contacts left out because their name was too common: in a block of
    /// more than [`MAX_BLOCK`], or a group of more than [`MAX_GROUP`].
    pub too_common: usize,
}

/// Groups `people` by similar names: a group joins every contact similar
/// to another of it. Each contact is compared only with those sharing its
/// name or its name less one letter, so the work grows with the number of
/// contacts, not its square.
pub fn group(people: &[Traits]) -> Grouping {
    let mut joined = Joined::new(people.len());
    let mut common = vec![false; people.len()];
    let hasher = RandomState::new();
    for round in 0..ROUNDS {
        let mut keys: Vec<(u64, u32)> = Vec::new();
        for (i, person) in people.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            for variant in person.variants() {
                let hash = hasher.hash_one(&variant);
                if hash % ROUNDS == round {
                    keys.push((hash, i));
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        for block in keys.chunk_by(|a, b| a.0 == b.0) {
            let members: Vec<usize> = block.iter().map(|(_, i)| *i as usize).collect();
            if members.len() > MAX_BLOCK {
                members.iter().for_each(|&i| common[i] = true);
                continue;
            }
            for (n, &a) in members.iter().enumerate() {
                for &b in &members[n + 1..] {
                    if joined.root(a) != joined.root(b) && people[a].similar(&people[b]) {
                        joined.join(a, b);
                    }
                }
            }
        }
    }
    let mut components: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in 0..people.len() {
        components.entry(joined.root(i)).or_default().push(i);
    }
    let mut grouping = Grouping::default();
    for members in components.into_values() {
        if members.len() > MAX_GROUP {
            grouping.too_common += members.len();
        } else if members.len() > 1 {
            grouping.groups.push(members);
        } else if members.iter().any(|&i| common[i]) {
            grouping.too_common += 1;
        }
    }
    grouping
}

/// Disjoint sets of indexes (union by size, path halving).
struct Joined {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl Joined {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn root(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn join(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.root(a), self.root(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A contact's traits: `name` as written, what else it holds as given.
    fn person(name: &str, country: &str, domain: &str, phone: &str) -> Traits {
        Traits {
            name: folded_name(name).unwrap(),
            country: country_code(country),
            domain: (!domain.is_empty()).then(|| domain_hash(domain)),
            phone_ending: phone_ending(phone),
        }
    }

    #[test]
    fn names_fold_case_accents_and_word_order_and_need_two_words_or_an_unspaced_script() {
        assert_eq!(folded_name("Zoë Müller"), folded_name("MÜLLER, zoe"));
        assert_eq!(folded_name("Zoë Müller").as_deref(), Some("muller zoe"));
        assert_eq!(folded_name("Ann"), None);
        assert_eq!(folded_name("王小明").as_deref(), Some("王小明"));
        assert_eq!(folded_name("김민수").as_deref(), Some("김민수"));
        assert_eq!(folded_name("王"), None);
    }

    #[test]
    fn the_traits_of_a_contact_are_its_country_email_domain_and_phone_ending() {
        let new = crate::model::NewContact {
            first_name: crate::model::Name::parse("Zoë").ok(),
            last_name: crate::model::Name::parse("Müller").ok(),
            reach: crate::model::Reach::new(
                crate::model::PhoneNumber::parse("+4930901820").ok(),
                crate::model::Email::parse("Zoe@Example.DE").ok(),
            )
            .unwrap(),
            country: crate::model::Country::parse("de").ok(),
            external_id: None,
            timezone: None,
            consent: Vec::new(),
            attributes: Default::default(),
            lists: Default::default(),
        };
        let source = crate::model::ConsentSource::api();
        let (contact, _) = Contact::create(new, &source, crate::model::now()).unwrap();
        assert_eq!(
            Traits::of(&contact),
            Some(person("Zoe Muller", "DE", "EXAMPLE.de", "+4930901820"))
        );
        let mut at_gmail = contact.clone();
        at_gmail.reach =
            crate::model::Reach::new(None, crate::model::Email::parse("zoe@GMail.com").ok())
                .unwrap();
        at_gmail.country = None;
        assert_eq!(
            Traits::of(&at_gmail),
            Some(person("Zoe Muller", "", "", ""))
        );
    }

    #[test]
    fn one_edit_apart_is_similar_when_something_else_is_shared() {
        let john = person("John Smith", "US", "acme.com", "");
        for other in [
            person("Jon Smith", "US", "", ""),
            person("Jhon Smith", "", "acme.com", ""),
            person("John Smyth", "US", "", ""),
            person("Smith John", "US", "", ""),
        ] {
            assert!(john.similar(&other), "{other:?}");
        }
        for other in [
            person("Jon Smith", "GB", "other.com", ""),
            person("Joan Smithe", "US", "", ""),
        ] {
            assert!(!john.similar(&other), "{other:?}");
        }
    }

    #[test]
    fn a_phone_ending_counts_as_something_shared() {
        let a = person("Ana Lima", "", "", "+5511987654321");
        assert!(a.similar(&person("Ana Lima", "", "", "+351912344321")));
        assert!(!a.similar(&person("Ana Lima", "", "", "+351912344322")));
    }

    #[test]
    fn short_names_must_be_equal_in_any_script() {
        assert!(!person("Al Li", "US", "", "").similar(&person("Al Lu", "US", "", "")));
        assert!(person("王小明", "CN", "", "").similar(&person("王小明", "CN", "", "")));
        assert!(!person("김민수", "KR", "", "").similar(&person("김민서", "KR", "", "")));
        let dmitry = person("Дмитрий Иванов", "RU", "", "");
        assert!(dmitry.similar(&person("ДМИТРИЙ Иванв", "RU", "", "")));
    }

    #[test]
    fn the_largest_group_shown_is_one_of_fifty() {
        let people = vec![person("Ana Lima", "BR", "", ""); MAX_GROUP];
        assert_eq!(
            group(&people).groups,
            vec![(0..MAX_GROUP).collect::<Vec<_>>()]
        );
    }

    #[test]
    fn groups_join_chains_and_leave_out_the_unrelated_and_the_too_common() {
        let mut people = vec![
            person("John Smith", "US", "", ""),
            person("Jon Smith", "US", "", ""),
            person("Jon Smyth", "US", "", ""),
            person("Maria Garcia", "MX", "", ""),
            person("Maria Garcia", "ES", "", ""),
            person("Élodie Durand", "", "a.fr", ""),
            person("Elodie Durand", "", "a.fr", ""),
        ];
        let grouping = group(&people);
        assert_eq!(grouping.groups, vec![vec![0, 1, 2], vec![5, 6]]);
        assert_eq!(grouping.too_common, 0);
        let common = person("Wei Zhang", "CN", "", "");
        people.extend(std::iter::repeat_n(common, MAX_GROUP + 1));
        let grouping = group(&people);
        assert_eq!(grouping.groups.len(), 2);
        assert_eq!(grouping.too_common, MAX_GROUP + 1);
    }
}
