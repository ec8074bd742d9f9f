//! A batch of rows and the contacts they name → what to write. Pure: the
//! runner looks the contacts up before and commits the plan after.

use crate::privacy::service::SuppressedSet;
use crate::privacy::suppression::Identifier as PrivacyIdentifier;
use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::job::{Counts, ImportId};
use super::row::{Cell, Row};
use super::settings::{MatchBy, MissingAttributes, Rules, UpdateExisting};
use crate::model::{
    AttributeId, Channel, ConsentChoice, ConsentSource, ConsentStatus, Contact, ContactChanges,
    MessagingId, NewContact, Patch, Reach,
};
use crate::store::NewRecord;
use crate::store::imports::{Lookup, Rejected, Update, applied_key};

/// What planning needs besides the rows.
pub struct Context<'a> {
    pub import: &'a ImportId,
    /// The IDs of the contacts the import creates.
    pub created: CreatedIds,
    pub rules: &'a Rules,
    pub source: &'a ConsentSource,
    pub now: DateTime<Utc>,
    /// Contacts the workspace may still add; `None` for no limit.
    pub capacity: Option<u64>,
    /// Custom attributes no column fills (cleared by `missing_attributes: delete`).
    pub unmapped: &'a [AttributeId],
    /// Whether the store's lookups by email and phone may miss a contact
    /// written moments ago (an eventually consistent index): then a row that
    /// creates a contact remembers its email and phone, so a later row with
    /// either is its duplicate however late the index is.
    pub remember_reach: bool,
    /// External IDs found taken since the rows were looked up (by another
    /// contact, or a guard an interrupted import left), with their holders:
    /// a row that would create a contact with one is refused naming it.
    pub held: &'a HashMap<String, MessagingId>,
    /// The workspace's erased and suppressed identifiers: a row bringing
    /// one in is refused.
    pub suppressed: &'a SuppressedSet,
}

/// What a batch writes, and what it counts.
#[derive(Debug, Default)]
pub struct Plan {
    pub creates: Vec<NewRecord>,
    pub updates: Vec<Update>,
    pub seen: Vec<(String, u64)>,
    pub rejected: Vec<Rejected>,
    pub counts: Counts,
    /// Every key the batch's rows claim, with the row's line: what a later
    /// batch planned before this one commits takes as seen.
    pub claimed: HashMap<String, u64>,
}

/// An identifier a row claims in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identifier {
    ExternalId,
    MessagingId,
    Email,
    Phone,
}

impl Identifier {
    /// Its column's name, as the error CSV says it.
    pub fn label(self) -> &'static str {
        match self {
            Identifier::ExternalId => "External ID",
            Identifier::MessagingId => "Messaging ID",
            Identifier::Email => "Email",
            Identifier::Phone => "Phone Number",
        }
    }
}

/// The identifiers of `rows` to look contacts up by: their IDs, and their
/// emails and phones (a row that would create a contact with another's
/// email or phone is that contact's duplicate).
pub fn lookup_keys(rows: &[Row]) -> Lookup {
    let mut lookup = Lookup::default();
    for row in rows {
        lookup.external_ids.extend(row.external_id.clone());
        lookup.messaging_ids.extend(row.messaging_id.clone());
        lookup.emails.extend(row.email.value().cloned());
        lookup.phones.extend(row.phone.value().cloned());
    }
    lookup
}

/// The keys a row claims in the file: a later row with one of them is a
/// duplicate. Email and phone identify rows only when updating is off.
pub fn row_keys(row: &Row, rules: &Rules) -> Vec<(String, Identifier)> {
    let mut keys = Vec::with_capacity(4);
    if let Some(id) = &row.external_id {
        keys.push((key("x:", id.as_ref()), Identifier::ExternalId));
    }
    if let Some(id) = &row.messaging_id {
        keys.push((key("m:", id.as_ref()), Identifier::MessagingId));
    }
    if rules.update.is_none() {
        if let Some(email) = row.email.value() {
            keys.push((key("e:", &email.folded()), Identifier::Email));
        }
        if let Some(phone) = row.phone.value() {
            keys.push((key("p:", phone.as_ref()), Identifier::Phone));
        }
    }
    keys
}

