//! Mapping between model types and rows.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Row, ToSql};

use crate::error::{Error, Result};
use crate::model::{
    AttributeId, AttributeValue, Channel, Consent, ConsentChange, ConsentSource, ConsentStatus,
    Contact, Country, Email, ExternalId, ListId, MessagingId, Name, PhoneNumber, Reach,
    StoredValues, Timezone,
};
use crate::store::imports::{from_json, to_json};

/// The columns [`contact`] reads, prefixed for use with the `c` alias.
pub(super) const CONTACT_COLUMNS: &str = "c.id, c.messaging_id, c.external_id, c.first_name, \
    c.last_name, c.phone, c.email, c.country, c.timezone, c.sms, c.whatsapp, c.email_consent, \
    c.created_at, c.updated_at, c.version, c.attributes, \
    (SELECT group_concat(m.list_id) FROM list_members m WHERE m.contact = c.id), c.imports";

/// The columns [`consent_change`] reads.
pub(super) const CONSENT_COLUMNS: &str = "id, at, channel, old, new, source, note";

/// A contact and its row ID, from a row of [`CONTACT_COLUMNS`].
pub(super) fn contact(row: &Row<'_>) -> Result<(i64, Contact)> {
    let text = |i: usize| row.get::<_, Option<String>>(i);
    let contact = Contact {
        messaging_id: MessagingId::from_stored(row.get(1)?),
        external_id: text(2)?
            .filter(|id| !id.is_empty())
            .map(ExternalId::from_stored),
        first_name: text(3)?.map(Name::from_stored),
        last_name: text(4)?.map(Name::from_stored),
        reach: Reach::new(
            text(5)?.map(PhoneNumber::from_stored),
            text(6)?.map(Email::from_stored),
        )?,
        country: text(7)?.map(Country::from_stored),
        timezone: text(8)?.map(Timezone::from_stored),
        consent: Consent {
            sms: status(row, 9)?,
            whatsapp: status(row, 10)?,
            email: status(row, 11)?,
        },
        attributes: attributes_from_json(&row.get::<_, String>(15)?)?,
        lists: text(16)?
            .map(|ids| {
                ids.split(',')
                    .map(|id| ListId::from_stored(id.to_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        created_at: time(row, 12)?,
        updated_at: time(row, 13)?,
        version: unsigned(row.get(14)?)?,
        imports: text(17)?
            .map(|json| from_json(&json))
            .transpose()?
            .unwrap_or_default(),
    };
    Ok((row.get(0)?, contact))
}

/// A consent change and its row ID, from a row of [`CONSENT_COLUMNS`].
pub(super) fn consent_change(row: &Row<'_>) -> Result<(i64, ConsentChange)> {
    let change = ConsentChange {
        at: time(row, 1)?,
        channel: Channel::parse(&row.get::<_, String>(2)?)?,
        old: status(row, 3)?,
        new: status(row, 4)?,
        source: ConsentSource::from_stored(row.get(5)?),
        note: row.get(6)?,
    };
    Ok((row.get(0)?, change))
}

/// Custom values as stored: `{"<attribute id>": <stored value>}`.
fn attributes_json(contact: &Contact) -> Result<String> {
    to_json(&StoredValues(&contact.attributes))
}

fn attributes_from_json(json: &str) -> Result<BTreeMap<AttributeId, AttributeValue>> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|e| Error::Unexpected(e.into()))?;
    map.iter()
        .map(|(id, stored)| {
            Ok((
                AttributeId::from_stored(id.clone()),
                AttributeValue::from_stored(stored)?,
            ))
        })
        .collect()
}

/// The values of a contact's columns, in the order of [`CONTACT_FIELDS`];
/// its text is bound where it lies, not copied.
pub(super) fn contact_values(contact: &Contact) -> Result<[ToSqlOutput<'_>; 16]> {
    Ok([
        text(Some(contact.messaging_id.as_ref())),
        text(Some(contact.external_id.as_ref().map_or("", AsRef::as_ref))),
        text(contact.first_name.as_ref().map(AsRef::as_ref)),
        text(contact.last_name.as_ref().map(AsRef::as_ref)),
        contact
            .full_name()
            .map_or(ToSqlOutput::Borrowed(ValueRef::Null), |name| {
                ToSqlOutput::Owned(Value::Text(name))
            }),
        text(contact.reach.phone().map(AsRef::as_ref)),
        text(contact.reach.email().map(AsRef::as_ref)),
        text(contact.country.as_ref().map(AsRef::as_ref)),
        text(contact.timezone.as_ref().map(AsRef::as_ref)),
        text(Some(contact.consent.sms.as_str())),
        text(Some(contact.consent.whatsapp.as_str())),
        text(Some(contact.consent.email.as_str())),
        ToSqlOutput::Owned(Value::Integer(contact.updated_at.timestamp_micros())),
        ToSqlOutput::Owned(Value::Integer(
            i64::try_from(contact.version).unwrap_or(i64::MAX),
        )),
        ToSqlOutput::Owned(Value::Text(attributes_json(contact)?)),
        match contact.imports.as_slice() {
            [] => ToSqlOutput::Borrowed(ValueRef::Null),
            marks => ToSqlOutput::Owned(Value::Text(to_json(&marks)?)),
        },
    ])
}

/// The expression that finds a contact by External ID through its unique
/// index (a contact without one stores `''`, which it reads as `NULL`).
pub(super) const EXTERNAL_ID: &str = "nullif(c.external_id, '')";

/// Text bound in place; `None` is `NULL`.
pub(super) fn text(value: Option<&str>) -> ToSqlOutput<'_> {
    ToSqlOutput::Borrowed(value.map_or(ValueRef::Null, |s| ValueRef::Text(s.as_bytes())))
}

/// The stored contact columns that [`contact_values`] fills, in order.
pub(super) const CONTACT_FIELDS: [&str; 16] = [
    "messaging_id",
    "external_id",
    "first_name",
    "last_name",
    "full_name",
    "phone",
    "email",
    "country",
    "timezone",
    "sms",
    "whatsapp",
    "email_consent",
    "updated_at",
    "version",
    "attributes",
    "imports",
];

/// A timestamp as stored: microseconds since the epoch.
pub(super) fn micros(at: DateTime<Utc>) -> impl ToSql {
    at.timestamp_micros()
}

/// A count or version as stored (SQLite integers are signed).
pub(super) fn unsigned(value: i64) -> Result<u64> {
    u64::try_from(value)
        .map_err(|_| Error::Unexpected(anyhow::anyhow!("stored count {value} is negative")))
}

fn time(row: &Row<'_>, i: usize) -> Result<DateTime<Utc>> {
    let micros: i64 = row.get(i)?;
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| Error::Unexpected(anyhow::anyhow!("stored time {micros} is out of range")))
}

fn status(row: &Row<'_>, i: usize) -> Result<ConsentStatus> {
    Ok(ConsentStatus::parse(&row.get::<_, String>(i)?)?)
}
