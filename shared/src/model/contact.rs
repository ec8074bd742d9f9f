use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{
    AttributeId, AttributeValue, Channel, Consent, ConsentChange, ConsentChoice, ConsentSource,
    Country, Email, ExternalId, ListId, MessagingId, Name, PhoneNumber, Timezone,
};
use crate::error::{Error, FieldError};

/// How a contact can be reached: a phone number, an email address, or both —
/// never neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Phone(PhoneNumber),
    Email(Email),
    Both(PhoneNumber, Email),
}

impl Reach {
    /// Combines an optional phone and email, refusing a contact with neither.
    pub fn new(phone: Option<PhoneNumber>, email: Option<Email>) -> Result<Self, Error> {
        match (phone, email) {
            (Some(p), Some(e)) => Ok(Self::Both(p, e)),
            (Some(p), None) => Ok(Self::Phone(p)),
            (None, Some(e)) => Ok(Self::Email(e)),
            (None, None) => {
                let message = "a contact needs a phone number or an email address";
                Err(Error::Validation(vec![
                    FieldError::new("phone", message),
                    FieldError::new("email", message),
                ]))
            }
        }
    }

    /// The phone number, if any.
    pub fn phone(&self) -> Option<&PhoneNumber> {
        match self {
            Self::Phone(p) | Self::Both(p, _) => Some(p),
            Self::Email(_) => None,
        }
    }

    /// The email address, if any.
    pub fn email(&self) -> Option<&Email> {
        match self {
            Self::Email(e) | Self::Both(_, e) => Some(e),
            Self::Phone(_) => None,
        }
    }
}

/// A change to one optional field: keep it, clear it, or set it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    /// Validates the value of a `Set`.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Patch<U>, E> {
        Ok(match self {
            Patch::Keep => Patch::Keep,
            Patch::Clear => Patch::Clear,
            Patch::Set(value) => Patch::Set(f(value)?),
        })
    }

    /// The field's value after this change.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Keep => current,
            Patch::Clear => None,
            Patch::Set(value) => Some(value),
        }
    }
}

/// Absent → `Keep` (with `#[serde(default)]`), `null` → `Clear`, a value → `Set`.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(|value| value.map_or(Patch::Clear, Patch::Set))
    }
}

/// A contact as the user submits it, before the system assigns anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    /// Required by the API and the form; an import may create a contact
    /// without one, identified by its email or phone.
    pub external_id: Option<ExternalId>,
    pub first_name: Option<Name>,
    pub last_name: Option<Name>,
    pub reach: Reach,
    pub country: Option<Country>,
    pub timezone: Option<Timezone>,
    pub consent: Vec<(Channel, ConsentChoice)>,
    pub attributes: BTreeMap<AttributeId, AttributeValue>,
    pub lists: BTreeSet<ListId>,
}

/// The most lists one contact may belong to. A contact's memberships are
/// written with it in one transaction; on DynamoDB, moving a contact from 20
/// lists to 20 others is 86 writes of the 100 a transaction allows.
pub const MAX_LISTS_PER_CONTACT: usize = 20;

fn check_lists(lists: &BTreeSet<ListId>) -> Result<(), Error> {
    if lists.len() > MAX_LISTS_PER_CONTACT {
        return Err(Error::invalid(
            "lists",
            format!("a contact can belong to at most {MAX_LISTS_PER_CONTACT} lists"),
        ));
    }
    Ok(())
}

/// An edit of a contact's generic attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactChanges {
    /// A new External ID (`None` keeps the current one, which may be none).
    pub external_id: Option<ExternalId>,
    pub first_name: Patch<Name>,
    pub last_name: Patch<Name>,
    pub phone: Patch<PhoneNumber>,
    pub email: Patch<Email>,
    pub country: Patch<Country>,
    pub timezone: Patch<Timezone>,
    /// Custom values to set (`Some`) or clear (`None`); others are kept.
    pub attributes: BTreeMap<AttributeId, Option<AttributeValue>>,
    /// The lists the contact belongs to, replacing the current ones.
    pub lists: Option<BTreeSet<ListId>>,
}