/// `prefix` then `value`, in one allocation.
fn key(prefix: &str, value: &str) -> String {
    let mut key = String::with_capacity(prefix.len() + value.len());
    key.push_str(prefix);
    key.push_str(value);
    key
}

/// The line of the row of `import` that created `contact`, if one did.
pub fn created_line(import: &ImportId, contact: &Contact) -> Option<u64> {
    CreatedIds::of(import).line(contact)
}

/// The Messaging IDs of the contacts an import creates: the import's time,
/// 48 bits of SHA-256 of the import's ID and the row's line (a ULID's 80
/// random bits). The same on every run, and they tell which row of which
/// import created a contact ([`CreatedIds::line`]): a repeated commit
/// finds what it created, and a later row naming that contact is that
/// row's duplicate, with no key remembered for it. Worked out once a
/// batch, not once a row.
#[derive(Debug, Clone, Copy)]
pub struct CreatedIds {
    ms: u64,
    tag: u64,
}

impl CreatedIds {
    pub fn of(import: &ImportId) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(import.as_ref().as_bytes());
        Self {
            ms: ulid::Ulid::from_string(import.as_ref()).map_or(0, |id| id.timestamp_ms()),
            tag: digest[..6]
                .iter()
                .fold(0, |tag, byte| (tag << 8) | u64::from(*byte)),
        }
    }

    /// The Messaging ID of the contact the row at `line` creates.
    pub fn id(self, line: u64) -> MessagingId {
        let line = u128::from(u32::try_from(line).unwrap_or(u32::MAX));
        MessagingId::from_parts(self.ms, (u128::from(self.tag) << 32) | line)
    }

    /// The line of the row that created `contact`, if this import did.
    pub fn line(self, contact: &Contact) -> Option<u64> {
        let (at_ms, random) = contact.messaging_id.parts()?;
        let ours = at_ms == self.ms && (random >> 32) == u128::from(self.tag);
        ours.then(|| u64::try_from(random & 0xFFFF_FFFF).unwrap_or(u64::MAX))
    }
}

/// The key that marks a contact as identified by the file (kept by `remove`).
pub fn identified_key(contact: &Contact) -> String {
    format!("c:{}", contact.messaging_id)
}

/// The contacts found, indexed by each identifier.
struct Known<'a> {
    by_external: HashMap<&'a str, &'a Contact>,
    by_messaging: HashMap<&'a str, &'a Contact>,
    by_email: HashMap<String, &'a Contact>,
    by_phone: HashMap<&'a str, &'a Contact>,
}

impl<'a> Known<'a> {
    fn new(contacts: &'a [Contact]) -> Self {
        let mut known = Self {
            by_external: HashMap::new(),
            by_messaging: HashMap::new(),
            by_email: HashMap::new(),
            by_phone: HashMap::new(),
        };
        for c in contacts {
            if let Some(id) = &c.external_id {
                known.by_external.insert(id.as_ref(), c);
            }
            known.by_messaging.insert(c.messaging_id.as_ref(), c);
            if let Some(email) = c.reach.email() {
                known.by_email.insert(email.folded().into_owned(), c);
            }
            if let Some(phone) = c.reach.phone() {
                known.by_phone.insert(phone.as_ref(), c);
            }
        }
        known
    }

