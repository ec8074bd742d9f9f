//! An audit entry: who changed what, when, and which fields (names only).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::import::Counts;
use crate::model::{Channel, ConsentStatus, Contact, MessagingId};

crate::jobs::job_id!(
    /// The ID of an audit entry: a ULID, so entries sort by time.
    AuditId,
    "an audit entry ID"
);

impl AuditId {
    /// The smallest ID an entry made at or after `at` can have.
    pub fn from_time(at: DateTime<Utc>) -> Self {
        let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
        Self::from_stored(ulid::Ulid::from_parts(millis, 0).to_string())
    }
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    ContactCreated,
    ContactUpdated,
    ConsentChanged,
    ContactDeleted,
    ContactErased,
    /// Other contacts were merged into this one (`target` names them).
    ContactMerged,
    /// This contact was merged into another (`target`).
    ContactMergedAway,
    ListCreated,
    ListRenamed,
    ListDeleted,
    AttributeCreated,
    AttributeUpdated,
    AttributeDeleted,
    SuppressionCreated,
    SuppressionLifted,
    ColumnsSaved,
    /// One entry per import, with its counts.
    ImportFinished,
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: AuditId,
    pub at: DateTime<Utc>,
    /// When it is removed (the deployment's retention after `at`).
    pub expires_at: DateTime<Utc>,
    /// Who made it: a token's name or a user's subject.
    pub actor: String,
    pub operation: Operation,
    /// The contact it changed, when it changed one.
    pub contact: Option<MessagingId>,
    /// What else it names: a list's ID, an attribute's name, a
    /// suppression's or an import's ID, the contacts of a merge.
    pub target: Option<String>,
    /// The fields it changed, by name (never their values).
    pub fields: Vec<String>,
    /// An import's counts.
    pub counts: Option<Counts>,
}

/// A change to record, before it has its time and actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub operation: Operation,
    pub contact: Option<MessagingId>,
    pub target: Option<String>,
    pub fields: Vec<String>,
    pub counts: Option<Counts>,
}

impl Change {
    /// A change to the contact `id`.
    pub fn contact(operation: Operation, id: &MessagingId, fields: Vec<String>) -> Self {
        Self {
            operation,
            contact: Some(id.clone()),
            target: None,
            fields,
            counts: None,
        }
    }

    /// A change to something else, named by `target`.
    pub fn of(operation: Operation, target: impl ToString, fields: &[&str]) -> Self {
        Self {
            operation,
            contact: None,
            target: Some(target.to_string()),
            fields: fields.iter().map(|&f| f.to_owned()).collect(),
            counts: None,
        }
    }

    /// The same change naming `target` too.
    pub fn naming(mut self, target: impl ToString) -> Self {
        self.target = Some(target.to_string());
        self
    }

    /// The same change with an import's counts.
    pub fn with_counts(mut self, counts: Counts) -> Self {
        self.counts = Some(counts);
        self
    }
}

/// Which entries to read: of one contact, made at or after a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub contact: Option<MessagingId>,
    pub since: Option<DateTime<Utc>>,
}

impl AuditQuery {
    /// The smallest entry ID it finds.
    pub fn lowest_id(&self) -> String {
        self.since
            .map_or_else(|| "0".to_owned(), |at| AuditId::from_time(at).to_string())
    }
}

/// The fields whose values differ between `before` and `after` (either
/// absent for a create or a delete), by the names the API gives them;
/// custom values as `attributes.<attribute id>`.
pub fn changed_fields(before: Option<&Contact>, after: Option<&Contact>) -> Vec<String> {
    let (before, after) = (
        before.map(values).unwrap_or_default(),
        after.map(values).unwrap_or_default(),
    );
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    names
        .into_iter()
        .filter(|name| before.get(*name) != after.get(*name))
        .cloned()
        .collect()
}

/// A contact's fields that hold a value, each with that value in a form
/// only compared.
fn values(contact: &Contact) -> BTreeMap<String, String> {
    fn shown<T: Debug>(value: Option<&T>) -> Option<String> {
        value.map(|v| format!("{v:?}"))
    }
    let mut held = BTreeMap::new();
    let mut hold = |name: String, value: Option<String>| {
        if let Some(value) = value {
            held.insert(name, value);
        }
    };
    hold("external_id".into(), shown(contact.external_id.as_ref()));
    hold("first_name".into(), shown(contact.first_name.as_ref()));
    hold("last_name".into(), shown(contact.last_name.as_ref()));
    hold("phone".into(), shown(contact.reach.phone()));
    hold("email".into(), shown(contact.reach.email()));
    hold("country".into(), shown(contact.country.as_ref()));
    hold("timezone".into(), shown(contact.timezone.as_ref()));
    for channel in Channel::ALL {
        let status = contact.consent.get(channel);
        hold(
            format!("consent.{}", channel.as_str()),
            (status != ConsentStatus::default()).then(|| status.as_str().to_owned()),
        );
    }
    for (id, value) in &contact.attributes {
        hold(format!("attributes.{id}"), Some(format!("{value:?}")));
    }
    if !contact.lists.is_empty() {
        hold("lists".into(), Some(format!("{:?}", contact.lists)));
    }
    held
}
