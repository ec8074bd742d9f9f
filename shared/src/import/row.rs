//! One CSV record → the values it gives each attribute, or why it can't be
//! imported. Pure: no I/O.

use std::borrow::Cow;
use std::collections::BTreeSet;

use csv_async::StringRecord;

use super::mapping::{Mapping, PhoneReading, Target};
use crate::catalog::Catalog;
use crate::model::{
    AttributeId, AttributeValue, Column, ConsentStatus, Country, Email, ExternalId, InvalidValue,
    ListId, MessagingId, Name, PhoneNumber, Timezone,
};

/// What a row says about one attribute.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Cell<T> {
    /// The file has no column for it.
    #[default]
    Absent,
    /// The cell is empty (or held an invalid value that was cleared).
    Empty,
    Value(T),
}

impl<T> Cell<T> {
    /// The value, if the cell has one.
    pub fn value(&self) -> Option<&T> {
        match self {
            Cell::Value(value) => Some(value),
            _ => None,
        }
    }
}

/// A phone cell of digits alone that no Country makes a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarePhone {
    pub digits: String,
    /// Why it is invalid unless it is the contact's own number.
    pub error: CellError,
}

impl BarePhone {
    /// Whether the digits are `phone`'s without its `+`.
    pub fn is(&self, phone: &PhoneNumber) -> bool {
        phone.as_ref().strip_prefix('+') == Some(self.digits.as_str())
    }
}

/// One rejected cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    pub header: String,
    pub reason: String,
}

/// A row read against the mapping.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row {
    /// The line the row starts on (the header is line 1).
    pub line: u64,
    /// The cells exactly as uploaded.
    pub cells: StringRecord,
    pub external_id: Option<ExternalId>,
    pub messaging_id: Option<MessagingId>,
    pub first_name: Cell<Name>,
    pub last_name: Cell<Name>,
    pub phone: Cell<PhoneNumber>,
    pub email: Cell<Email>,
    pub country: Cell<Country>,
    pub timezone: Cell<Timezone>,
    /// The consent each channel's cell gives (sms, whatsapp, email);
    /// `None` where it gives none.
    pub consent: [Option<ConsentStatus>; 3],
    pub attributes: Vec<(AttributeId, Cell<AttributeValue>)>,
    pub lists: Cell<BTreeSet<ListId>>,
    /// Invalid values that reject the row.
    pub errors: Vec<CellError>,
    /// A phone written as digits alone, which can't be read without a
    /// Country (a spreadsheet drops the `+` of `+4930901820`): the row's
    /// contact's own number when the digits are its, else invalid.
    pub bare_phone: Option<BarePhone>,
    /// Invalid values cleared instead (`replace_invalid_values`).
    pub replaced: u64,
}

impl Row {
    /// Why the row can't be imported, if it can't.
    pub fn rejection(&self) -> Option<String> {
        if !self.errors.is_empty() {
            return Some(
                self.errors
                    .iter()
                    .map(|e| format!("{}: {}", e.header, e.reason))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
        }
        if let Some(bare) = &self.bare_phone {
            return Some(format!("{}: {}", bare.error.header, bare.error.reason));
        }
        if self.phone.value().is_none() && self.email.value().is_none() {
            return Some("the row has no valid Phone Number or Email; a contact needs one".into());
        }
        None
    }
}

/// A cell as read: surrounding spaces trimmed, and the `'`s an export puts
/// before formula characters removed (`export::cells::unescape`).
pub fn cell_text(raw: &str) -> Cow<'_, str> {
    crate::export::cells::unescape(raw.trim())
}

/// Reads a consent cell: `subscribed`, `unsubscribed`, `not_subscribed`,
/// yes/no, true/false, 1/0, ignoring case.
pub fn parse_consent(raw: &str) -> Result<ConsentStatus, InvalidValue> {
    // Most cells are written as stored already: no copy for them.
    let plain = raw
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    let folded = if plain {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(raw.to_lowercase().replace([' ', '-'], "_"))
    };
    match folded.as_ref() {
        "subscribed" | "yes" | "true" | "1" => Ok(ConsentStatus::Subscribed),
        "unsubscribed" | "no" | "false" | "0" => Ok(ConsentStatus::Unsubscribed),
        "not_subscribed" => Ok(ConsentStatus::NotSubscribed),
        _ => Err(InvalidValue(format!(
            "{raw:?} is not a consent: use subscribed, unsubscribed or not_subscribed (or yes/no)"
        ))),
    }
}