    fn external(&self, row: &Row) -> Option<&'a Contact> {
        row.external_id
            .as_ref()
            .and_then(|id| self.by_external.get(id.as_ref()).copied())
    }

    fn messaging(&self, row: &Row) -> Option<&'a Contact> {
        row.messaging_id
            .as_ref()
            .and_then(|id| self.by_messaging.get(id.as_ref()).copied())
    }

    fn email(&self, row: &Row) -> Option<&'a Contact> {
        row.email
            .value()
            .and_then(|e| self.by_email.get(e.folded().as_ref()).copied())
    }

    fn phone(&self, row: &Row) -> Option<&'a Contact> {
        row.phone
            .value()
            .and_then(|p| self.by_phone.get(p.as_ref()).copied())
    }

    /// The first contact sharing the row's email or phone.
    fn reach(&self, row: &Row) -> Option<&'a Contact> {
        self.email(row).or_else(|| self.phone(row))
    }

    /// The row with its bare phone read as the number of the contact its ID
    /// names, when the digits are that number's.
    fn resolve_bare_phone<'r>(&self, row: &'r Row) -> std::borrow::Cow<'r, Row> {
        let phone = row.bare_phone.as_ref().and_then(|bare| {
            let contact = self.external(row).or_else(|| self.messaging(row))?;
            contact.reach.phone().filter(|phone| bare.is(phone))
        });
        match phone {
            Some(phone) => std::borrow::Cow::Owned(Row {
                phone: Cell::Value(phone.clone()),
                bare_phone: None,
                ..row.clone()
            }),
            None => std::borrow::Cow::Borrowed(row),
        }
    }

    /// The contacts the row names: by its External ID and Messaging ID, or,
    /// with neither in the row, by its email or phone.
    fn named(&self, row: &Row) -> impl Iterator<Item = &'a Contact> {
        let by_id = [self.external(row), self.messaging(row)];
        let by_reach = (row.external_id.is_none() && row.messaging_id.is_none())
            .then(|| self.reach(row))
            .flatten();
        by_id.into_iter().chain([by_reach]).flatten()
    }

    /// The line of an earlier row of this import that created the contact
    /// this row names by `identifier`.
    fn created_earlier(
        &self,
        row: &Row,
        identifier: Identifier,
        context: &Context<'_>,
    ) -> Option<u64> {
        let contact = match identifier {
            Identifier::ExternalId => self.external(row),
            Identifier::Email => self.email(row),
            Identifier::Phone => self.phone(row),
            Identifier::MessagingId => None,
        }?;
        context
            .created
            .line(contact)
            .filter(|&line| line != row.line)
    }
}

/// The keys earlier batches claimed, with the lines of their rows.
pub struct Seen<'a> {
    /// Those the store remembers.
    pub stored: HashMap<String, u64>,
    /// Those of the batch still committing, which a plan made beside its
    /// commit takes as claimed (they come first).
    pub in_flight: &'a HashMap<String, u64>,
}

impl Seen<'_> {
    fn get(&self, key: &str) -> Option<u64> {
        self.in_flight
            .get(key)
            .or_else(|| self.stored.get(key))
            .copied()
    }
}

