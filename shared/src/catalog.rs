//! The workspace's custom attributes, lists and saved columns: what contact
//! requests are checked against, and the use cases that manage them.

use std::collections::{BTreeSet, HashSet};

use crate::AppState;
use crate::audit::{Audit, Change, Operation};
use crate::error::{Collector, Error, Result};
use crate::model::{
    AttributeDefinition, AttributeId, AttributeLabel, AttributeName, AttributeType, Column,
    ContactList, ListId, ListName, WorkspaceId, now,
};
use crate::query::ColumnChoice;

/// The attribute definitions and lists of one workspace, read once per request.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub attributes: Vec<AttributeDefinition>,
    pub lists: Vec<ContactList>,
}

impl Catalog {
    /// Reads the workspace's catalog.
    pub async fn load(state: &AppState, workspace: &WorkspaceId) -> Result<Self> {
        let (attributes, lists) = tokio::try_join!(
            state.schema.attributes(workspace),
            state.lists.lists(workspace)
        )?;
        Ok(Self { attributes, lists })
    }

    /// The definition called `name`.
    pub fn attribute(&self, name: &str) -> Option<&AttributeDefinition> {
        self.attributes.iter().find(|d| d.name.as_ref() == name)
    }

    /// The definition stored under `id`.
    pub fn attribute_by_id(&self, id: &AttributeId) -> Option<&AttributeDefinition> {
        self.attributes.iter().find(|d| &d.id == id)
    }

    /// The definition an audit entry's field (`attributes.<id>`) names.
    pub fn attribute_of_field(&self, field: &str) -> Option<&AttributeDefinition> {
        let id = field.strip_prefix("attributes.")?;
        self.attributes.iter().find(|d| d.id.as_ref() == id)
    }

    /// The list with this ID.
    pub fn list(&self, id: &ListId) -> Option<&ContactList> {
        self.lists.iter().find(|l| &l.id == id)
    }

    /// List IDs (under `lists[i]`) that name lists of the workspace; bad
    /// ones are recorded in `errors`.
    pub fn parse_lists(&self, errors: &mut Collector, lists: &[String]) -> BTreeSet<ListId> {
        lists
            .iter()
            .enumerate()
            .filter_map(|(i, raw)| {
                let field = format!("lists[{i}]");
                let id = errors.check(&field, ListId::parse(raw))?;
                if self.list(&id).is_none() {
                    errors.push(field, format!("no list has ID {raw:?}"));
                    return None;
                }
                Some(id)
            })
            .collect()
    }

    /// The lists of `ids` that still exist, in name order.
    pub fn existing_lists<'a>(
        &'a self,
        ids: &'a BTreeSet<ListId>,
    ) -> impl Iterator<Item = &'a ContactList> {
        self.lists.iter().filter(move |l| ids.contains(&l.id))
    }
}

/// Columns shown until a workspace saves its own.
pub const DEFAULT_COLUMNS: [Column; 8] = [
    Column::FullName,
    Column::Phone,
    Column::Email,
    Column::Country,
    Column::SmsConsent,
    Column::WhatsappConsent,
    Column::EmailConsent,
    Column::CreatedAt,
];

/// Defines a custom attribute.
pub async fn create_attribute(
    state: &AppState,
    audit: &Audit<'_>,
    name: AttributeName,
    label: AttributeLabel,
    kind: AttributeType,
) -> Result<AttributeDefinition> {
    let definition = AttributeDefinition {
        id: AttributeId::generate(),
        name,
        label,
        kind,
    };
    state
        .schema
        .create_attribute(audit.workspace(), &definition)
        .await?;
    let fields = ["name", "label", "type"];
    let made = Change::of(Operation::AttributeCreated, &definition.name, &fields);
    audit.record(made).await;
    Ok(definition)
}

