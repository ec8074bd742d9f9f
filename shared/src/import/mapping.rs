//! Which attribute each CSV column fills: proposed from the headers, or as
//! the settings say, and checked before any row is written.

use std::collections::{BTreeMap, HashMap};

use super::aliases;
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
    pub phone: PhoneReading,
}

/// A header as matched: lower case, without spaces, `_` or `-`.
pub(crate) fn folded(header: &str) -> String {
    header
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// What a header proposes, before the file's other headers are weighed.
#[derive(Debug, Clone)]
struct Candidate {
    target: Target,
    rank: u8,
    /// What the column holds, when an alias (not the name) recognised it.
    what: Option<&'static str>,
    international: bool,
}

impl Candidate {
    /// A header that names the attribute itself.
    fn exact(target: Target) -> Self {
        Self {
            target,
            rank: aliases::EXACT,
            what: None,
            international: false,
        }
    }
}

/// The attribute a header names on its own, ignoring case, spaces, `_` and
/// `-`: a generic column's name or header, a known alias, or a custom
/// attribute's name or label.
fn candidate(header: &str, catalog: &Catalog) -> Option<Candidate> {
    let key = folded(header);
    if let Some(column) = Column::ALL
        .into_iter()
        .find(|c| folded(c.name()) == key || folded(c.header()) == key)
    {
        return Some(Candidate::exact(Target::Generic(column)));
    }
    if let Some(alias) = aliases::ALIASES.iter().find(|a| folded(a.header) == key) {
        return Some(Candidate {
            target: Target::Generic(alias.column),
            rank: alias.rank,
            what: Some(alias.what),
            international: alias.international,
        });
    }
    catalog
        .attributes
        .iter()
        .find(|d| folded(d.name.as_ref()) == key || folded(d.label.as_ref()) == key)
        .map(|d| Candidate::exact(Target::Custom(d.clone())))
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
    let headers: Vec<&str> = headers.iter().map(|h| h.trim()).collect();
    let candidates: Vec<Option<Candidate>> = headers
        .iter()
        .map(|header| match chosen.get(header) {
            Some(_) => None,
            None => candidate(header, catalog),
        })
        .collect();
    let best = best_candidates(&candidates, &claimed);
    let mut columns = Vec::with_capacity(headers.len());
    let mut phone = PhoneReading::default();
    for (i, header) in headers.iter().enumerate() {
        let mapping = match (chosen.get(header), &candidates[i]) {
            (Some(target), _) => chosen_mapping(header, target, catalog),
            (None, None) => Ok(skipped(
                header,
                "no attribute is named like this header; map it to one or create a custom attribute from it"
                    .to_owned(),
            )),
            (None, Some(candidate)) => Ok(auto_mapping(
                header,
                candidate,
                best.get(candidate.target.name())
                    .and_then(|&b| Some((headers[b], candidates[b].as_ref()?))),
                &claimed,
            )),
        };
        match mapping {
            Ok(mapping) => {
                if mapping.target == Some(Target::Generic(Column::Phone)) {
                    phone.international = candidates[i].as_ref().is_some_and(|c| c.international);
                }
                columns.push(mapping);
            }
            Err(problem) => {
                columns.push(skipped(header, problem.clone()));
                problems.push(problem);
            }
        }
    }
    let mut mapping = Mapping { columns, phone };
    // What the settings chose is read as chosen.
    let automatic = |mapping: &Mapping, column| {
        mapping
            .position(column)
            .is_some_and(|i| !chosen.contains_key(headers[i]))
    };
    if automatic(&mapping, Column::Phone) {
        mapping.phone.slots = labelled_slots(&mapping);
        mapping.explain_phone_slots();
    }
    if automatic(&mapping, Column::FullName) {
        mapping.skip_full_name_beside_its_parts();
    }
    problems.extend(mapping.missing(rules));
    (mapping, problems)
}

/// The column each attribute's best candidate is in: the lowest rank, then
/// the first; none for attributes the user's choices claimed.
fn best_candidates(
    candidates: &[Option<Candidate>],
    claimed: &BTreeMap<String, String>,
) -> BTreeMap<String, usize> {
    let mut best: BTreeMap<String, usize> = BTreeMap::new();
    for (i, candidate) in candidates.iter().enumerate() {
        let Some(candidate) = candidate else { continue };
        let name = candidate.target.name();
        if claimed.contains_key(name) {
            continue;
        }
        let better = best.get(name).is_none_or(|&b| {
            candidates[b]
                .as_ref()
                .is_none_or(|other| candidate.rank < other.rank)
        });
        if better {
            best.insert(name.to_owned(), i);
        }
    }
    best
}

fn skipped(header: &str, reason: String) -> ColumnMapping {
    ColumnMapping {
        header: header.to_owned(),
        target: None,
        reason,
    }
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

/// An automatic mapping: the candidate's, if it is its attribute's best in
/// the file (`best`, with its header) and the user claimed nothing of it.
fn auto_mapping(
    header: &str,
    candidate: &Candidate,
    best: Option<(&str, &Candidate)>,
    claimed: &BTreeMap<String, String>,
) -> ColumnMapping {
    let target = &candidate.target;
    let name = target.name();
    if let Target::Generic(column) = target
        && !importable(*column)
    {
        return skipped(header, format!("{name} is set by the system, not imported"));
    }
    if let Some(other) = claimed.get(name) {
        return skipped(header, format!("column {other:?} already maps to {name}"));
    }
    if let Some((other, winner)) = best
        && other != header
    {
        let reason = match (winner.what, winner.rank < candidate.rank) {
            (Some(what), true) => format!(
                "column {other:?} ({what}) is better for {name}; this one is {}",
                candidate.what.unwrap_or("less likely to reach the contact")
            ),
            _ => format!("column {other:?} already maps to {name}"),
        };
        return skipped(header, reason);
    }
    let reason = match (candidate.what, target) {
        (Some(what), _) if candidate.international => {
            format!("{what}, digits with the country code: mapped to {name} (read as after a +)")
        }
        (Some(what), _) => format!("{what}: mapped to {name}"),
        (None, Target::Generic(_)) => format!("the header names the generic attribute {name}"),
        (None, Target::Custom(_)) => format!("the header names the custom attribute {name}"),
    };
    ColumnMapping {
        header: header.to_owned(),
        target: Some(target.clone()),
        reason,
    }
}

/// Google Contacts' phone slots (`Phone 1 - Value` with `Phone 1 - Label`,
/// and so on) when the phone column is one of them.
fn labelled_slots(mapping: &Mapping) -> Vec<(usize, usize)> {
    let slot = |header: &str| -> Option<(String, bool)> {
        let rest = header.strip_prefix("Phone ")?;
        let (n, part) = rest.split_once(" - ")?;
        n.parse::<u8>().ok()?;
        Some((n.to_owned(), part == "Value"))
    };
    let Some(phone) = mapping.position(Column::Phone) else {
        return Vec::new();
    };
    if slot(&mapping.columns[phone].header).is_none() {
        return Vec::new();
    }
    let label_of = |n: &str| {
        mapping
            .columns
            .iter()
            .position(|c| slot(&c.header).is_some_and(|(m, value)| m == n && !value))
    };
    mapping
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let (n, value) = slot(&c.header)?;
            value.then_some(())?;
            Some((i, label_of(&n)?))
        })
        .collect()
}