/// Decides every row of a batch. `contacts` are those the rows' identifiers
/// name; `seen` the keys earlier batches claimed.
pub fn plan(rows: &[Row], contacts: &[Contact], seen: &Seen<'_>, context: &Context<'_>) -> Plan {
    let known = Known::new(contacts);
    let mut plan = Plan::default();
    let mut batch_seen: HashMap<String, u64> = HashMap::new();
    let mut capacity = context.capacity;
    for row in rows {
        let row = &*known.resolve_bare_phone(row);
        plan.counts.rows += 1;
        let rejected_before = plan.counts.rejected;
        // Contacts the row names stay when `remove` runs, whatever the row's fate.
        for contact in known.named(row) {
            plan.seen.push((identified_key(contact), row.line));
        }
        let keys = row_keys(row, context.rules);
        // The first of the row's identifiers an earlier row claimed. A key
        // remembered from this very row is not a duplicate: a commit of this
        // batch was interrupted after remembering it.
        let earlier = keys.iter().find_map(|(key, identifier)| {
            seen.get(key)
                .filter(|&line| line != row.line)
                .or_else(|| batch_seen.get(key).copied())
                .or_else(|| known.created_earlier(row, *identifier, context))
                .map(|line| (identifier.label(), line))
        });
        if let Some((what, line)) = earlier {
            reject(
                &mut plan,
                row,
                format!("duplicate {what}: row {line} has the same"),
            );
            continue;
        }
        for (key, _) in &keys {
            batch_seen.insert(key.clone(), row.line);
        }
        // Keys later batches must know, unless the contact this row creates
        // names itself (`created_line`) to a lookup that can't miss it: its
        // External ID always, its email and phone unless those lookups lag.
        // A dry run creates nothing, so it remembers every key.
        let remember = |plan: &mut Plan, created: bool| {
            for (key, _) in &keys {
                let found_by_lookup = key.starts_with("x:")
                    || (!context.remember_reach
                        && (key.starts_with("e:") || key.starts_with("p:")));
                if !created || !found_by_lookup {
                    plan.seen.push((key.clone(), row.line));
                }
            }
        };
        if let Some(reason) = row.rejection() {
            remember(&mut plan, false);
            reject(&mut plan, row, reason);
            continue;
        }
        let decision = match decide(row, &known, context) {
            Decision::Create => held_id(row, context).map_or(Decision::Create, Decision::Reject),
            other => other,
        };
        let decision = match decision {
            Decision::Create => {
                refused(row, None, context).map_or(Decision::Create, Decision::Suppressed)
            }
            Decision::Update(current, update) => refused(row, Some(current), context)
                .map_or(Decision::Update(current, update), Decision::Suppressed),
            other => other,
        };
        match decision {
            Decision::Suppressed(reason) => {
                remember(&mut plan, false);
                plan.counts.suppressed += 1;
                reject(&mut plan, row, reason);
            }
            Decision::Reject(reason) => {
                remember(&mut plan, false);
                reject(&mut plan, row, reason);
            }
            Decision::Skip(contact) => {
                remember(&mut plan, false);
                plan.seen.push((identified_key(contact), row.line));
                plan.counts.skipped_existing += 1;
            }
            Decision::Created => {
                remember(&mut plan, true);
                plan.counts.created += 1;
            }
            Decision::Create if capacity == Some(0) => {
                remember(&mut plan, false);
                reject(
                    &mut plan,
                    row,
                    "the workspace has reached its contact limit".into(),
                );
                continue;
            }
            Decision::Create => match create(row, context) {
                Ok(record) => {
                    remember(&mut plan, !context.rules.dry_run);
                    capacity = capacity.map(|c| c - 1);
                    plan.counts.created += 1;
                    plan.creates.push(record);
                }
                Err(reason) => {
                    remember(&mut plan, false);
                    reject(&mut plan, row, reason);
                }
            },
            Decision::Update(current, update) => {
                remember(&mut plan, false);
                match updated(row, current, update, context) {
                    // Applied by an earlier attempt at this batch.
                    Ok(None) if seen.get(&applied_key(row.line)) == Some(row.line) => {
                        plan.counts.updated += 1;
                    }
                    Ok(None) => plan.counts.unchanged += 1,
                    Ok(Some(change)) => {
                        plan.counts.updated += 1;
                        plan.updates.push(change);
                    }
                    Err(reason) => reject(&mut plan, row, reason),
                }
            }
        }
        if plan.counts.rejected == rejected_before {
            plan.counts.replaced_values += row.replaced;
        }
    }
    plan.claimed = batch_seen;
    plan
}

