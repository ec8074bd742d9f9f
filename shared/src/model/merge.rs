//! Merging duplicates into one contact: which value each field keeps, what
//! consent the survivor ends with, and what the merge records.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::{
    AttributeId, Channel, ConsentChange, ConsentSource, ConsentStatus, Contact, ExternalId,
    MAX_LISTS_PER_CONTACT, MessagingId, Reach,
};
use crate::error::{Collector, Error, FieldError};

/// The most contacts merged into one survivor at once.
pub const MAX_MERGED: usize = 9;

/// A field a merge takes from one of its contacts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MergeField {
    FirstName,
    LastName,
    Phone,
    Email,
    Country,
    Timezone,
    Attribute(AttributeId),
}

impl MergeField {
    /// The generic fields a merge chooses, by their names in the API.
    pub const GENERIC: [(&'static str, MergeField); 6] = [
        ("first_name", MergeField::FirstName),
        ("last_name", MergeField::LastName),
        ("phone", MergeField::Phone),
        ("email", MergeField::Email),
        ("country", MergeField::Country),
        ("timezone", MergeField::Timezone),
    ];

    /// The generic field called `name`.
    pub fn generic(name: &str) -> Option<Self> {
        Self::GENERIC
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, field)| field.clone())
    }

    /// Its name in the API, for a generic field.
    pub fn name(&self) -> Option<&'static str> {
        Self::GENERIC
            .iter()
            .find(|(_, field)| field == self)
            .map(|(name, _)| *name)
    }

    /// Every field any of `contacts` holds, generic fields first.
    pub fn every(contacts: &[Contact]) -> Vec<MergeField> {
        let mut fields: Vec<MergeField> = Self::GENERIC.iter().map(|(_, f)| f.clone()).collect();
        let attributes: std::collections::BTreeSet<&AttributeId> =
            contacts.iter().flat_map(|c| c.attributes.keys()).collect();
        fields.extend(attributes.into_iter().cloned().map(MergeField::Attribute));
        fields
    }

    /// The contact this field comes from when none is chosen: the survivor
    /// when it holds a value, else the most recently updated merged
    /// contact that does.
    pub fn default_source<'a>(
        &self,
        survivor: &'a Contact,
        merged: &'a [Contact],
    ) -> Option<&'a Contact> {
        let mut newest_first: Vec<&Contact> = merged.iter().collect();
        newest_first.sort_by_key(|c| std::cmp::Reverse(c.updated_at));
        std::iter::once(survivor)
            .chain(newest_first)
            .find(|c| self.is_set(c))
    }

    fn is_set(&self, contact: &Contact) -> bool {
        match self {
            MergeField::FirstName => contact.first_name.is_some(),
            MergeField::LastName => contact.last_name.is_some(),
            MergeField::Phone => contact.reach.phone().is_some(),
            MergeField::Email => contact.reach.email().is_some(),
            MergeField::Country => contact.country.is_some(),
            MergeField::Timezone => contact.timezone.is_some(),
            MergeField::Attribute(id) => contact.attributes.contains_key(id),
        }
    }

    /// Copies this field's value (or its absence) from `from` into `into`;
    /// the reach is put together afterwards, from `phone` and `email`.
    fn copy(&self, from: &Contact, into: &mut Draft) {
        match self {
            MergeField::FirstName => into.contact.first_name = from.first_name.clone(),
            MergeField::LastName => into.contact.last_name = from.last_name.clone(),
            MergeField::Phone => into.phone = from.reach.phone().cloned(),
            MergeField::Email => into.email = from.reach.email().cloned(),
            MergeField::Country => into.contact.country = from.country.clone(),
            MergeField::Timezone => into.contact.timezone = from.timezone.clone(),
            MergeField::Attribute(id) => match from.attributes.get(id) {
                Some(value) => {
                    into.contact.attributes.insert(id.clone(), value.clone());
                }
                None => {
                    into.contact.attributes.remove(id);
                }
            },
        }
    }
}

/// The survivor while its fields are chosen.
struct Draft {
    contact: Contact,
    phone: Option<super::PhoneNumber>,
    email: Option<super::Email>,
}

/// When each channel's consent was last recorded for one contact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastChanges([Option<DateTime<Utc>>; 3]);

impl LastChanges {
    /// Notes `change` unless a later one on its channel was noted.
    pub fn note(&mut self, change: &ConsentChange) {
        let slot = &mut self.0[slot(change.channel)];
        if slot.is_none_or(|at| at < change.at) {
            *slot = Some(change.at);
        }
    }

    /// Whether every channel has a change noted.
    pub fn complete(&self) -> bool {
        self.0.iter().all(Option::is_some)
    }