/// Changes an attribute's label and type. A type change is refused while any
/// contact holds a value of the attribute.
pub async fn update_attribute(
    state: &AppState,
    audit: &Audit<'_>,
    name: &AttributeName,
    label: Option<AttributeLabel>,
    kind: Option<AttributeType>,
) -> Result<AttributeDefinition> {
    let workspace = audit.workspace();
    let catalog = state.schema.attributes(workspace).await?;
    let current = catalog
        .into_iter()
        .find(|d| &d.name == name)
        .ok_or_else(|| Error::AttributeNotFound(name.to_string()))?;
    let kind = kind.unwrap_or(current.kind);
    if kind != current.kind
        && state
            .contacts
            .holds_attribute(workspace, &current.id)
            .await?
    {
        return Err(Error::AttributeHasValues(name.to_string()));
    }
    let updated = AttributeDefinition {
        label: label.unwrap_or(current.label.clone()),
        kind,
        ..current.clone()
    };
    if updated == current {
        return Ok(updated);
    }
    state.schema.update_attribute(workspace, &updated).await?;
    let changed: Vec<&str> = [
        ("label", updated.label != current.label),
        ("type", updated.kind != current.kind),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect();
    let change = Change::of(Operation::AttributeUpdated, name, &changed);
    audit.record(change).await;
    Ok(updated)
}

/// Deletes an attribute (its values go with it), or `AttributeNotFound`.
pub async fn delete_attribute(
    state: &AppState,
    audit: &Audit<'_>,
    name: &AttributeName,
) -> Result<()> {
    if !state
        .schema
        .delete_attribute(audit.workspace(), name)
        .await?
    {
        return Err(Error::AttributeNotFound(name.to_string()));
    }
    let deleted = Change::of(Operation::AttributeDeleted, name, &[]);
    audit.record(deleted).await;
    Ok(())
}

/// Creates a contact list.
pub async fn create_list(
    state: &AppState,
    audit: &Audit<'_>,
    name: ListName,
) -> Result<ContactList> {
    let list = ContactList {
        id: ListId::generate(),
        name,
        created_at: now(),
    };
    state.lists.create_list(audit.workspace(), &list).await?;
    let made = Change::of(Operation::ListCreated, &list.id, &["name"]);
    audit.record(made).await;
    Ok(list)
}

/// Renames a list.
pub async fn rename_list(
    state: &AppState,
    audit: &Audit<'_>,
    id: &ListId,
    name: &ListName,
) -> Result<()> {
    state.lists.rename_list(audit.workspace(), id, name).await?;
    let renamed = Change::of(Operation::ListRenamed, id, &["name"]);
    audit.record(renamed).await;
    Ok(())
}

/// Deletes a list (its memberships go, its contacts stay), or
/// `ListNotFound`.
pub async fn delete_list(state: &AppState, audit: &Audit<'_>, id: &ListId) -> Result<()> {
    if !state.lists.delete_list(audit.workspace(), id).await? {
        return Err(Error::ListNotFound(id.to_string()));
    }
    let deleted = Change::of(Operation::ListDeleted, id, &[]);
    audit.record(deleted).await;
    Ok(())
}

/// The list with this ID, or `ListNotFound`.
pub async fn get_list(
    state: &AppState,
    workspace: &WorkspaceId,
    id: &ListId,
) -> Result<ContactList> {
    state
        .lists
        .lists(workspace)
        .await?
        .into_iter()
        .find(|l| &l.id == id)
        .ok_or_else(|| Error::ListNotFound(id.to_string()))
}

/// The workspace's table columns: saved ones that still exist, or the default.
pub async fn columns(state: &AppState, workspace: &WorkspaceId) -> Result<Vec<ColumnChoice>> {
    let (saved, attributes) = tokio::try_join!(
        state.schema.columns(workspace),
        state.schema.attributes(workspace)
    )?;
    Ok(match saved {
        Some(names) => names
            .iter()
            .filter_map(|name| ColumnChoice::parse(name, &attributes).ok())
            .collect(),
        None => DEFAULT_COLUMNS.map(ColumnChoice::Generic).to_vec(),
    })
}

/// Saves the workspace's table columns: generic or custom attribute names,
/// in order, each once.
pub async fn save_columns(
    state: &AppState,
    audit: &Audit<'_>,
    names: &[String],
) -> Result<Vec<ColumnChoice>> {
    let workspace = audit.workspace();
    let attributes = state.schema.attributes(workspace).await?;
    let mut errors = Collector::default();
    let mut seen = HashSet::new();
    if names.is_empty() {
        errors.push("columns", "choose at least one column");
    }
    let columns: Vec<ColumnChoice> = names
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let field = format!("columns[{i}]");
            if !seen.insert(name.as_str()) {
                errors.push(field, format!("{name:?} is chosen twice"));
                return None;
            }
            errors.check(&field, ColumnChoice::parse(name, &attributes))
        })
        .collect();
    errors.finish()?;
    let saved: Vec<String> = columns.iter().map(|c| c.name().to_owned()).collect();
    state.schema.save_columns(workspace, &saved).await?;
    let saved = Change::of(Operation::ColumnsSaved, "columns", &["columns"]);
    audit.record(saved).await;
    Ok(columns)
}