/// Why the row is refused for an erased or suppressed identifier it
/// brings in (one `current`, the contact it updates, holds already is
/// not brought in).
fn refused(row: &Row, current: Option<&Contact>, context: &Context<'_>) -> Option<String> {
    if context.suppressed.is_empty() {
        return None;
    }
    let held = current.map(PrivacyIdentifier::of).unwrap_or_default();
    let brought: Vec<PrivacyIdentifier> = PrivacyIdentifier::held_by(
        row.email.value(),
        row.phone.value(),
        row.external_id.as_ref(),
    )
    .into_iter()
    .filter(|identifier| !held.contains(identifier))
    .collect();
    context.suppressed.refusal(&brought)
}

fn reject(plan: &mut Plan, row: &Row, error: String) {
    plan.counts.rejected += 1;
    plan.rejected.push(Rejected {
        line: row.line,
        cells: row.cells.iter().map(str::to_owned).collect(),
        error,
    });
}

enum Decision<'a> {
    Reject(String),
    /// It brings in an erased or suppressed identifier.
    Suppressed(String),
    Skip(&'a Contact),
    /// This row created the contact in a commit that was interrupted.
    Created,
    Create,
    Update(&'a Contact, UpdateExisting),
}

fn decide<'a>(row: &Row, known: &Known<'a>, context: &Context<'_>) -> Decision<'a> {
    if known
        .named(row)
        .any(|c| context.created.line(c) == Some(row.line))
    {
        return Decision::Created;
    }
    let Some(update) = context.rules.update else {
        return match known.external(row).or_else(|| known.reach(row)) {
            Some(contact) => Decision::Skip(contact),
            None => Decision::Create,
        };
    };
    match update.match_by {
        MatchBy::ExternalId => match (&row.external_id, known.external(row)) {
            (None, _) => {
                Decision::Reject("External ID is empty; it matches rows to contacts".into())
            }
            (Some(_), Some(contact)) => Decision::Update(contact, update),
            (Some(id), None) => match known.reach(row) {
                Some(holder) => Decision::Reject(changed_id(id, row, holder)),
                None => Decision::Create,
            },
        },
        MatchBy::MessagingId => match (&row.messaging_id, known.messaging(row)) {
            (Some(id), None) => Decision::Reject(format!(
                "no contact has Messaging ID {id}; Messaging IDs are assigned by the system: leave the cell empty to create a contact"
            )),
            (Some(_), Some(contact)) => match known.external(row) {
                Some(holder) if holder.messaging_id != contact.messaging_id => {
                    Decision::Reject(held_by(holder))
                }
                _ => Decision::Update(contact, update),
            },
            (None, _) => match known.external(row).or_else(|| known.reach(row)) {
                Some(holder) => Decision::Reject(format!(
                    "{}; put its Messaging ID in the row to update it",
                    named_by(row, holder)
                )),
                None => Decision::Create,
            },
        },
    }
}

/// Why a row can't create its contact: its External ID is held, if it is.
fn held_id(row: &Row, context: &Context<'_>) -> Option<String> {
    let id = row.external_id.as_ref()?;
    let holder = context.held.get(id.as_ref())?;
    Some(format!(
        "External ID {:?} is already used by contact {holder}",
        id.as_ref()
    ))
}

/// Why a row whose External ID `id` matches no contact, but whose email
/// or phone is `holder`'s, is refused: it would be a second `holder`.
fn changed_id(id: &crate::model::ExternalId, row: &Row, holder: &Contact) -> String {
    let theirs = holder.external_id.as_ref().map_or("", AsRef::as_ref);
    let cause = if !theirs.is_empty()
        && theirs.trim_start_matches('0') == id.as_ref().trim_start_matches('0')
    {
        format!("its External ID is {theirs:?}: a spreadsheet may have dropped leading zeros")
    } else {
        format!(
            "its External ID is {theirs:?}: a spreadsheet may have reformatted the ID (leading zeros, a number as 1.23E+5)"
        )
    };
    format!(
        "no contact has External ID {:?}, but its {} belongs to contact {}; {cause}. Put the contact's External ID in the row to update it, or give the row another {} to create a new contact",
        id.as_ref(),
        reach_label(row, holder),
        holder.messaging_id,
        reach_label(row, holder),
    )
}

/// Which of the row's email and phone `holder` has.
fn reach_label(row: &Row, holder: &Contact) -> &'static str {
    let same_email = row
        .email
        .value()
        .zip(holder.reach.email())
        .is_some_and(|(a, b)| a.as_ref().eq_ignore_ascii_case(b.as_ref()));
    if same_email { "Email" } else { "Phone Number" }
}

