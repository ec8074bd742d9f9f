//! Request and response bodies, and their conversion to and from the model
//! at the edge.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use std::collections::BTreeMap;

use crate::catalog::Catalog;
use crate::error::{Collector, Result};
use crate::model::{
    AttributeDefinition, AttributeId, AttributeLabel, AttributeName, AttributeType, AttributeValue,
    Channel, Consent, ConsentChange, ConsentChoice, Contact, ContactChanges, ContactList, Country,
    Email, ExternalId, InvalidValue, ListName, Name, NewContact, Patch, PhoneNumber, Reach,
    Timezone, owned_text,
};
use crate::query::{ColumnChoice, Page};

/// A new contact. `external_id` and one of `phone` or `email` are required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"external_id": "crm-1042", "first_name": "Ann", "last_name": "Lee", "phone": "+12025550143", "email": "ann@example.com", "country": "US", "timezone": "America/New_York", "consent": {"sms": "subscribed"}}))]
pub struct CreateContactRequest {
    /// The workspace's own key for the contact; unique in the workspace.
    #[schema(example = "crm-1042")]
    pub external_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// E.164, e.g. `+12345678902`; a string when given (not `null`).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "+12345678902")]
    pub phone: Patch<String>,
    /// A string when given (not `null`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub email: Patch<String>,
    /// ISO 3166-1 alpha-2, e.g. `US`.
    pub country: Option<String>,
    /// IANA time zone name, e.g. `America/New_York`.
    pub timezone: Option<String>,
    /// IDs of lists to add the contact to.
    #[serde(default)]
    pub lists: Vec<String>,
    /// Values of custom attributes, by attribute name.
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// Consent to record now; channels left out stay `not_subscribed`.
    #[serde(default, deserialize_with = "crate::model::optional_json_object")]
    pub consent: Option<ConsentRequest>,
}

/// Consent to record per channel: `subscribed` or `unsubscribed`; a channel
/// left out is unchanged.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sms": "subscribed", "email": "unsubscribed"}))]
pub struct ConsentRequest {
    #[schema(value_type = Option<ConsentChoice>)]
    pub sms: Option<String>,
    #[schema(value_type = Option<ConsentChoice>)]
    pub whatsapp: Option<String>,
    #[schema(value_type = Option<ConsentChoice>)]
    pub email: Option<String>,
}

impl ConsentRequest {
    /// The channels this request sets, with their choice; bad ones are
    /// recorded under `prefix.<channel>`.
    pub fn choices(self, errors: &mut Collector, prefix: &str) -> Vec<(Channel, ConsentChoice)> {
        [
            (Channel::Sms, self.sms),
            (Channel::Whatsapp, self.whatsapp),
            (Channel::Email, self.email),
        ]
        .into_iter()
        .filter_map(|(channel, raw)| {
            let field = format!("{prefix}{}", channel.as_str());
            Some((channel, errors.check(&field, ConsentChoice::parse(&raw?))?))
        })
        .collect()
    }

    /// The choices of a consent update, which must set at least one channel.
    pub fn into_update(self) -> Result<Vec<(Channel, ConsentChoice)>> {
        let mut errors = Collector::default();
        let given = [&self.sms, &self.whatsapp, &self.email]
            .iter()
            .any(|raw| raw.is_some());
        if !given {
            errors.push(
                "",
                "set at least one of sms, whatsapp, email to subscribed or unsubscribed",
            );
        }
        let choices = self.choices(&mut errors, "");
        errors.finish()?;
        Ok(choices)
    }
}

/// An edit: a field left out is unchanged, `null` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"last_name": "Lee-Smith", "timezone": "Europe/London"}))]
pub struct EditContactRequest {
    /// May change, or be set where an import left it out, but not be
    /// cleared; stays unique in the workspace.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub external_id: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub first_name: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub last_name: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub phone: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub email: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub country: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub timezone: Patch<String>,
    /// IDs of the lists the contact belongs to, replacing the current ones.
    pub lists: Option<Vec<String>>,
    /// Custom attribute values to set (`null` clears one).
    pub attributes: Option<Map<String, Value>>,
}