/// How a row's phone number is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhoneReading {
    /// The phone column writes international digits without the `+`.
    pub international: bool,
    /// Labelled slots (value column, label column): per row, the value
    /// labelled mobile, else the first with a value.
    pub slots: Vec<(usize, usize)>,
}

impl Mapping {
    /// A full name fills first and last names only where the file has
    /// neither: beside them, it is what they make already.
    fn skip_full_name_beside_its_parts(&mut self) {
        let has_parts =
            self.position(Column::FirstName).is_some() || self.position(Column::LastName).is_some();
        if let Some(full) = self.position(Column::FullName) {
            let column = &mut self.columns[full];
            if has_parts {
                column.target = None;
                column.reason =
                    "a full name, which First Name and Last Name make already: not imported".into();
            } else {
                column
                    .reason
                    .push_str("; its first word becomes First Name and the rest Last Name");
            }
        }
    }

    /// Says, on each labelled phone column, how a row's phone is chosen.
    fn explain_phone_slots(&mut self) {
        if !self.phone.slots.is_empty() {
            let chosen = "per row, the phone labelled Mobile, else the first with a value";
            for &(value, _) in &self.phone.slots {
                let column = &mut self.columns[value];
                if column.target.is_some() {
                    column.reason.push_str(&format!("; {chosen}"));
                } else {
                    column.reason = format!("one of the labelled phones: {chosen}");
                }
            }
        }
    }

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
        let by_external_id = rules
            .update
            .is_some_and(|u| u.match_by == MatchBy::ExternalId);
        if by_external_id && self.position(Column::ExternalId).is_none() {
            missing.push(
                "updating by External ID needs an External ID column (or update by Messaging ID, or import new contacts only)"
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
    fn new_contacts_need_an_email_or_phone_column_and_updates_their_identifier() {
        let catalog = Catalog::default();
        let new_only = ImportSettings::default().check(&catalog).unwrap();
        let problem = map_columns(&headers(&["First Name"]), &new_only, &catalog).unwrap_err();
        assert!(problem.contains("Email or Phone Number"), "{problem}");
        assert!(!problem.contains("External ID"), "{problem}");
        assert!(map_columns(&headers(&["First Name", "Email"]), &new_only, &catalog).is_ok());
        let updating = ImportSettings {
            update_existing: Some(Default::default()),
            ..Default::default()
        }
        .check(&catalog)
        .unwrap();
        let problem = map_columns(&headers(&["Email"]), &updating, &catalog).unwrap_err();
        assert!(problem.contains("External ID column"), "{problem}");
    }

    #[test]
    fn the_best_candidate_for_messaging_wins_and_the_others_say_why() {
        let catalog = Catalog::default();
        let rules = ImportSettings::default().check(&catalog).unwrap();
        let mapping = map_columns(
            &headers(&[
                "Home Phone",
                "Business Phone",
                "Mobile Phone",
                "E-mail Address",
                "Name",
                "Last Name",
            ]),
            &rules,
            &catalog,
        )
        .unwrap();
        let target = |i: usize| mapping.columns[i].target.as_ref().map(Target::name);
        assert_eq!(
            (0..6).map(target).collect::<Vec<_>>(),
            [
                None,
                None,
                Some("phone"),
                Some("email"),
                None,
                Some("last_name")
            ]
        );
        let reason = |i: usize| mapping.columns[i].reason.as_str();
        assert!(reason(0).contains(r#""Mobile Phone""#), "{}", reason(0));
        assert!(reason(0).contains("home phone"), "{}", reason(0));
        assert!(reason(2).contains("mobile phone"), "{}", reason(2));
        assert!(
            reason(4).contains("First Name and Last Name"),
            "{}",
            reason(4)
        );

        let alone = map_columns(&headers(&["Name", "Email"]), &rules, &catalog).unwrap();
        assert_eq!(
            alone.columns[0].target,
            Some(Target::Generic(Column::FullName))
        );
        assert!(alone.columns[0].reason.contains("first word"));
    }

    #[test]
    fn labelled_phones_are_chosen_per_row_unless_the_settings_chose_one() {
        let catalog = Catalog::default();
        let google = headers(&[
            "Phone 1 - Label",
            "Phone 1 - Value",
            "Phone 2 - Label",
            "Phone 2 - Value",
            "E-mail 1 - Value",
        ]);
        let automatic = ImportSettings::default().check(&catalog).unwrap();
        let mapping = map_columns(&google, &automatic, &catalog).unwrap();
        assert_eq!(mapping.phone.slots, [(1, 0), (3, 2)]);
        assert!(mapping.columns[3].reason.contains("labelled Mobile"));
        let chosen: ImportSettings =
            serde_json::from_value(serde_json::json!({"columns": {"Phone 2 - Value": "phone"}}))
                .unwrap();
        let mapping = map_columns(&google, &chosen.check(&catalog).unwrap(), &catalog).unwrap();
        assert!(mapping.phone.slots.is_empty());
        assert_eq!(mapping.position(Column::Phone), Some(3));
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