/// An import that changed a contact, and when it first did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct ImportMark {
    pub import_id: String,
    pub at: DateTime<Utc>,
}

/// A stored contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub messaging_id: MessagingId,
    /// The ID in the user's own systems; none for a contact an import created
    /// from an email or phone, until someone sets one.
    pub external_id: Option<ExternalId>,
    pub first_name: Option<Name>,
    pub last_name: Option<Name>,
    pub reach: Reach,
    pub country: Option<Country>,
    pub timezone: Option<Timezone>,
    pub consent: Consent,
    /// Custom attribute values, by the ID of their definition.
    pub attributes: BTreeMap<AttributeId, AttributeValue>,
    pub lists: BTreeSet<ListId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Starts at 1 and grows by one with every stored change.
    pub version: u64,
    /// The imports that changed it, oldest first (the latest
    /// [`Contact::MAX_IMPORT_MARKS`]); the one that created it, if one did,
    /// its Messaging ID names.
    pub imports: Vec<ImportMark>,
}

impl Contact {
    /// A contact for `new`, with a fresh Messaging ID, and the consent it records.
    pub fn create(
        new: NewContact,
        source: &ConsentSource,
        now: DateTime<Utc>,
    ) -> Result<(Self, Vec<ConsentChange>), Error> {
        check_lists(&new.lists)?;
        let mut consent = Consent::default();
        let changes = new
            .consent
            .iter()
            .filter_map(|&(channel, choice)| consent.record(channel, choice, source, now))
            .collect();
        let contact = Self {
            messaging_id: MessagingId::generate(),
            external_id: new.external_id,
            first_name: new.first_name,
            last_name: new.last_name,
            reach: new.reach,
            country: new.country,
            timezone: new.timezone,
            consent,
            attributes: new.attributes,
            lists: new.lists,
            created_at: now,
            updated_at: now,
            version: 1,
            imports: Vec::new(),
        };
        Ok((contact, changes))
    }

    /// The most imports a contact remembers.
    pub const MAX_IMPORT_MARKS: usize = 20;

    /// Notes that the import `import_id` changed it at `at`
    /// (once per import; the oldest mark goes past the most kept).
    pub fn mark_import(&mut self, import_id: &str, at: DateTime<Utc>) {
        if self.imports.iter().any(|m| m.import_id == import_id) {
            return;
        }
        self.imports.push(ImportMark {
            import_id: import_id.to_owned(),
            at,
        });
        let excess = self.imports.len().saturating_sub(Self::MAX_IMPORT_MARKS);
        self.imports.drain(..excess);
    }

    /// "First Last", derived from the two names.
    pub fn full_name(&self) -> Option<String> {
        Name::full(self.first_name.as_ref(), self.last_name.as_ref())
    }

    /// This contact with `changes` applied, as the next version.
    pub fn edited(&self, changes: ContactChanges, now: DateTime<Utc>) -> Result<Self, Error> {
        let reach = Reach::new(
            changes.phone.apply(self.reach.phone().cloned()),
            changes.email.apply(self.reach.email().cloned()),
        )?;
        let lists = changes.lists.unwrap_or_else(|| self.lists.clone());
        check_lists(&lists)?;
        let mut attributes = self.attributes.clone();
        for (id, value) in changes.attributes {
            match value {
                Some(value) => attributes.insert(id, value),
                None => attributes.remove(&id),
            };
        }
        Ok(Self {
            external_id: changes.external_id.or_else(|| self.external_id.clone()),
            first_name: changes.first_name.apply(self.first_name.clone()),
            last_name: changes.last_name.apply(self.last_name.clone()),
            reach,
            country: changes.country.apply(self.country.clone()),
            timezone: changes.timezone.apply(self.timezone.clone()),
            attributes,
            lists,
            ..self.next_version(now)
        })
    }