impl CreateContactRequest {
    /// The new contact, checked against the workspace's attributes and lists.
    pub fn into_new_contact(self, catalog: &Catalog) -> Result<NewContact> {
        let request = self;
        let mut errors = Collector::default();
        let external_id = match request.external_id.as_deref() {
            Some(raw) => errors.check("external_id", ExternalId::parse(raw)),
            None => {
                errors.push("external_id", "is required");
                None
            }
        };
        let first_name = optional(&mut errors, "first_name", request.first_name, Name::parse);
        let last_name = optional(&mut errors, "last_name", request.last_name, Name::parse);
        let phone = given(&mut errors, "phone", request.phone);
        let email = given(&mut errors, "email", request.email);
        let given = (phone.is_some(), email.is_some());
        let phone = optional(&mut errors, "phone", phone, PhoneNumber::parse);
        let email = optional(&mut errors, "email", email, Email::parse);
        let country = optional(&mut errors, "country", request.country, Country::parse);
        let timezone = optional(&mut errors, "timezone", request.timezone, Timezone::parse);
        let consent = request
            .consent
            .unwrap_or_default()
            .choices(&mut errors, "consent.");
        let lists = catalog.parse_lists(&mut errors, &request.lists);
        let attributes = parse_attributes(&mut errors, &request.attributes, catalog)
            .into_iter()
            .filter_map(|(id, value)| Some((id, value?)))
            .collect();
        // A phone or email that failed to parse was reported already.
        let reach = if given == (phone.is_some(), email.is_some()) {
            errors.merge(Reach::new(phone, email))
        } else {
            None
        };
        errors.finish()?;
        match (external_id, reach) {
            (Some(external_id), Some(reach)) => Ok(NewContact {
                external_id: Some(external_id),
                first_name,
                last_name,
                reach,
                country,
                timezone,
                consent,
                attributes,
                lists,
            }),
            _ => Err(anyhow::anyhow!("a rejected part of the contact went unreported").into()),
        }
    }
}

impl EditContactRequest {
    /// The changes, checked against the workspace's attributes and lists.
    pub fn into_changes(self, catalog: &Catalog) -> Result<ContactChanges> {
        let request = self;
        let mut errors = Collector::default();
        let external_id = match request.external_id {
            Patch::Keep => None,
            Patch::Clear => {
                errors.push("external_id", "can't be cleared once set");
                None
            }
            Patch::Set(raw) => errors.check("external_id", ExternalId::parse(&raw)),
        };
        let changes = ContactChanges {
            external_id,
            first_name: patch(&mut errors, "first_name", request.first_name, Name::parse),
            last_name: patch(&mut errors, "last_name", request.last_name, Name::parse),
            phone: patch(&mut errors, "phone", request.phone, PhoneNumber::parse),
            email: patch(&mut errors, "email", request.email, Email::parse),
            country: patch(&mut errors, "country", request.country, Country::parse),
            timezone: patch(&mut errors, "timezone", request.timezone, Timezone::parse),
            attributes: parse_attributes(
                &mut errors,
                &request.attributes.unwrap_or_default(),
                catalog,
            ),
            lists: request
                .lists
                .map(|lists| catalog.parse_lists(&mut errors, &lists)),
        };
        errors.finish()?;
        Ok(changes)
    }
}

/// A field that may be left out but not sent as `null`.
fn given(errors: &mut Collector, field: &str, raw: Patch<String>) -> Option<String> {
    match raw {
        Patch::Keep => None,
        Patch::Clear => {
            errors.push(field, "must be a string: leave it out for none");
            None
        }
        Patch::Set(raw) => Some(raw),
    }
}

fn optional<T>(
    errors: &mut Collector,
    field: &str,
    raw: Option<String>,
    parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
) -> Option<T> {
    raw.and_then(|raw| errors.check(field, parse(&raw)))
}

fn patch<T>(
    errors: &mut Collector,
    field: &str,
    raw: Patch<String>,
    parse: impl FnOnce(&str) -> Result<T, InvalidValue>,
) -> Patch<T> {
    errors
        .check(field, raw.try_map(|raw| parse(&raw)))
        .unwrap_or_default()
}

/// Custom values by attribute name → by attribute ID; `null` clears.
fn parse_attributes(
    errors: &mut Collector,
    attributes: &Map<String, Value>,
    catalog: &Catalog,
) -> BTreeMap<AttributeId, Option<AttributeValue>> {
    attributes
        .iter()
        .filter_map(|(name, value)| {
            let field = format!("attributes.{name}");
            let Some(definition) = catalog.attribute(name) else {
                errors.push(
                    field,
                    format!("{name:?} is not a custom attribute of this workspace"),
                );
                return None;
            };
            if value.is_null() {
                return Some((definition.id.clone(), None));
            }
            let value = errors.check(&field, AttributeValue::from_json(definition.kind, value))?;
            Some((definition.id.clone(), Some(value)))
        })
        .collect()
}