/// Why a row that would create a contact names `holder` instead.
fn named_by(row: &Row, holder: &Contact) -> String {
    match (&row.external_id, &holder.external_id) {
        (Some(ours), Some(theirs)) if ours == theirs => held_by(holder),
        _ => format!(
            "its {} belongs to contact {}",
            reach_label(row, holder),
            holder.messaging_id
        ),
    }
}

fn held_by(holder: &Contact) -> String {
    format!(
        "External ID {:?} is already used by contact {}",
        holder.external_id.as_ref().map_or("", AsRef::as_ref),
        holder.messaging_id
    )
}

/// The consent a row records: what its cells say, else the defaults where
/// nothing was recorded yet (`current` is `NotSubscribed` for a new contact).
fn consent_choices(
    row: &Row,
    current: impl Fn(Channel) -> ConsentStatus,
    context: &Context<'_>,
) -> Vec<(Channel, ConsentChoice)> {
    Channel::ALL
        .into_iter()
        .zip(row.consent)
        .zip(context.rules.default_consent.by_channel())
        .filter_map(|((channel, given), (_, default))| {
            let status = match given {
                Some(ConsentStatus::Subscribed | ConsentStatus::Unsubscribed) => given?,
                _ if current(channel) == ConsentStatus::NotSubscribed => default,
                _ => return None,
            };
            let choice = match status {
                ConsentStatus::Subscribed => ConsentChoice::Subscribed,
                ConsentStatus::Unsubscribed => ConsentChoice::Unsubscribed,
                ConsentStatus::NotSubscribed => return None,
            };
            Some((channel, choice))
        })
        .collect()
}

fn lists_of(
    row: &Row,
    current: Option<&BTreeSet<crate::model::ListId>>,
    rules: &Rules,
) -> Option<BTreeSet<crate::model::ListId>> {
    let from_file = row.lists.value();
    if from_file.is_none() && rules.lists.is_empty() {
        return None;
    }
    let base = from_file.or(current).cloned().unwrap_or_default();
    Some(base.union(&rules.lists).cloned().collect())
}

fn create(row: &Row, context: &Context<'_>) -> Result<NewRecord, String> {
    let reach = Reach::new(row.phone.value().cloned(), row.email.value().cloned())
        .map_err(|e| e.to_string())?;
    let new = NewContact {
        external_id: row.external_id.clone(),
        first_name: row.first_name.value().cloned(),
        last_name: row.last_name.value().cloned(),
        reach,
        country: row.country.value().cloned(),
        timezone: context
            .rules
            .timezone
            .clone()
            .or_else(|| row.timezone.value().cloned()),
        consent: consent_choices(row, |_| ConsentStatus::NotSubscribed, context),
        attributes: row
            .attributes
            .iter()
            .filter_map(|(id, cell)| Some((id.clone(), cell.value()?.clone())))
            .collect(),
        lists: lists_of(row, None, context.rules).unwrap_or_default(),
    };
    let (mut contact, consent) =
        Contact::create(new, context.source, context.now).map_err(|e| e.in_words())?;
    contact.messaging_id = context.created.id(row.line);
    Ok((contact, consent))
}

/// A field's change: a value sets it; an empty cell or a missing column
/// keeps it, or with `delete` clears it.
fn patch<T: Clone>(cell: &Cell<T>, missing: MissingAttributes) -> Patch<T> {
    match (cell, missing) {
        (Cell::Value(value), _) => Patch::Set(value.clone()),
        (_, MissingAttributes::Keep) => Patch::Keep,
        (_, MissingAttributes::Delete) => Patch::Clear,
    }
}

