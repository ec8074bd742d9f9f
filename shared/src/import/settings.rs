//! The settings of an import (its sidecar JSON), as the user sends them, and
//! their check against the workspace's catalog.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::catalog::Catalog;
use crate::error::{Collector, Error, Result};
use crate::model::{
    AttributeLabel, AttributeName, AttributeType, Channel, Column, ConsentStatus, ListId, Timezone,
};

/// Every option of the Upload CSV flow. Every field is optional; an unknown
/// one is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({"existing_contacts": "retain", "update_existing": {"match_by": "external_id", "missing_attributes": "keep"}}))]
pub struct ImportSettings {
    /// IDs of lists every created or updated contact joins.
    pub lists: Vec<String>,
    /// An IANA time zone for every imported contact, ignoring the file's;
    /// `null` keeps the file's values.
    pub timezone: Option<String>,
    pub existing_contacts: ExistingContacts,
    /// `null`: new contacts only (rows matching a contact are skipped).
    #[serde(deserialize_with = "crate::model::optional_json_object")]
    pub update_existing: Option<UpdateExisting>,
    /// CSV header → attribute name, `null` to skip, or `{"create": {...}}`;
    /// headers left out are mapped automatically. `null`: map every header
    /// automatically.
    #[schema(value_type = Option<Object>)]
    pub columns: Option<BTreeMap<String, Option<ColumnTarget>>>,
    /// Import a row with an invalid value with that value cleared, instead
    /// of rejecting the row.
    pub replace_invalid_values: bool,
    #[serde(deserialize_with = "crate::model::json_object")]
    pub default_consent: DefaultConsent,
    /// Confirms the contacts agreed to be messaged; needed for a
    /// `subscribed` default.
    pub consent_confirmed: bool,
    /// Report what would happen, writing no contact.
    pub dry_run: bool,
}

/// What happens to contacts the file does not mention.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExistingContacts {
    /// Keep them.
    #[default]
    Retain,
    /// Delete every contact that existed before the import and that no row
    /// identified, once every row is done.
    Remove,
}

/// How rows update the contacts they match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct UpdateExisting {
    pub match_by: MatchBy,
    pub missing_attributes: MissingAttributes,
}

/// The identifier that matches a row to a contact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchBy {
    #[default]
    ExternalId,
    MessagingId,
}

/// What an update does with attributes the file leaves out (or empty cells).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissingAttributes {
    /// They stay as they were.
    #[default]
    Keep,
    /// They are cleared (never identifiers, consent or lists).
    Delete,
}

/// Consent for new contacts, and for channels still `not_subscribed`, where
/// a row gives none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DefaultConsent {
    pub sms: ConsentStatus,
    pub whatsapp: ConsentStatus,
    pub email: ConsentStatus,
}

impl DefaultConsent {
    /// The default of each channel.
    pub fn by_channel(&self) -> [(Channel, ConsentStatus); 3] {
        [
            (Channel::Sms, self.sms),
            (Channel::Whatsapp, self.whatsapp),
            (Channel::Email, self.email),
        ]
    }
}

/// Where a mapped column goes: an attribute by name, or a new custom
/// attribute to define from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ColumnTarget {
    Attribute(String),
    Create {
        #[serde(deserialize_with = "crate::model::json_object")]
        create: NewAttribute,
    },
}

/// A custom attribute an import defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttribute {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// A validated attribute to define.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeToCreate {
    pub name: AttributeName,
    pub label: AttributeLabel,
    pub kind: AttributeType,
}

/// A column mapping the user chose, checked against the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChosenTarget {
    Skip,
    Generic(Column),
    Custom(AttributeName),
    Create(AttributeToCreate),
}

impl ChosenTarget {
    /// The attribute the column fills; `None` when it is skipped.
    pub fn attribute_name(&self) -> Option<String> {
        match self {
            ChosenTarget::Skip => None,
            ChosenTarget::Generic(column) => Some(column.name().to_owned()),
            ChosenTarget::Custom(name) => Some(name.to_string()),
            ChosenTarget::Create(new) => Some(new.name.to_string()),
        }
    }
}

/// Settings checked against the workspace: what the engine runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub lists: BTreeSet<ListId>,
    pub timezone: Option<Timezone>,
    pub remove_missing: bool,
    pub update: Option<UpdateExisting>,
    /// Header → chosen target, for the headers the user mapped.
    pub columns: BTreeMap<String, ChosenTarget>,
    pub replace_invalid: bool,
    pub default_consent: DefaultConsent,
    pub dry_run: bool,
}

/// Generic columns an import can write.
pub fn importable(column: Column) -> bool {
    !matches!(column, Column::CreatedAt | Column::UpdatedAt)
}

