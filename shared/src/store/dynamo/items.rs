//! Item shapes and keys, mapped with `serde_dynamo` through private records.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::DateTime;
use serde::{Deserialize, Serialize};

use super::{SHARDS, unexpected};
use crate::error::{Error, Result};
use crate::model::{
    AttributeId, AttributeValue as ModelValue, Channel, Consent, ConsentChange, ConsentSource,
    ConsentStatus, Contact, Country, Email, ExternalId, ImportMark, ListId, MessagingId, Name,
    PhoneNumber, Reach, Timezone, WorkspaceId, owned_text,
};
use crate::search::ContactWords;

/// A DynamoDB item.
pub(super) type Item = HashMap<String, AttributeValue>;

/// The key of a contact item.
pub(super) fn contact_key(workspace: &WorkspaceId, id: &MessagingId) -> Item {
    key(format!("C#{}#{id}", workspace.as_ref()), "C")
}

/// The key of the guard that reserves an External ID.
pub(super) fn guard_key(workspace: &WorkspaceId, id: &ExternalId) -> Item {
    key(format!("X#{}#{id}", workspace.as_ref()), "X")
}

/// The key of one shard of the usage counter.
pub(super) fn usage_key(workspace: &WorkspaceId, shard: u32) -> Item {
    key(usage_partition(workspace), &format!("{shard:02}"))
}

/// The partition holding every usage shard of a workspace.
pub(super) fn usage_partition(workspace: &WorkspaceId) -> String {
    format!("U#{}", workspace.as_ref())
}

/// The partition of a contact's consent history.
pub(super) fn history_partition(workspace: &WorkspaceId, id: &MessagingId) -> String {
    format!("H#{}#{id}", workspace.as_ref())
}

/// The partition of the workspace index that holds `shard`.
pub(super) fn workspace_partition(workspace: &WorkspaceId, shard: u32) -> String {
    format!("{}#{shard:02}", workspace.as_ref())
}

/// The shard a contact belongs to, from its Messaging ID: the partition of
/// the workspace index its items are listed from.
pub fn shard_of(id: &MessagingId) -> u32 {
    let hash = id.as_ref().bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    hash % SHARDS
}

/// A contact's place in the newest-first order: creation time, then ID.
pub(super) fn position(contact: &Contact) -> String {
    format!(
        "{:016}#{}",
        contact.created_at.timestamp_micros(),
        contact.messaging_id
    )
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk)),
        ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

/// The stored shape of a contact.
#[derive(Debug, Serialize, Deserialize)]
struct ContactRecord {
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wpk: Option<String>,
    wsk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    epk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ppk: Option<String>,
    /// Set on membership copies only: the `by_list` index key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lpk: Option<String>,
    messaging_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    full_name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    country: Option<String>,
    timezone: Option<String>,
    /// Lower-cased copies of the text fields, for case-insensitive `contains`.
    s_first: Option<String>,
    s_last: Option<String>,
    s_full: Option<String>,
    s_email: Option<String>,
    sms: String,
    whatsapp: String,
    email_consent: String,
    created_at: i64,
    updated_at: i64,
    version: u64,
    /// Custom values in their stored form, by attribute ID.
    #[serde(default)]
    attrs: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    lists: Vec<String>,
    /// The imports that changed it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    imports: Vec<ImportMark>,
}