/// A contact as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"messaging_id": "01JDQ3V6Y8M6F3XG2W5T9K0ABC", "external_id": "crm-1042",
    "first_name": "Ann", "last_name": "Lee", "full_name": "Ann Lee", "phone": "+12025550143",
    "email": "ann@example.com", "country": "US", "timezone": "America/New_York",
    "consent": {"sms": "subscribed", "whatsapp": "not_subscribed", "email": "unsubscribed"},
    "lists": ["01JDQ4B2Z0W7KX8M5N3P6R9T1V"], "attributes": {"loyalty_tier": "Gold"},
    "created_at": "2026-11-25T08:04:58.860031Z", "updated_at": "2026-11-25T08:04:58.860031Z",
    "version": 1}))]
pub struct ContactBody {
    /// Assigned by the system; unique, immutable, URL-safe.
    #[schema(example = "01JDQ3V6Y8M6F3XG2W5T9K0ABC")]
    pub messaging_id: String,
    /// Set by the API and the form; `null` for a contact an import created
    /// from its email or phone, until someone sets one.
    pub external_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// First and last name, derived.
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub country: Option<String>,
    pub timezone: Option<String>,
    pub consent: Consent,
    /// IDs of the lists the contact belongs to.
    pub lists: Vec<String>,
    /// Custom attribute values by name.
    pub attributes: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Grows with every change; sent as the `ETag`.
    pub version: u64,
}

impl ContactBody {
    /// The contact as shown: custom values by attribute name and the lists
    /// that still exist (values of deleted attributes are not shown).
    pub fn new(contact: &Contact, catalog: &Catalog) -> Self {
        Self {
            messaging_id: contact.messaging_id.to_string(),
            external_id: owned_text(contact.external_id.as_ref()),
            first_name: owned_text(contact.first_name.as_ref()),
            last_name: owned_text(contact.last_name.as_ref()),
            full_name: contact.full_name(),
            phone: owned_text(contact.reach.phone()),
            email: owned_text(contact.reach.email()),
            country: owned_text(contact.country.as_ref()),
            timezone: owned_text(contact.timezone.as_ref()),
            consent: contact.consent,
            lists: catalog
                .existing_lists(&contact.lists)
                .map(|l| l.id.to_string())
                .collect(),
            attributes: contact
                .attributes
                .iter()
                .filter_map(|(id, value)| {
                    let definition = catalog.attribute_by_id(id)?;
                    Some((definition.name.to_string(), value.to_json()))
                })
                .collect(),
            created_at: contact.created_at,
            updated_at: contact.updated_at,
            version: contact.version,
        }
    }

    /// The contact as JSON with only `columns` (and always `messaging_id`).
    pub fn project(&self, columns: &[ColumnChoice]) -> Value {
        let full = serde_json::to_value(self).unwrap_or_default();
        let mut out = Map::new();
        let always = ColumnChoice::Generic(crate::model::Column::MessagingId);
        for column in std::iter::once(&always).chain(columns) {
            let custom;
            let path: &[&str] = match column {
                ColumnChoice::Generic(generic) => generic.json_path().0,
                ColumnChoice::Custom(name) => {
                    custom = ["attributes", name.as_ref()];
                    &custom
                }
            };
            let Some(value) = path.iter().try_fold(&full, |node, key| node.get(key)) else {
                continue;
            };
            match path {
                [key] => {
                    out.insert((*key).to_owned(), value.clone());
                }
                [parent, key] => {
                    if let Value::Object(inner) = out
                        .entry(*parent)
                        .or_insert_with(|| Value::Object(Map::new()))
                    {
                        inner.insert((*key).to_owned(), value.clone());
                    }
                }
                _ => {}
            }
        }
        Value::Object(out)
    }
}

/// A page of contacts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactPage {
    /// Each a `ContactBody`; with `columns=`, only those fields of it (and
    /// `messaging_id`).
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// A page of a contact's consent history, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentHistoryPage {
    pub items: Vec<ConsentChange>,
    pub next_cursor: Option<String>,
}

impl From<Page<ConsentChange>> for ConsentHistoryPage {
    fn from(page: Page<ConsentChange>) -> Self {
        Self {
            items: page.items,
            next_cursor: page.next_cursor.map(|c| c.0),
        }
    }
}

/// How many contacts the workspace holds, and how many it may.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageBody {
    pub count: u64,
    /// `null` when the workspace has no limit.
    pub limit: Option<u64>,
}

