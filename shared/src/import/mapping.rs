//! Which attribute each CSV column fills: proposed from the headers, or as
//! the settings say, and checked before any row is written.

use std::collections::{BTreeMap, HashMap};

use super::settings::{ChosenTarget, MatchBy, Rules, importable};
use crate::catalog::Catalog;
use crate::model::{AttributeDefinition, AttributeId, Column};

/// Where one column's values go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Generic(Column),
    Custom(AttributeDefinition),
}

impl Target {
    /// The attribute's name.
    pub fn name(&self) -> &str {
        match self {
            Target::Generic(column) => column.name(),
            Target::Custom(definition) => definition.name.as_ref(),
        }
    }
}

/// The mapping of one column, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMapping {
    pub header: String,
    pub target: Option<Target>,
    pub reason: String,
}

/// Every column of a file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub columns: Vec<ColumnMapping>,
}

/// A header as matched: lower case, without spaces, `_` or `-`.
fn folded(header: &str) -> String {
    header
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Other spellings people use for generic columns.
const ALIASES: [(&str, Column); 6] = [
    ("mobile", Column::Phone),
    ("mobile number", Column::Phone),
    ("cell phone", Column::Phone),
    ("email address", Column::Email),
    ("list", Column::Lists),
    ("id", Column::ExternalId),
];

/// The attribute a header names on its own, ignoring case, spaces, `_` and `-`.
fn auto_target(header: &str, catalog: &Catalog) -> Option<Target> {
    let key = folded(header);
    let generic = Column::ALL
        .into_iter()
        .find(|c| folded(c.name()) == key || folded(c.header()) == key)
        .or_else(|| {
            ALIASES
                .iter()
                .find(|(alias, _)| folded(alias) == key)
                .map(|(_, c)| *c)
        });
    if let Some(column) = generic {
        return Some(Target::Generic(column));
    }
    catalog
        .attributes
        .iter()
        .find(|d| folded(d.name.as_ref()) == key || folded(d.label.as_ref()) == key)
        .map(|d| Target::Custom(d.clone()))
}

/// The most columns a file may have.
pub const MAX_COLUMNS: usize = 1_000;

/// Checks the header row: at most [`MAX_COLUMNS`] columns, no empty and no
/// repeated names.
pub fn check_headers(headers: &[String]) -> Result<(), String> {
    if headers.len() > MAX_COLUMNS {
        return Err(format!(
            "the header row has {} columns; a file may have at most {MAX_COLUMNS}",
            headers.len()
        ));
    }
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(headers.len());
    for (i, header) in headers.iter().enumerate() {
        let name = header.trim();
        if name.is_empty() {
            return Err(format!(
                "column {} of the header row has no name; every column needs a header",
                i + 1
            ));
        }
        if let Some(j) = seen.insert(name, i) {
            return Err(format!(
                "the header {name:?} appears twice (columns {} and {}); rename or remove one",
                j + 1,
                i + 1
            ));
        }
    }
    Ok(())
}

/// The mapping of `headers`, failing (saying why) when the file can't be
/// imported this way.
pub fn map_columns(
    headers: &[String],
    rules: &Rules,
    catalog: &Catalog,
) -> Result<Mapping, String> {
    let (mapping, problems) = propose(headers, rules, catalog);
    if problems.is_empty() {
        Ok(mapping)
    } else {
        Err(problems.join("; "))
    }
}

/// The mapping of `headers`: the user's choices where `rules` has them,
/// automatic for the rest; with what keeps it from being imported.
pub fn propose(headers: &[String], rules: &Rules, catalog: &Catalog) -> (Mapping, Vec<String>) {
    let mut problems = Vec::new();
    for header in rules.columns.keys() {
        if !headers.iter().any(|h| h.trim() == header.trim()) {
            problems.push(format!(
                "the settings map a column {header:?} that the file does not have"
            ));
        }
    }
    let chosen: BTreeMap<&str, &ChosenTarget> =
        rules.columns.iter().map(|(h, t)| (h.trim(), t)).collect();
    // The user's choices claim their attributes first.
    let mut claimed: BTreeMap<String, String> = BTreeMap::new();
    for (header, target) in &chosen {
        if let Some(name) = target.attribute_name() {
            claimed.insert(name, (*header).to_owned());
        }
    }
    let mut columns = Vec::with_capacity(headers.len());
    for header in headers {
        let header = header.trim();
        let mapping = match chosen.get(header) {
            Some(target) => chosen_mapping(header, target, catalog),
            None => auto_mapping(header, catalog, &mut claimed),
        };
        match mapping {
            Ok(mapping) => columns.push(mapping),
            Err(problem) => {
                columns.push(ColumnMapping {
                    header: header.to_owned(),
                    target: None,
                    reason: problem.clone(),
                });
                problems.push(problem);
            }
        }
    }
    let mapping = Mapping { columns };
    problems.extend(mapping.missing(rules));
    (mapping, problems)
}

fn chosen_mapping(
    header: &str,
    target: &ChosenTarget,
    catalog: &Catalog,
) -> Result<ColumnMapping, String> {
    let (target, reason) = match target {
        ChosenTarget::Skip => (None, "skipped, as the settings say".to_owned()),
        ChosenTarget::Generic(column) => (
            Some(Target::Generic(*column)),
            "mapped by the settings".to_owned(),
        ),
        ChosenTarget::Custom(name)
        | ChosenTarget::Create(super::settings::AttributeToCreate { name, .. }) => {
            let definition = catalog.attribute(name.as_ref()).ok_or_else(|| {
                format!("column {header:?} maps to {name:?}, which is not a custom attribute of this workspace")
            })?;
            (
                Some(Target::Custom(definition.clone())),
                "mapped by the settings".to_owned(),
            )
        }
    };
    Ok(ColumnMapping {
        header: header.to_owned(),
        target,
        reason,
    })
}

fn auto_mapping(
    header: &str,
    catalog: &Catalog,
    claimed: &mut BTreeMap<String, String>,
) -> Result<ColumnMapping, String> {
    let skip = |reason: String| ColumnMapping {
        header: header.to_owned(),
        target: None,
        reason,
    };
    let Some(target) = auto_target(header, catalog) else {
        return Ok(skip(
            "no attribute is named like this header; map it to one or create a custom attribute from it"
                .to_owned(),
        ));
    };
    if let Target::Generic(column) = &target
        && !importable(*column)
    {
        return Ok(skip(format!(
            "{} is set by the system, not imported",
            column.name()
        )));
    }
    if let Some(other) = claimed.get(target.name()) {
        return Ok(skip(format!(
            "column {other:?} already maps to {}",
            target.name()
        )));
    }
    claimed.insert(target.name().to_owned(), header.to_owned());
    let reason = match &target {
        Target::Generic(_) => format!("the header names the generic attribute {}", target.name()),
        Target::Custom(_) => format!("the header names the custom attribute {}", target.name()),
    };
    Ok(ColumnMapping {
        header: header.to_owned(),
        target: Some(target),
        reason,
    })
}

impl Mapping {
    /// The index of the column that fills `column`.
    pub fn position(&self, column: Column) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.target == Some(Target::Generic(column)))
    }

    /// The custom attributes of `catalog` that no column fills.
    pub fn unmapped(&self, catalog: &Catalog) -> Vec<AttributeId> {
        catalog
            .attributes
            .iter()
            .filter(|d| {
                !self
                    .columns
                    .iter()
                    .any(|c| matches!(&c.target, Some(Target::Custom(m)) if m.id == d.id))
            })
            .map(|d| d.id.clone())
            .collect()
    }

    /// What the rules need mapped and is not.
    fn missing(&self, rules: &Rules) -> Vec<String> {
        let mut missing = Vec::new();
        if self.position(Column::Email).is_none() && self.position(Column::Phone).is_none() {
            missing.push(
                "no column maps to Email or Phone Number; every contact needs one of them"
                    .to_owned(),
            );
        }
        let by_messaging_id = rules
            .update
            .is_some_and(|u| u.match_by == MatchBy::MessagingId);
        if by_messaging_id && self.position(Column::MessagingId).is_none() {
            missing.push("updating by Messaging ID needs a Messaging ID column".to_owned());
        }
        if !by_messaging_id && self.position(Column::ExternalId).is_none() {
            missing.push(
                "no column maps to External ID; it identifies each contact (or update by Messaging ID)"
                    .to_owned(),
            );
        }
        missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::settings::ImportSettings;

    fn headers(raw: &[&str]) -> Vec<String> {
        raw.iter().map(|h| (*h).to_owned()).collect()
    }

    #[test]
    fn headers_map_ignoring_case_spaces_and_separators() {
        let catalog = Catalog::default();
        let rules = ImportSettings::default().check(&catalog).unwrap();
        let mapping = map_columns(
            &headers(&[
                "external_id",
                "FIRST-NAME",
                "Phone Number",
                "e-mail",
                "Full Name",
                "Shoe size",
            ]),
            &rules,
            &catalog,
        )
        .unwrap();
        let names: Vec<_> = mapping
            .columns
            .iter()
            .map(|c| c.target.as_ref().map(Target::name))
            .collect();
        assert_eq!(
            names,
            [
                Some("external_id"),
                Some("first_name"),
                Some("phone"),
                Some("email"),
                None,
                None
            ]
        );
    }

    #[test]
    fn a_file_without_email_or_phone_or_external_id_is_refused() {
        let catalog = Catalog::default();
        let rules = ImportSettings::default().check(&catalog).unwrap();
        let problem = map_columns(&headers(&["First Name"]), &rules, &catalog).unwrap_err();
        assert!(problem.contains("Email or Phone Number"), "{problem}");
        assert!(problem.contains("External ID"), "{problem}");
    }

    #[test]
    fn headers_must_be_named_and_distinct() {
        assert!(
            check_headers(&headers(&["a", " ", "b"]))
                .unwrap_err()
                .contains("column 2")
        );
        assert!(
            check_headers(&headers(&["a", "b", "a"]))
                .unwrap_err()
                .contains("columns 1 and 3")
        );
        assert!(check_headers(&headers(&["a", "b"])).is_ok());
        let widest: Vec<String> = (0..MAX_COLUMNS).map(|i| format!("c{i}")).collect();
        assert!(check_headers(&widest).is_ok());
        let too_wide: Vec<String> = (0..=MAX_COLUMNS).map(|i| format!("c{i}")).collect();
        assert!(check_headers(&too_wide).is_err_and(|e| e.contains("at most 1000")));
    }
}