    /// This contact with `choices` recorded, as the next version, and the
    /// changes that makes (none when every choice was already recorded).
    pub fn with_consent(
        &self,
        choices: &[(Channel, ConsentChoice)],
        source: &ConsentSource,
        now: DateTime<Utc>,
    ) -> (Self, Vec<ConsentChange>) {
        let mut next = self.next_version(now);
        let changes: Vec<_> = choices
            .iter()
            .filter_map(|&(channel, choice)| next.consent.record(channel, choice, source, now))
            .collect();
        if changes.is_empty() {
            (self.clone(), changes)
        } else {
            (next, changes)
        }
    }

    fn next_version(&self, now: DateTime<Utc>) -> Self {
        Self {
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Contact {
        let new = NewContact {
            external_id: ExternalId::parse("crm-1").ok(),
            first_name: Name::parse("Ann").ok(),
            last_name: Name::parse("Lee").ok(),
            reach: Reach::new(PhoneNumber::parse("+12345678902").ok(), None).unwrap(),
            country: None,
            timezone: None,
            consent: vec![(Channel::Sms, ConsentChoice::Subscribed)],
            attributes: BTreeMap::new(),
            lists: BTreeSet::new(),
        };
        let (contact, changes) = Contact::create(new, &ConsentSource::api(), Utc::now()).unwrap();
        assert_eq!(changes.len(), 1);
        contact
    }

    #[test]
    fn an_import_is_marked_once_and_only_the_latest_are_kept() {
        let mut c = sample();
        let at = Utc::now();
        c.mark_import("first", at);
        c.mark_import("first", at + chrono::Duration::minutes(1));
        assert_eq!(c.imports.len(), 1);
        assert_eq!(c.imports[0].at, at, "the time it first did");
        for i in 0..Contact::MAX_IMPORT_MARKS {
            c.mark_import(&format!("later-{i}"), at);
        }
        assert_eq!(c.imports.len(), Contact::MAX_IMPORT_MARKS);
        assert_eq!(c.imports[0].import_id, "later-0", "the oldest went");
    }

    #[test]
    fn full_name_joins_what_is_present() {
        let mut c = sample();
        assert_eq!(c.full_name().as_deref(), Some("Ann Lee"));
        c.first_name = None;
        assert_eq!(c.full_name().as_deref(), Some("Lee"));
        c.last_name = None;
        assert_eq!(c.full_name(), None);
    }

    #[test]
    fn an_edit_may_not_leave_a_contact_unreachable() {
        let c = sample();
        let changes = ContactChanges {
            phone: Patch::Clear,
            ..Default::default()
        };
        assert!(matches!(c.edited(changes, Utc::now()), Err(Error::Validation(e)) if e.len() == 2));
    }

    #[test]
    fn an_edit_bumps_the_version_and_keeps_the_identity() {
        let c = sample();
        let changes = ContactChanges {
            email: Patch::Set(Email::parse("ann@example.com").unwrap()),
            first_name: Patch::Clear,
            ..Default::default()
        };
        let edited = c.edited(changes, Utc::now()).unwrap();
        assert_eq!(edited.version, 2);
        assert_eq!(edited.messaging_id, c.messaging_id);
        assert_eq!(edited.first_name, None);
        assert_eq!(edited.reach.phone(), c.reach.phone());
    }

    #[test]
    fn a_contact_belongs_to_at_most_twenty_lists() {
        let c = sample();
        let lists = |n| (0..n).map(|_| ListId::generate()).collect::<BTreeSet<_>>();
        let at_most = ContactChanges {
            lists: Some(lists(MAX_LISTS_PER_CONTACT)),
            ..Default::default()
        };
        assert!(c.edited(at_most, Utc::now()).is_ok());
        let too_many = ContactChanges {
            lists: Some(lists(MAX_LISTS_PER_CONTACT + 1)),
            ..Default::default()
        };
        assert!(
            matches!(c.edited(too_many, Utc::now()), Err(Error::Validation(e)) if e[0].field == "lists")
        );
    }

    #[test]
    fn recording_unchanged_consent_is_no_new_version() {
        let c = sample();
        let (same, changes) = c.with_consent(
            &[(Channel::Sms, ConsentChoice::Subscribed)],
            &ConsentSource::api(),
            Utc::now(),
        );
        assert!(changes.is_empty());
        assert_eq!(same, c);
    }
}