/// Reads list names separated by `;` (a `\;` is part of a name).
fn parse_lists(raw: &str, catalog: &Catalog) -> Result<BTreeSet<ListId>, InvalidValue> {
    let mut names = Vec::new();
    let mut current = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            ';' => names.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    names.push(current);
    names
        .iter()
        .map(|name| name.trim())
        .filter(|name| !name.is_empty())
        .map(|name| {
            catalog
                .lists
                .iter()
                .find(|l| l.name.folded() == name.to_lowercase())
                .map(|l| l.id.clone())
                .ok_or_else(|| InvalidValue(format!("no list is named {name:?}")))
        })
        .collect()
}

/// Reads one record. `replace` clears invalid values (counting them) instead
/// of rejecting the row; invalid identifiers always reject it.
pub fn read_row(
    line: u64,
    cells: StringRecord,
    mapping: &Mapping,
    catalog: &Catalog,
    replace: bool,
) -> Row {
    let mut row = Row {
        line,
        ..Row::default()
    };
    if cells.len() != mapping.columns.len() {
        row.errors.push(CellError {
            header: "row".into(),
            reason: format!(
                "has {} cells, but the header has {} columns",
                cells.len(),
                mapping.columns.len()
            ),
        });
        row.cells = cells;
        return row;
    }
    // Country first: a national phone number is read in its country.
    let country_at = mapping.position(Column::Country);
    let country = country_at
        .map(|i| cell_text(&cells[i]))
        .and_then(|text| Country::parse_loose(&text).ok());
    let read = Reading {
        country: country.as_ref(),
        phone: &mapping.phone,
        catalog,
    };
    for (i, column) in mapping.columns.iter().enumerate() {
        let Some(target) = &column.target else {
            continue;
        };
        let text = match target {
            Target::Generic(Column::Phone) => phone_text(&cells, i, &mapping.phone),
            _ => cell_text(&cells[i]),
        };
        let mut reader = CellReader {
            row: &mut row,
            header: &column.header,
            text: &text,
            replace,
        };
        match target {
            Target::Generic(generic) => reader.generic(*generic, &read),
            Target::Custom(definition) => {
                let value = reader.read(|t| AttributeValue::from_text(definition.kind, t));
                row.attributes.push((definition.id.clone(), value));
            }
        }
    }
    row.cells = cells;
    row
}

/// The cell the phone comes from: with labelled slots, the one labelled
/// mobile (or cell), else the first with a value.
fn phone_text<'a>(cells: &'a StringRecord, at: usize, phone: &PhoneReading) -> Cow<'a, str> {
    let value = |i: usize| cell_text(&cells[i]);
    let mobile = phone.slots.iter().find(|&&(v, label)| {
        let label = cells[label].trim_start_matches(['*', ' ']).to_lowercase();
        (label.contains("mobile") || label.contains("cell")) && !value(v).is_empty()
    });
    let first = || phone.slots.iter().find(|&&(v, _)| !value(v).is_empty());
    mobile
        .or_else(first)
        .map_or_else(|| value(at), |&(v, _)| value(v))
}

/// What reading a generic cell may depend on besides the cell.
struct Reading<'a> {
    /// The row's country, for national phone numbers.
    country: Option<&'a Country>,
    phone: &'a PhoneReading,
    catalog: &'a Catalog,
}

/// Whether a cell is digits alone (spaces allowed).
fn bare_digits(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_digit())
        && text.bytes().all(|b| b.is_ascii_digit() || b == b' ')
}

/// A full name's first word and the rest.
fn split_name(full: &str) -> (Option<&str>, Option<&str>) {
    match full.split_once(char::is_whitespace) {
        Some((first, rest)) => (Some(first), Some(rest.trim())),
        None => (Some(full), None),
    }
}

struct CellReader<'a> {
    row: &'a mut Row,
    header: &'a str,
    text: &'a str,
    replace: bool,
}