/// The item of a contact.
pub(super) fn contact_item(workspace: &WorkspaceId, contact: &Contact) -> Result<Item> {
    let lower = |value: &Option<String>| value.as_deref().map(str::to_lowercase);
    let ws = workspace.as_ref();
    let first_name = owned_text(contact.first_name.as_ref());
    let last_name = owned_text(contact.last_name.as_ref());
    let full_name = contact.full_name();
    let email = owned_text(contact.reach.email());
    let phone = owned_text(contact.reach.phone());
    let record = ContactRecord {
        pk: format!("C#{ws}#{}", contact.messaging_id),
        sk: "C".to_owned(),
        wpk: Some(workspace_partition(
            workspace,
            shard_of(&contact.messaging_id),
        )),
        lpk: None,
        wsk: position(contact),
        epk: lower(&email).map(|e| format!("{ws}#{e}")),
        ppk: phone.as_ref().map(|p| format!("{ws}#{p}")),
        messaging_id: contact.messaging_id.to_string(),
        external_id: owned_text(contact.external_id.as_ref()),
        s_first: lower(&first_name),
        s_last: lower(&last_name),
        s_full: lower(&full_name),
        s_email: lower(&email),
        first_name,
        last_name,
        full_name,
        phone,
        email,
        country: owned_text(contact.country.as_ref()),
        timezone: owned_text(contact.timezone.as_ref()),
        sms: contact.consent.sms.as_str().to_owned(),
        whatsapp: contact.consent.whatsapp.as_str().to_owned(),
        email_consent: contact.consent.email.as_str().to_owned(),
        created_at: contact.created_at.timestamp_micros(),
        updated_at: contact.updated_at.timestamp_micros(),
        version: contact.version,
        attrs: contact
            .attributes
            .iter()
            .map(|(id, value)| (id.to_string(), value.to_stored()))
            .collect(),
        lists: contact.lists.iter().map(ToString::to_string).collect(),
        imports: contact.imports.clone(),
    };
    serde_dynamo::to_item(record).map_err(unexpected)
}

/// The item of a new contact, with the consent it was created with.
pub(super) fn new_contact_item(
    workspace: &WorkspaceId,
    contact: &Contact,
    consent: &[ConsentChange],
) -> Result<Item> {
    let mut item = contact_item(workspace, contact)?;
    if let Some(creation) = creation_consent(consent) {
        item.insert(CREATION_CONSENT.to_owned(), creation);
    }
    Ok(item)
}

/// The copy of a contact that makes it a member of `list` in the `by_list`
/// index: in the contact's partition, out of the other indexes.
pub(super) fn membership_item(
    workspace: &WorkspaceId,
    contact: &Contact,
    list: &ListId,
) -> Result<Item> {
    let mut item = contact_item(workspace, contact)?;
    for key in ["wpk", "epk", "ppk"] {
        item.remove(key);
    }
    item.insert("sk".to_owned(), AttributeValue::S(format!("L#{list}")));
    item.insert(
        "lpk".to_owned(),
        AttributeValue::S(list_partition(
            workspace,
            list,
            shard_of(&contact.messaging_id),
        )),
    );
    Ok(item)
}

/// The key of a contact's membership copy for `list`.
pub(super) fn membership_key(workspace: &WorkspaceId, id: &MessagingId, list: &ListId) -> Item {
    key(
        format!("C#{}#{id}", workspace.as_ref()),
        &format!("L#{list}"),
    )
}

/// The partition of the `by_list` index that holds `shard` of `list`.
pub(super) fn list_partition(workspace: &WorkspaceId, list: &ListId, shard: u32) -> String {
    format!("{}#{list}#{shard:02}", workspace.as_ref())
}

/// The key of one shard of a list's member counter.
pub(super) fn member_count_key(workspace: &WorkspaceId, list: &ListId, shard: u32) -> Item {
    key(
        member_count_partition(workspace, list),
        &format!("{shard:02}"),
    )
}

/// The partition holding every shard of a list's member counter.
pub(super) fn member_count_partition(workspace: &WorkspaceId, list: &ListId) -> String {
    format!("LC#{}#{list}", workspace.as_ref())
}