/// A custom or generic attribute, as `GET /v1/attributes` lists it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"name": "loyalty_tier", "label": "Loyalty tier", "type": "text", "read_only": false}))]
pub struct AttributeBody {
    pub name: String,
    pub label: String,
    /// `text`, `number`, `boolean`, `date` or `datetime`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Generic attributes are part of every contact and can't be changed.
    pub read_only: bool,
}

impl From<&AttributeDefinition> for AttributeBody {
    fn from(definition: &AttributeDefinition) -> Self {
        Self {
            name: definition.name.to_string(),
            label: definition.label.to_string(),
            kind: definition.kind.as_str().to_owned(),
            read_only: false,
        }
    }
}

/// A new custom attribute.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "loyalty_tier", "label": "Loyalty tier", "type": "text"}))]
pub struct CreateAttributeRequest {
    /// Stable key: lower-case letters, digits and `_`, starting with a letter.
    pub name: Option<String>,
    pub label: Option<String>,
    /// `text`, `number`, `boolean`, `date` or `datetime`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// A change of an attribute's label or type.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"label": "Tier"}))]
pub struct EditAttributeRequest {
    pub label: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

impl CreateAttributeRequest {
    /// The new attribute's name, label (the name when left out) and type.
    pub fn parse(&self) -> Result<(AttributeName, AttributeLabel, AttributeType)> {
        let mut errors = Collector::default();
        let name = match self.name.as_deref() {
            Some(raw) => errors.check("name", AttributeName::parse(raw)),
            None => {
                errors.push("name", "is required");
                None
            }
        };
        let label = self
            .label
            .as_deref()
            .or(self.name.as_deref())
            .and_then(|raw| errors.check("label", AttributeLabel::parse(raw)));
        if self.kind.is_none() {
            errors.push(
                "type",
                "is required: text, number, boolean, date or datetime",
            );
        }
        let kind = attribute_type(&mut errors, self.kind.as_deref());
        errors.finish()?;
        match (name, label, kind) {
            (Some(name), Some(label), Some(kind)) => Ok((name, label, kind)),
            _ => Err(anyhow::anyhow!("a rejected attribute field went unreported").into()),
        }
    }
}

impl EditAttributeRequest {
    /// The new label and type, each if given.
    pub fn parse(&self) -> Result<(Option<AttributeLabel>, Option<AttributeType>)> {
        let mut errors = Collector::default();
        let label = self
            .label
            .as_deref()
            .and_then(|raw| errors.check("label", AttributeLabel::parse(raw)));
        let kind = attribute_type(&mut errors, self.kind.as_deref());
        errors.finish()?;
        Ok((label, kind))
    }
}

fn attribute_type(errors: &mut Collector, raw: Option<&str>) -> Option<AttributeType> {
    raw.and_then(|raw| errors.check("type", AttributeType::parse(raw)))
}

/// A contact list.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01JDQ4B2Z0W7KX8M5N3P6R9T1V", "name": "VIP customers",
    "created_at": "2026-11-25T08:00:00Z", "member_count": 42}))]
pub struct ListBody {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// How many contacts belong to it.
    pub member_count: u64,
}

impl ListBody {
    /// The list with its member count.
    pub fn new(list: &ContactList, member_count: u64) -> Self {
        Self {
            id: list.id.to_string(),
            name: list.name.to_string(),
            created_at: list.created_at,
            member_count,
        }
    }
}

/// A list a contact belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListRef {
    pub id: String,
    pub name: String,
}

/// A list's name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "VIP customers"}))]
pub struct ListNameRequest {
    pub name: Option<String>,
}

impl ListNameRequest {
    /// The list's name.
    pub fn parse(&self) -> Result<ListName> {
        let mut errors = Collector::default();
        let name = match self.name.as_deref() {
            Some(raw) => errors.check("name", ListName::parse(raw)),
            None => {
                errors.push("name", "is required");
                None
            }
        };
        errors.finish()?;
        name.ok_or_else(|| anyhow::anyhow!("a rejected list name went unreported").into())
    }
}

/// Contacts to add to a list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"messaging_ids": ["01JDQ3V6Y8M6F3XG2W5T9K0ABC"]}))]
pub struct MembersRequest {
    /// Up to 500 Messaging IDs.
    pub messaging_ids: Vec<String>,
}

/// What adding members did.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembersResult {
    /// Contacts now in the list (including those already in it).
    pub added: Vec<String>,
    /// IDs that name no contact of the workspace.
    pub not_found: Vec<String>,
}

/// The visible columns of the All Contacts table.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"columns": ["full_name", "phone", "email", "sms_consent"]}))]
pub struct ColumnsBody {
    pub columns: Vec<String>,
}