/// Email and phone are how a contact is reached: a missing column keeps
/// them even with `delete`; an empty cell clears them then.
fn reach_patch<T: Clone>(cell: &Cell<T>, missing: MissingAttributes) -> Patch<T> {
    match cell {
        Cell::Absent => Patch::Keep,
        cell => patch(cell, missing),
    }
}

fn updated(
    row: &Row,
    current: &Contact,
    update: UpdateExisting,
    context: &Context<'_>,
) -> Result<Option<Update>, String> {
    let missing = update.missing_attributes;
    let mut attributes: std::collections::BTreeMap<_, _> = row
        .attributes
        .iter()
        .filter_map(|(id, cell)| match patch(cell, missing) {
            Patch::Set(value) => Some((id.clone(), Some(value))),
            Patch::Clear => Some((id.clone(), None)),
            Patch::Keep => None,
        })
        .collect();
    if missing == MissingAttributes::Delete {
        attributes.extend(context.unmapped.iter().map(|id| (id.clone(), None)));
    }
    let changes = ContactChanges {
        external_id: match update.match_by {
            MatchBy::MessagingId => row.external_id.clone(),
            MatchBy::ExternalId => None,
        },
        first_name: patch(&row.first_name, missing),
        last_name: patch(&row.last_name, missing),
        phone: reach_patch(&row.phone, missing),
        email: reach_patch(&row.email, missing),
        country: patch(&row.country, missing),
        timezone: match &context.rules.timezone {
            Some(timezone) => Patch::Set(timezone.clone()),
            None => patch(&row.timezone, missing),
        },
        attributes,
        lists: lists_of(row, Some(&current.lists), context.rules),
    };
    let mut next = current
        .edited(changes, context.now)
        .map_err(|e| e.to_string())?;
    let consent: Vec<_> = consent_choices(row, |c| current.consent.get(c), context)
        .into_iter()
        .filter_map(|(channel, choice)| {
            next.consent
                .record(channel, choice, context.source, context.now)
        })
        .collect();
    let unchanged = Contact {
        version: current.version,
        updated_at: current.updated_at,
        ..next.clone()
    } == *current;
    next.mark_import(context.import.as_ref(), context.now);
    Ok((!unchanged).then_some(Update {
        contact: next,
        expected_version: current.version,
        consent,
        line: row.line,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact_with(id: MessagingId) -> Contact {
        let new = NewContact {
            external_id: crate::model::ExternalId::parse("x-1").ok(),
            first_name: None,
            last_name: None,
            reach: Reach::new(None, crate::model::Email::parse("a@example.com").ok())
                .expect("reach"),
            country: None,
            timezone: None,
            consent: Vec::new(),
            attributes: Default::default(),
            lists: Default::default(),
        };
        let (mut contact, _) =
            Contact::create(new, &ConsentSource::api(), crate::model::now()).expect("contact");
        contact.messaging_id = id;
        contact
    }

    #[test]
    fn a_created_contact_tells_its_import_and_row() {
        let import = ImportId::generate();
        let other = ImportId::generate();
        for line in [2, 3, 40_001, u64::from(u32::MAX)] {
            let contact = contact_with(CreatedIds::of(&import).id(line));
            assert_eq!(created_line(&import, &contact), Some(line));
            assert_eq!(created_line(&other, &contact), None, "another import's");
        }
        let (ours, theirs) = (CreatedIds::of(&import), CreatedIds::of(&other));
        assert_ne!(ours.id(2), ours.id(3));
        assert_ne!(ours.id(2), theirs.id(2));
        let made_by_hand = contact_with(MessagingId::generate());
        assert_eq!(created_line(&import, &made_by_hand), None);
    }
}