/// The contact an item holds, and its position.
pub(super) fn contact_from_item(item: Item) -> Result<(String, Contact)> {
    let r: ContactRecord = serde_dynamo::from_item(item).map_err(unexpected)?;
    let contact = Contact {
        messaging_id: MessagingId::from_stored(r.messaging_id),
        external_id: r.external_id.map(ExternalId::from_stored),
        first_name: r.first_name.map(Name::from_stored),
        last_name: r.last_name.map(Name::from_stored),
        reach: Reach::new(
            r.phone.map(PhoneNumber::from_stored),
            r.email.map(Email::from_stored),
        )?,
        country: r.country.map(Country::from_stored),
        timezone: r.timezone.map(Timezone::from_stored),
        consent: Consent {
            sms: ConsentStatus::parse(&r.sms)?,
            whatsapp: ConsentStatus::parse(&r.whatsapp)?,
            email: ConsentStatus::parse(&r.email_consent)?,
        },
        attributes: r
            .attrs
            .iter()
            .map(|(id, stored)| {
                Ok((
                    AttributeId::from_stored(id.clone()),
                    ModelValue::from_stored(stored)?,
                ))
            })
            .collect::<Result<_>>()?,
        lists: r.lists.into_iter().map(ListId::from_stored).collect(),
        created_at: time(r.created_at)?,
        updated_at: time(r.updated_at)?,
        version: r.version,
        imports: r.imports,
    };
    Ok((r.wsk, contact))
}

/// The most search entries one contact has: a contact whose words start
/// in more ways has one overflow entry instead (key [`OVERFLOW_KEY`]),
/// which every search reads, so a contact's writes fit a transaction.
pub(super) const MAX_SEARCH_KEYS: usize = 16;
/// The key of the entries of contacts with too many word starts.
pub(super) const OVERFLOW_KEY: &str = "*";

/// The partition of the search entries under `key` in `shard`.
pub(super) fn search_partition(workspace: &WorkspaceId, shard: u32, key: &str) -> String {
    format!("T#{}#{shard:02}#{key}", workspace.as_ref())
}

/// The keys a contact's search entries are under.
pub(super) fn search_keys(words: &ContactWords) -> BTreeSet<String> {
    let keys = words.keys();
    if keys.len() > MAX_SEARCH_KEYS {
        BTreeSet::from([OVERFLOW_KEY.to_owned()])
    } else {
        keys
    }
}

/// A search entry's words: a string set, each `<group tag> <word>`.
pub(super) const ENTRY_WORDS: &str = "w";
/// The version of the contact a search entry's words were written for.
pub(super) const ENTRY_VERSION: &str = "v";

