//! Duplicates: contacts that are probably one person, and why.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::{Contact, InvalidValue, MessagingId};

/// Why contacts are probably one person, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DuplicateReason {
    /// The same email address, ignoring case.
    SameEmail,
    /// The same phone number (E.164).
    SamePhone,
    /// Similar names and something else in common, as the last scan of the
    /// workspace found them (see [`super::similar`]).
    SimilarName,
}

impl DuplicateReason {
    /// Every reason, strongest first.
    pub const ALL: [DuplicateReason; 3] = [
        DuplicateReason::SameEmail,
        DuplicateReason::SamePhone,
        DuplicateReason::SimilarName,
    ];

    /// The reasons stores note as contacts are written: a value shared.
    pub const SHARED_VALUES: [DuplicateReason; 2] =
        [DuplicateReason::SameEmail, DuplicateReason::SamePhone];

    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            DuplicateReason::SameEmail => "same_email",
            DuplicateReason::SamePhone => "same_phone",
            DuplicateReason::SimilarName => "similar_name",
        }
    }

    /// The reason called `raw`.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|r| r.as_str()).collect();
                InvalidValue(format!("must be one of {}", names.join(", ")))
            })
    }

    /// Where its groups start in the order of duplicates.
    pub fn rank(self) -> char {
        match self {
            DuplicateReason::SameEmail => '0',
            DuplicateReason::SamePhone => '1',
            DuplicateReason::SimilarName => '2',
        }
    }

    /// The value `contact` holds for this reason: its email in lower case,
    /// or its phone number (none for similar names, which share no value).
    pub fn value_of(self, contact: &Contact) -> Option<String> {
        match self {
            DuplicateReason::SameEmail => contact.reach.email().map(|e| e.as_ref().to_lowercase()),
            DuplicateReason::SamePhone => contact.reach.phone().map(|p| p.as_ref().to_owned()),
            DuplicateReason::SimilarName => None,
        }
    }
}

/// A value more than one contact held when one of them was last written,
/// and when that was; for similar names, the first Messaging ID of the
/// group (see [`SimilarGroup::key`]) and its newest contact's last change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    pub reason: DuplicateReason,
    pub value: String,
    pub joined: DateTime<Utc>,
}

impl DuplicateKey {
    /// Its place in the order of duplicates, as one string that sorts it:
    /// strongest reason first, then the most recently joined, then by value.
    pub fn position(&self) -> String {
        let newest_first = i64::MAX - self.joined.timestamp_micros();
        format!("{}#{newest_first:019}#{}", self.reason.rank(), self.value)
    }

    /// The key at `position`.
    pub fn from_position(position: &str) -> Option<Self> {
        let mut parts = position.splitn(3, '#');
        let (rank, time, value) = (parts.next()?, parts.next()?, parts.next()?);
        let reason = DuplicateReason::ALL
            .into_iter()
            .find(|r| rank.chars().eq([r.rank()]))?;
        let micros = i64::MAX - time.parse::<i64>().ok()?;
        Some(Self {
            reason,
            value: value.to_owned(),
            joined: DateTime::from_timestamp_micros(micros)?,
        })
    }
}

/// A group of contacts a scan found with similar names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimilarGroup {
    pub members: ContactSet,
    /// The latest change among its contacts.
    pub joined: DateTime<Utc>,
}

impl SimilarGroup {
    /// Its key: named by its first Messaging ID, which no other group of
    /// the same scan holds (a contact is in one group at most).
    pub fn key(&self) -> DuplicateKey {
        DuplicateKey {
            reason: DuplicateReason::SimilarName,
            value: self
                .members
                .ids()
                .next()
                .map(ToString::to_string)
                .unwrap_or_default(),
            joined: self.joined,
        }
    }
}

/// The most contacts one group of duplicates shows, and one dismissal names.
pub const MAX_GROUP: usize = 50;

/// Contacts someone said are not one person: 2 to [`MAX_GROUP`] distinct
/// Messaging IDs, in order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ContactSet(BTreeSet<MessagingId>);

impl ContactSet {
    /// The set of `ids`, which must be distinct.
    pub fn new(ids: impl IntoIterator<Item = MessagingId>) -> Result<Self, InvalidValue> {
        let ids: Vec<MessagingId> = ids.into_iter().collect();
        let set: BTreeSet<MessagingId> = ids.iter().cloned().collect();
        if set.len() != ids.len() {
            return Err(InvalidValue("names a contact more than once".into()));
        }
        if !(2..=MAX_GROUP).contains(&set.len()) {
            return Err(InvalidValue(format!("must name 2 to {MAX_GROUP} contacts")));
        }
        Ok(Self(set))
    }

    /// The set a [`ContactSet::key`] names.
    pub fn from_key(key: &str) -> Result<Self, InvalidValue> {
        let ids = key.split(',').map(MessagingId::parse);
        Self::new(ids.collect::<Result<Vec<_>, _>>()?)
    }

    /// Its IDs, in order.
    pub fn ids(&self) -> impl Iterator<Item = &MessagingId> {
        self.0.iter()
    }

    /// The set as one string: its IDs in order, comma-separated.
    pub fn key(&self) -> String {
        self.0
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<&str>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn positions_sort_by_reason_then_newest_and_read_back() {
        let key = |reason, second| DuplicateKey {
            reason,
            value: "ann@example.com".into(),
            joined: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, second).unwrap(),
        };
        let newer = key(DuplicateReason::SameEmail, 9);
        let older = key(DuplicateReason::SameEmail, 1);
        let phone = key(DuplicateReason::SamePhone, 30);
        assert!(newer.position() < older.position());
        assert!(older.position() < phone.position());
        assert_eq!(DuplicateKey::from_position(&phone.position()), Some(phone));
        assert_eq!(DuplicateKey::from_position("9#1#x"), None);
    }

    #[test]
    fn a_set_names_two_to_fifty_distinct_contacts() {
        let ids: Vec<MessagingId> = (0..51).map(|_| MessagingId::generate()).collect();
        assert!(ContactSet::new(ids[..1].to_vec()).is_err());
        assert!(ContactSet::new(ids.clone()).is_err());
        assert!(ContactSet::new([ids[0].clone(), ids[0].clone()]).is_err());
        let set = ContactSet::new([ids[1].clone(), ids[0].clone()]).unwrap();
        assert_eq!(set, ContactSet::new(ids[..2].to_vec()).unwrap());
        assert_eq!(set.key().split(',').count(), 2);
    }
}