impl ImportSettings {
    /// Checks every field against the catalog, naming each bad one.
    pub fn check(&self, catalog: &Catalog) -> Result<Rules> {
        let mut errors = Collector::default();
        let lists = catalog.parse_lists(&mut errors, &self.lists);
        let timezone = self
            .timezone
            .as_deref()
            .and_then(|raw| errors.check("timezone", Timezone::parse(raw)));
        if !self.consent_confirmed {
            for (channel, status) in self.default_consent.by_channel() {
                if status == ConsentStatus::Subscribed {
                    errors.push(
                        format!("default_consent.{}", channel.as_str()),
                        "a subscribed default needs consent_confirmed: true (confirm these contacts agreed to be messaged)",
                    );
                }
            }
        }
        let columns = self.check_columns(catalog, &mut errors);
        errors.finish()?;
        Ok(Rules {
            lists,
            timezone,
            remove_missing: self.existing_contacts == ExistingContacts::Remove,
            update: self.update_existing,
            columns,
            replace_invalid: self.replace_invalid_values,
            default_consent: self.default_consent,
            dry_run: self.dry_run,
        })
    }

    fn check_columns(
        &self,
        catalog: &Catalog,
        errors: &mut Collector,
    ) -> BTreeMap<String, ChosenTarget> {
        let mut chosen = BTreeMap::new();
        let mut taken: BTreeMap<String, &str> = BTreeMap::new();
        for (header, target) in self.columns.iter().flatten() {
            let field = format!("columns.{header}");
            let target = match target {
                None => ChosenTarget::Skip,
                Some(ColumnTarget::Attribute(name)) => match chosen_attribute(name, catalog) {
                    Ok(target) => target,
                    Err(message) => {
                        errors.push(field, message);
                        continue;
                    }
                },
                Some(ColumnTarget::Create { create }) => {
                    match new_attribute(create, catalog, &field, errors) {
                        Some(target) => target,
                        None => continue,
                    }
                }
            };
            if let Some(name) = target.attribute_name()
                && let Some(other) = taken.insert(name.clone(), header)
            {
                errors.push(
                    field,
                    format!("columns {other:?} and {header:?} both map to {name:?}; map one of them elsewhere or skip it"),
                );
                continue;
            }
            chosen.insert(header.clone(), target);
        }
        chosen
    }
}

fn chosen_attribute(name: &str, catalog: &Catalog) -> Result<ChosenTarget, String> {
    if let Some(column) = Column::parse(name) {
        return if importable(column) {
            Ok(ChosenTarget::Generic(column))
        } else {
            Err(format!(
                "{name:?} is set by the system and can't be imported; skip this column (null)"
            ))
        };
    }
    match catalog.attribute(name) {
        Some(definition) => Ok(ChosenTarget::Custom(definition.name.clone())),
        None => Err(format!(
            "{name:?} is neither a generic attribute nor a custom attribute of this workspace; \
             map the column to one, skip it (null) or create it ({{\"create\": {{\"name\", \"label\", \"type\"}}}})"
        )),
    }
}

/// An attribute to define; one that exists with the same type is used as
/// it is (so a resumed import finds the attribute it made).
fn new_attribute(
    create: &NewAttribute,
    catalog: &Catalog,
    field: &str,
    errors: &mut Collector,
) -> Option<ChosenTarget> {
    let name = errors.check(
        &format!("{field}.create.name"),
        AttributeName::parse(&create.name),
    );
    let label = errors.check(
        &format!("{field}.create.label"),
        AttributeLabel::parse(&create.label),
    );
    let kind = errors.check(
        &format!("{field}.create.type"),
        AttributeType::parse(&create.kind),
    );
    let (name, kind) = (name?, kind?);
    match catalog.attribute(name.as_ref()) {
        Some(existing) if existing.kind == kind => Some(ChosenTarget::Custom(name)),
        Some(existing) => {
            errors.push(
                format!("{field}.create.name"),
                format!(
                    "a custom attribute named {name:?} already exists with type {}; map the column to it instead",
                    existing.kind.as_str()
                ),
            );
            None
        }
        None => Some(ChosenTarget::Create(AttributeToCreate {
            name,
            label: label?,
            kind,
        })),
    }
}

/// Reads settings from JSON (an API body or a sidecar), naming the field of
/// any error.
pub fn parse_settings(json: &[u8]) -> Result<ImportSettings> {
    let deserializer = &mut serde_json::Deserializer::from_slice(json);
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let message = error.inner().to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(&*message, |(m, _)| m)
            .to_owned();
        Error::invalid(if path == "." { String::new() } else { path }, message)
    })
}