/// A version (or any count) as a DynamoDB number.
pub(super) fn version(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A contact's words as a search entry holds them.
pub(super) fn search_words(words: &ContactWords) -> AttributeValue {
    AttributeValue::Ss(words.tagged().into_iter().collect())
}

/// The key of `contact`'s search entry under `key`.
pub(super) fn search_entry_key(workspace: &WorkspaceId, contact: &Contact, key: &str) -> Item {
    let shard = shard_of(&contact.messaging_id);
    self::key(search_partition(workspace, shard, key), &position(contact))
}

/// `contact`'s search entry under `key`, holding all of its `words`.
pub(super) fn search_entry(
    workspace: &WorkspaceId,
    contact: &Contact,
    words: &ContactWords,
    key: &str,
) -> Item {
    let mut item = search_entry_key(workspace, contact, key);
    item.insert(ENTRY_WORDS.to_owned(), search_words(words));
    item.insert(ENTRY_VERSION.to_owned(), version(contact.version));
    item
}

/// A search entry's contact (its position and Messaging ID) and words (none
/// from an entry of an earlier shape, until `reindex` rewrites it).
pub(super) fn search_from_item(item: &Item) -> Result<(String, MessagingId, ContactWords)> {
    let position = match item.get("sk") {
        Some(AttributeValue::S(position)) => position,
        _ => return Err(anyhow::anyhow!("a search entry without a position: {item:?}").into()),
    };
    let id = position
        .split_once('#')
        .map(|(_, id)| MessagingId::from_stored(id.to_owned()))
        .ok_or_else(|| anyhow::anyhow!("a search entry without a position: {position:?}"))?;
    let words = match item.get(ENTRY_WORDS) {
        Some(AttributeValue::Ss(words)) => ContactWords::from_tagged(words.iter().cloned()),
        _ => ContactWords::default(),
    };
    Ok((position.clone(), id, words))
}

/// The stored shape of an External ID guard.
#[derive(Debug, Serialize, Deserialize)]
struct GuardRecord {
    pk: String,
    sk: String,
    holder: String,
}

/// The guard reserving `contact`'s External ID for it, if it has one.
pub(super) fn guard_item(workspace: &WorkspaceId, contact: &Contact) -> Option<Item> {
    let mut item = guard_key(workspace, contact.external_id.as_ref()?);
    item.insert(
        "holder".to_owned(),
        AttributeValue::S(contact.messaging_id.to_string()),
    );
    Some(item)
}

/// The guard an import puts before its contact's item (in a transaction of
/// guards and counters): with the time it was written and the lists whose
/// member counts it moved, so that a guard whose contact never came can be
/// freed and its counts taken back.
pub(super) fn pending_guard_item(
    workspace: &WorkspaceId,
    contact: &Contact,
    at_micros: i64,
) -> Option<Item> {
    let mut item = guard_item(workspace, contact)?;
    item.insert(
        GUARD_AT.to_owned(),
        AttributeValue::N(at_micros.to_string()),
    );
    if !contact.lists.is_empty() {
        item.insert(
            GUARD_LISTS.to_owned(),
            AttributeValue::Ss(contact.lists.iter().map(ToString::to_string).collect()),
        );
    }
    Some(item)
}

/// When an import wrote a guard (µs), on guards imports write.
pub(super) const GUARD_AT: &str = "guarded_at";
/// The lists an import's guard counted its contact in.
pub(super) const GUARD_LISTS: &str = "lists";

/// The Messaging ID a guard item holds.
pub(super) fn holder_from_item(item: Item) -> Result<MessagingId> {
    let record: GuardRecord = serde_dynamo::from_item(item).map_err(unexpected)?;
    Ok(MessagingId::from_stored(record.holder))
}

/// The stored shape of a consent change.
#[derive(Debug, Serialize, Deserialize)]
struct ChangeRecord {
    pk: String,
    sk: String,
    at: i64,
    channel: String,
    old: String,
    new: String,
    source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// A consent change's place in its contact's history: time, the version it
/// was written with, and its place among that version's changes.
fn change_sort_key(change: &ConsentChange, version: u64, n: usize) -> String {
    format!("{:016}#{version:010}#{n:02}", change.at.timestamp_micros())
}

/// The attribute of a contact item holding the consent it was created with
/// (its first history entries, kept on the item instead of items of their own).
pub(super) const CREATION_CONSENT: &str = "c0";

/// The creation consent as one compact string: `<at µs>|<channel>:<old>:<new>,…|<source>`.
pub(super) fn creation_consent(changes: &[ConsentChange]) -> Option<AttributeValue> {
    let first = changes.first()?;
    let channels: Vec<String> = changes
        .iter()
        .map(|c| {
            format!(
                "{}:{}:{}",
                c.channel.as_str(),
                c.old.as_str(),
                c.new.as_str()
            )
        })
        .collect();
    Some(AttributeValue::S(format!(
        "{}|{}|{}",
        first.at.timestamp_micros(),
        channels.join(","),
        first.source.as_ref()
    )))
}

/// The creation consent an item holds, as history entries with their sort keys.
pub(super) fn creation_changes(item: &Item) -> Result<Vec<(String, ConsentChange)>> {
    let Some(AttributeValue::S(text)) = item.get(CREATION_CONSENT) else {
        return Ok(Vec::new());
    };
    let malformed = || Error::Unexpected(anyhow::anyhow!("a malformed creation consent {text:?}"));
    let mut parts = text.splitn(3, '|');
    let (Some(at), Some(channels), Some(source)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let at = time(at.parse().map_err(|_| malformed())?)?;
    channels
        .split(',')
        .enumerate()
        .map(|(n, entry)| {
            let mut fields = entry.split(':');
            let (Some(channel), Some(old), Some(new)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(malformed());
            };
            let change = ConsentChange {
                at,
                channel: Channel::parse(channel)?,
                old: ConsentStatus::parse(old)?,
                new: ConsentStatus::parse(new)?,
                source: ConsentSource::from_stored(source.to_owned()),
                note: None,
            };
            Ok((change_sort_key(&change, 1, n), change))
        })
        .collect()
}

/// The items of the consent changes written with `contact`'s version.
pub(super) fn change_items(
    workspace: &WorkspaceId,
    contact: &Contact,
    changes: &[ConsentChange],
) -> Result<Vec<Item>> {
    changes
        .iter()
        .enumerate()
        .map(|(n, change)| {
            change_item(
                workspace,
                &contact.messaging_id,
                change_sort_key(change, contact.version, n),
                change,
            )
        })
        .collect()
}

/// The item of one consent change of contact `id`, at `sk`.
pub(super) fn change_item(
    workspace: &WorkspaceId,
    id: &MessagingId,
    sk: String,
    change: &ConsentChange,
) -> Result<Item> {
    serde_dynamo::to_item(ChangeRecord {
        pk: history_partition(workspace, id),
        sk,
        at: change.at.timestamp_micros(),
        channel: change.channel.as_str().to_owned(),
        old: change.old.as_str().to_owned(),
        new: change.new.as_str().to_owned(),
        source: change.source.as_ref().to_owned(),
        note: change.note.clone(),
    })
    .map_err(unexpected)
}

/// The key of the item that says what a merged-away Messaging ID became.
pub(super) fn merged_key(workspace: &WorkspaceId, id: &MessagingId) -> Item {
    key(format!("M#{}#{id}", workspace.as_ref()), "M")
}

/// The item that says contact `id` was merged into `survivor`.
pub(super) fn merged_item(
    workspace: &WorkspaceId,
    id: &MessagingId,
    survivor: &MessagingId,
) -> Item {
    let mut item = merged_key(workspace, id);
    item.insert(
        "survivor".to_owned(),
        AttributeValue::S(survivor.to_string()),
    );
    item
}

/// The survivor a merged item names.
pub(super) fn survivor_from_item(item: &Item) -> Result<MessagingId> {
    match item.get("survivor") {
        Some(AttributeValue::S(id)) => Ok(MessagingId::from_stored(id.clone())),
        _ => Err(Error::Unexpected(anyhow::anyhow!(
            "a merged item without its survivor"
        ))),
    }
}

/// A consent change from its item, with its sort key.
pub(super) fn change_from_item(item: Item) -> Result<(String, ConsentChange)> {
    let r: ChangeRecord = serde_dynamo::from_item(item).map_err(unexpected)?;
    let change = ConsentChange {
        at: time(r.at)?,
        channel: Channel::parse(&r.channel)?,
        old: ConsentStatus::parse(&r.old)?,
        new: ConsentStatus::parse(&r.new)?,
        source: ConsentSource::from_stored(r.source),
        note: r.note,
    };
    Ok((r.sk, change))
}

/// The count a counter shard item holds.
pub(super) fn count_from_item(item: &Item) -> Result<u64> {
    match item.get("contacts") {
        Some(AttributeValue::N(n)) => n
            .parse::<i64>()
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(|e| Error::Unexpected(anyhow::anyhow!("usage count {n:?}: {e}"))),
        _ => Ok(0),
    }
}

fn time(micros: i64) -> Result<chrono::DateTime<chrono::Utc>> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| Error::Unexpected(anyhow::anyhow!("stored time {micros} is out of range")))
}
