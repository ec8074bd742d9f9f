//! What an export is asked for — a filter and columns — checked against
//! the workspace, every bad field named.

use std::collections::BTreeMap;

use serde::Deserialize;
use utoipa::ToSchema;

use crate::catalog::Catalog;
use crate::error::{Error, FieldError, Result};
use crate::model::Column;
use crate::query::{ColumnChoice, ContactQuery, ListRequest, parse_columns};

/// An export to start.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"filter": {"country": "DE", "sms_consent": "subscribed"}}))]
pub struct ExportRequest {
    /// The filters of `GET /v1/contacts` as an object of query parameters
    /// (`full_name`, `country`, `list`, `attr.<name>[gt]`, …); all contacts
    /// when omitted.
    #[serde(default)]
    pub filter: BTreeMap<String, String>,
    /// Column names (as in `columns=`); every generic column and then every
    /// custom attribute when omitted. The file keeps the export order
    /// whatever order they are given in.
    #[serde(default)]
    pub columns: Option<Vec<String>>,
    /// `csv` (the default) or `xlsx`: a workbook whose cells are all text,
    /// same columns and order.
    #[serde(default)]
    pub format: super::job::ExportFormat,
}

/// The generic columns that go last, after the custom attributes.
const TIMES: [Column; 2] = [Column::CreatedAt, Column::UpdatedAt];

/// Parameters of `GET /v1/contacts` that are not filters.
const NOT_FILTERS: [&str; 3] = ["limit", "cursor", "columns"];

/// The filter as a query over the workspace; errors name `filter.<key>`.
pub fn query(filter: &BTreeMap<String, String>, catalog: &Catalog) -> Result<ContactQuery> {
    let mut errors: Vec<FieldError> = filter
        .keys()
        .filter(|key| NOT_FILTERS.contains(&key.as_str()))
        .map(|key| {
            FieldError::new(
                format!("filter.{key}"),
                "is not a filter; an export reads every matching contact",
            )
        })
        .collect();
    let pairs: Vec<(String, String)> = filter
        .iter()
        .filter(|(key, _)| !NOT_FILTERS.contains(&key.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    match ListRequest::from_pairs(&pairs, &catalog.attributes) {
        Ok(request) if errors.is_empty() => Ok(request.query),
        Ok(_) => Err(Error::Validation(errors)),
        Err(Error::Validation(found)) => {
            errors.extend(found.into_iter().map(|e| FieldError {
                field: format!("filter.{}", e.field),
                ..e
            }));
            Err(Error::Validation(errors))
        }
        Err(other) => Err(other),
    }
}

/// The columns asked for (every column when `None`), in export order.
pub fn columns(asked: Option<&[String]>, catalog: &Catalog) -> Result<Vec<ColumnChoice>> {
    let chosen: Option<Vec<ColumnChoice>> = match asked {
        None => None,
        Some(names) => Some(
            parse_columns(&names.join(","), &catalog.attributes)
                .map_err(|e| Error::invalid("columns", e.0))?,
        ),
    };
    let wanted = |choice: &ColumnChoice| match &chosen {
        Some(chosen) => chosen.contains(choice),
        None => *choice != ColumnChoice::Generic(Column::FullName),
    };
    let generic = |columns: &[Column]| -> Vec<ColumnChoice> {
        columns
            .iter()
            .map(|c| ColumnChoice::Generic(*c))
            .filter(wanted)
            .collect()
    };
    // The table's order, the times moved after the custom attributes;
    // `Full Name` (derived from the other two) only when asked for.
    let leading: Vec<Column> = Column::ALL
        .into_iter()
        .filter(|c| !TIMES.contains(c))
        .collect();
    let mut ordered = generic(&leading);
    ordered.extend(
        catalog
            .attributes
            .iter()
            .map(|d| ColumnChoice::Custom(d.name.clone()))
            .filter(wanted),
    );
    ordered.extend(generic(&TIMES));
    Ok(ordered)
}

/// The columns an export stored, by name, against today's catalog: a
/// custom attribute deleted since keeps its column, empty.
pub fn stored_columns(names: &[String], catalog: &Catalog) -> Vec<Stored> {
    names
        .iter()
        .map(
            |name| match ColumnChoice::parse(name, &catalog.attributes) {
                Ok(choice) => Stored::Column(choice),
                Err(_) => Stored::Gone(name.clone()),
            },
        )
        .collect()
}

/// A column of a running export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Column(ColumnChoice),
    /// A custom attribute deleted after the export started.
    Gone(String),
}