impl CellReader<'_> {
    /// The cell's value, `Empty`, or (when invalid) an error or a replacement.
    fn read<T>(&mut self, parse: impl FnOnce(&str) -> Result<T, InvalidValue>) -> Cell<T> {
        if self.text.is_empty() {
            return Cell::Empty;
        }
        let parsed = parse(self.text);
        self.settle(parsed)
    }

    /// A value read from the cell, or (when invalid) an error or a
    /// replacement.
    fn settle<T>(&mut self, parsed: Result<T, InvalidValue>) -> Cell<T> {
        match parsed {
            Ok(value) => Cell::Value(value),
            Err(_) if self.replace => {
                self.row.replaced += 1;
                Cell::Empty
            }
            Err(error) => {
                self.reject(error.to_string());
                Cell::Empty
            }
        }
    }

    /// A phone; one of bare digits that can't be read is kept as a
    /// [`BarePhone`], for the plan to compare with the row's contact.
    fn phone(&mut self, country: Option<&Country>) -> Cell<PhoneNumber> {
        if self.text.is_empty() {
            return Cell::Empty;
        }
        match PhoneNumber::parse_loose(self.text, country) {
            Err(error) if !self.replace && bare_digits(self.text) => {
                self.row.bare_phone = Some(BarePhone {
                    digits: self.text.replace(' ', ""),
                    error: CellError {
                        header: self.header.to_owned(),
                        reason: error.to_string(),
                    },
                });
                Cell::Empty
            }
            parsed => self.settle(parsed),
        }
    }

    /// An identifier: an invalid one always rejects the row.
    fn identifier<T>(&mut self, parse: impl FnOnce(&str) -> Result<T, InvalidValue>) -> Option<T> {
        if self.text.is_empty() {
            return None;
        }
        parse(self.text)
            .map_err(|error| self.reject(error.to_string()))
            .ok()
    }

    fn reject(&mut self, reason: String) {
        let reason = if reason.contains(self.text) {
            reason
        } else {
            format!("{:?} {reason}", self.text)
        };
        self.row.errors.push(CellError {
            header: self.header.to_owned(),
            reason,
        });
    }

    fn generic(&mut self, column: Column, read: &Reading<'_>) {
        match column {
            Column::ExternalId => self.row.external_id = self.identifier(ExternalId::parse),
            Column::MessagingId => self.row.messaging_id = self.identifier(MessagingId::parse),
            Column::FirstName => self.row.first_name = self.read(Name::parse),
            Column::LastName => self.row.last_name = self.read(Name::parse),
            // Fills the names the file has no column for.
            Column::FullName => {
                let parts = self.read(|t| {
                    let (first, last) = split_name(t);
                    Ok((
                        first.map(Name::parse).transpose()?,
                        last.map(Name::parse).transpose()?,
                    ))
                });
                let (first, last) = parts.value().cloned().unwrap_or_default();
                let part = |name: Option<Name>| name.map_or(Cell::Empty, Cell::Value);
                if self.row.first_name == Cell::Absent {
                    self.row.first_name = part(first);
                }
                if self.row.last_name == Cell::Absent {
                    self.row.last_name = part(last);
                }
            }
            Column::Phone if read.phone.international => {
                self.row.phone = self.read(|t| PhoneNumber::parse_international(t, read.country));
            }
            Column::Phone => self.row.phone = self.phone(read.country),
            Column::Email => self.row.email = self.read(Email::parse),
            Column::Country => self.row.country = self.read(Country::parse_loose),
            Column::Timezone => self.row.timezone = self.read(Timezone::parse_loose),
            Column::SmsConsent | Column::WhatsappConsent | Column::EmailConsent => {
                let slot = match column {
                    Column::SmsConsent => 0,
                    Column::WhatsappConsent => 1,
                    _ => 2,
                };
                self.row.consent[slot] = self.read(parse_consent).value().copied();
            }
            Column::Lists => self.row.lists = self.read(|t| parse_lists(t, read.catalog)),
            Column::CreatedAt | Column::UpdatedAt => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_cells_are_read_in_any_case_and_spelling() {
        let read = |raw: &str| parse_consent(raw).ok();
        for (raw, status) in [
            ("subscribed", ConsentStatus::Subscribed),
            ("Subscribed", ConsentStatus::Subscribed),
            ("YES", ConsentStatus::Subscribed),
            ("1", ConsentStatus::Subscribed),
            ("unsubscribed", ConsentStatus::Unsubscribed),
            ("False", ConsentStatus::Unsubscribed),
            ("0", ConsentStatus::Unsubscribed),
            ("not_subscribed", ConsentStatus::NotSubscribed),
            ("Not Subscribed", ConsentStatus::NotSubscribed),
            ("not-subscribed", ConsentStatus::NotSubscribed),
        ] {
            assert_eq!(read(raw), Some(status), "{raw:?}");
        }
        for raw in ["maybe", "subscribed!", "2", "not subscribed_"] {
            assert_eq!(read(raw), None, "{raw:?}");
        }
    }
}