    fn at(&self, channel: Channel) -> Option<DateTime<Utc>> {
        self.0[slot(channel)]
    }
}

fn slot(channel: Channel) -> usize {
    match channel {
        Channel::Sms => 0,
        Channel::Whatsapp => 1,
        Channel::Email => 2,
    }
}

/// What a merge asks for: a survivor, the contacts merged into it, and the
/// contact each chosen field comes from.
#[derive(Debug, Clone)]
pub struct MergeRequest {
    pub survivor: MessagingId,
    pub merge: Vec<MessagingId>,
    pub fields: BTreeMap<MergeField, MessagingId>,
    /// The version each contact was shown at; a contact changed since is
    /// refused rather than merged.
    pub versions: BTreeMap<MessagingId, u64>,
}

impl MergeRequest {
    /// Checks the shape of a request: 1–9 other contacts, each once, and
    /// every version naming one of the merge's contacts. (A choice naming
    /// none of them is left to the edge, which knows the fields' names.)
    pub fn check(&self) -> Result<(), Error> {
        let mut errors = Collector::default();
        if self.merge.is_empty() || self.merge.len() > MAX_MERGED {
            errors.push(
                "merge",
                format!("name 1 to {MAX_MERGED} contacts to merge into the survivor"),
            );
        }
        for (n, id) in self.merge.iter().enumerate() {
            if *id == self.survivor {
                errors.push(
                    format!("merge[{n}]"),
                    "the survivor can't be merged into itself",
                );
            } else if self.merge[..n].contains(id) {
                errors.push(format!("merge[{n}]"), format!("{id} is named twice"));
            }
        }
        for id in self.versions.keys().filter(|id| !self.names(id)) {
            errors.push(format!("versions.{id}"), "not one of the contacts merged");
        }
        errors.finish()
    }

    /// Whether `id` is one of the merge's contacts.
    pub fn names(&self, id: &MessagingId) -> bool {
        *id == self.survivor || self.merge.contains(id)
    }

    /// Every contact of the merge, survivor first.
    pub fn contacts(&self) -> impl Iterator<Item = &MessagingId> {
        std::iter::once(&self.survivor).chain(&self.merge)
    }
}

/// A merge as a store writes it, all or nothing.
#[derive(Debug, Clone)]
pub struct Merge {
    /// The survivor's next version.
    pub survivor: Contact,
    /// The survivor's version as read; the write is conditional on it.
    pub survivor_version: u64,
    /// The contacts merged away, as read; each is deleted conditionally on
    /// its version, its history moves to the survivor, and its Messaging ID
    /// then names the survivor.
    pub merged: Vec<Contact>,
    /// The entries the merge adds to the survivor's history.
    pub history: Vec<ConsentChange>,
}

impl Merge {
    /// Merges `merged` into `survivor`. Each field comes from the contact
    /// `fields` names, else the survivor's value, else the most recently
    /// updated merged contact's value. Lists are joined. Each channel's
    /// consent is the most recently recorded among the contacts, an
    /// unsubscribe winning a tie. The survivor keeps its External ID; the
    /// merged contacts' ones are freed and named in the history entries.
    pub fn plan(
        survivor: &Contact,
        merged: &[Contact],
        fields: &BTreeMap<MergeField, MessagingId>,
        last: &HashMap<MessagingId, LastChanges>,
        now: DateTime<Utc>,
    ) -> Result<Self, Error> {
        let mut draft = Draft {
            contact: Contact {
                updated_at: now,
                version: survivor.version + 1,
                ..survivor.clone()
            },
            phone: survivor.reach.phone().cloned(),
            email: survivor.reach.email().cloned(),
        };
        let everyone: Vec<Contact> = std::iter::once(survivor).chain(merged).cloned().collect();
        for field in MergeField::every(&everyone) {
            let chosen = fields
                .get(&field)
                .and_then(|id| everyone.iter().find(|c| c.messaging_id == *id));
            let from = chosen.or_else(|| field.default_source(survivor, merged));
            if let Some(from) = from {
                field.copy(from, &mut draft);
            }
        }
        draft.contact.reach = Reach::new(draft.phone, draft.email).map_err(|_| {
            let message =
                "the merged contact would have neither a phone number nor an email address";
            Error::Validation(vec![
                FieldError::new("fields.phone", message),
                FieldError::new("fields.email", message),
            ])
        })?;
        for contact in merged {
            draft.contact.lists.extend(contact.lists.iter().cloned());
        }
        if draft.contact.lists.len() > MAX_LISTS_PER_CONTACT {
            return Err(Error::invalid(
                "merge",
                format!(
                    "the merged contact would belong to {} lists, and a contact belongs to at \
                     most {MAX_LISTS_PER_CONTACT}: remove some memberships first",
                    draft.contact.lists.len()
                ),
            ));
        }
        let mut survivor_next = draft.contact;
        // The imports that made any of them made the survivor, oldest first.
        let mut marks: Vec<_> = everyone.iter().flat_map(|c| c.imports.clone()).collect();
        marks.sort_by_key(|mark| mark.at);
        survivor_next.imports.clear();
        for mark in marks {
            survivor_next.mark_import(&mark.import_id, mark.at);
        }
        let source = ConsentSource::merge(merged.iter().map(|c| &c.messaging_id));
        let note = freed_note(merged.iter().filter_map(|c| c.external_id.as_ref()));
        let mut history = Vec::with_capacity(Channel::ALL.len());
        for channel in Channel::ALL {
            let new = decide(channel, std::iter::once(survivor).chain(merged), last);
            survivor_next.consent.set(channel, new);
            history.push(ConsentChange {
                at: now,
                channel,
                old: survivor.consent.get(channel),
                new,
                source: source.clone(),
                note: note.clone(),
            });
        }
        Ok(Self {
            survivor: survivor_next,
            survivor_version: survivor.version,
            merged: merged.to_vec(),
            history,
        })
    }
}

/// The status on `channel` recorded last among `contacts`; an unsubscribe
/// wins a tie. Contacts with nothing recorded on the channel don't take part.
fn decide<'a>(
    channel: Channel,
    contacts: impl Iterator<Item = &'a Contact>,
    last: &HashMap<MessagingId, LastChanges>,
) -> ConsentStatus {
    contacts
        .filter_map(|c| {
            let at = last.get(&c.messaging_id)?.at(channel)?;
            let status = c.consent.get(channel);
            Some((at, status == ConsentStatus::Unsubscribed, status))
        })
        .max_by_key(|&(at, unsubscribed, _)| (at, unsubscribed))
        .map_or(ConsentStatus::NotSubscribed, |(_, _, status)| status)
}

fn freed_note<'a>(external_ids: impl Iterator<Item = &'a ExternalId>) -> Option<String> {
    let freed: Vec<&str> = external_ids.map(AsRef::as_ref).collect();
    (!freed.is_empty()).then(|| format!("External IDs freed: {}", freed.join(", ")))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeZone;

    use super::*;
    use crate::model::{
        AttributeType, AttributeValue, ConsentChoice, Email, ListId, Name, NewContact, PhoneNumber,
    };

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, second).unwrap()
    }

    fn contact(first: &str, phone: Option<&str>, email: Option<&str>, updated: u32) -> Contact {
        let new = NewContact {
            external_id: ExternalId::parse(&format!("x-{first}")).ok(),
            first_name: Name::parse(first).ok(),
            last_name: None,
            reach: Reach::new(
                phone.map(|p| PhoneNumber::parse(p).unwrap()),
                email.map(|e| Email::parse(e).unwrap()),
            )
            .unwrap(),
            country: None,
            timezone: None,
            consent: Vec::new(),
            attributes: BTreeMap::new(),
            lists: BTreeSet::new(),
        };
        let (mut contact, _) = Contact::create(new, &ConsentSource::api(), at(0)).unwrap();
        contact.updated_at = at(updated);
        contact
    }

    /// Records `choice` on `channel` at `second`, noting it in `last`.
    fn consent(
        contact: &mut Contact,
        last: &mut HashMap<MessagingId, LastChanges>,
        channel: Channel,
        choice: ConsentChoice,
        second: u32,
    ) {
        let change = contact
            .consent
            .record(channel, choice, &ConsentSource::api(), at(second))
            .unwrap();
        last.entry(contact.messaging_id.clone())
            .or_default()
            .note(&change);
    }

    #[test]
    fn fields_come_from_the_choice_then_the_survivor_then_the_newest() {
        let survivor = contact("Ann", Some("+14155550101"), None, 1);
        let mut older = contact("Anne", None, Some("old@example.com"), 2);
        let mut newer = contact("Annie", None, Some("new@example.com"), 3);
        let plan = |fields: &BTreeMap<_, _>, merged: &[Contact]| {
            Merge::plan(&survivor, merged, fields, &HashMap::new(), at(9)).unwrap()
        };
        let merged = [older.clone(), newer.clone()];
        let by_default = plan(&BTreeMap::new(), &merged).survivor;
        assert_eq!(by_default.first_name, survivor.first_name);
        assert_eq!(by_default.reach.email(), newer.reach.email());
        assert_eq!(by_default.reach.phone(), survivor.reach.phone());
        assert_eq!(by_default.version, survivor.version + 1);
        assert_eq!(by_default.external_id, survivor.external_id);
        let chosen = BTreeMap::from([
            (MergeField::FirstName, older.messaging_id.clone()),
            (MergeField::Email, older.messaging_id.clone()),
        ]);
        let by_choice = plan(&chosen, &merged).survivor;
        assert_eq!(by_choice.first_name, older.first_name);
        assert_eq!(by_choice.reach.email(), older.reach.email());
        let gold = AttributeId::generate();
        older.attributes.insert(
            gold.clone(),
            AttributeValue::from_json(AttributeType::Number, &serde_json::json!(1)).unwrap(),
        );
        newer.lists.insert(ListId::generate());
        let with_values = plan(&BTreeMap::new(), &[older.clone(), newer.clone()]).survivor;
        assert_eq!(
            with_values.attributes.get(&gold),
            older.attributes.get(&gold)
        );
        assert_eq!(with_values.lists, newer.lists);
    }

    #[test]
    fn a_choice_that_leaves_no_phone_or_email_is_refused() {
        let survivor = contact("Ann", Some("+14155550101"), None, 1);
        let other = contact("Bo", None, Some("bo@example.com"), 2);
        let fields = BTreeMap::from([
            (MergeField::Phone, other.messaging_id.clone()),
            (MergeField::Email, survivor.messaging_id.clone()),
        ]);
        let refused = Merge::plan(&survivor, &[other], &fields, &HashMap::new(), at(9));
        assert!(matches!(refused, Err(Error::Validation(_))));
    }

    #[test]
    fn the_latest_recorded_consent_wins_and_a_later_unsubscribe_is_never_lost() {
        let mut last = HashMap::new();
        let mut survivor = contact("Ann", Some("+14155550101"), None, 1);
        let mut other = contact("Bo", None, Some("bo@example.com"), 2);
        // SMS: subscribed on the survivor, unsubscribed later on the other.
        consent(
            &mut survivor,
            &mut last,
            Channel::Sms,
            ConsentChoice::Subscribed,
            1,
        );
        consent(
            &mut other,
            &mut last,
            Channel::Sms,
            ConsentChoice::Unsubscribed,
            2,
        );
        // WhatsApp: unsubscribed, then subscribed again later elsewhere.
        consent(
            &mut survivor,
            &mut last,
            Channel::Whatsapp,
            ConsentChoice::Unsubscribed,
            3,
        );
        consent(
            &mut other,
            &mut last,
            Channel::Whatsapp,
            ConsentChoice::Subscribed,
            4,
        );
        // Email: the same instant on both sides; the unsubscribe wins.
        consent(
            &mut survivor,
            &mut last,
            Channel::Email,
            ConsentChoice::Subscribed,
            5,
        );
        consent(
            &mut other,
            &mut last,
            Channel::Email,
            ConsentChoice::Unsubscribed,
            5,
        );
        let merge =
            Merge::plan(&survivor, &[other.clone()], &BTreeMap::new(), &last, at(9)).unwrap();
        let outcome = merge.survivor.consent;
        assert_eq!(outcome.sms, ConsentStatus::Unsubscribed);
        assert_eq!(outcome.whatsapp, ConsentStatus::Subscribed);
        assert_eq!(outcome.email, ConsentStatus::Unsubscribed);
        assert_eq!(merge.history.len(), 3);
        let source = format!("merge:{}", other.messaging_id);
        assert!(merge.history.iter().all(|c| c.source.as_ref() == source));
        assert_eq!(merge.history[0].old, ConsentStatus::Subscribed);
        assert_eq!(merge.history[0].new, ConsentStatus::Unsubscribed);
        assert_eq!(
            merge.history[0].note.as_deref(),
            Some("External IDs freed: x-Bo")
        );
    }

    #[test]
    fn a_request_names_each_contact_once_and_chooses_among_them() {
        let [a, b, c] = [(); 3].map(|()| MessagingId::generate());
        let request = MergeRequest {
            survivor: a.clone(),
            merge: vec![b.clone(), b.clone(), a.clone()],
            fields: BTreeMap::new(),
            versions: BTreeMap::from([(c, 1)]),
        };
        let Err(Error::Validation(errors)) = request.check() else {
            panic!("a bad request passed");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields[..2], ["merge[1]", "merge[2]"]);
        assert!(fields[2].starts_with("versions."));
        let empty = MergeRequest {
            merge: Vec::new(),
            fields: BTreeMap::new(),
            versions: BTreeMap::new(),
            ..request
        };
        assert!(empty.check().is_err());
    }
}
