//! A contact as a CSV row that import reads back unchanged: the header of
//! each column, each value as text, and formula safety (OWASP CSV
//! injection): a cell a spreadsheet would run is written with a leading `'`.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};

use super::request::Stored;
use crate::catalog::Catalog;
use crate::model::{AttributeValue, Column, Contact};
use crate::query::ColumnChoice;

/// The byte order mark that tells spreadsheets the file is UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The header of each column: generic columns by their CSV header, custom
/// attributes by name (import recognises both).
pub fn headers(columns: &[Stored]) -> Vec<String> {
    columns
        .iter()
        .map(|column| match column {
            Stored::Column(ColumnChoice::Generic(c)) => c.header().to_owned(),
            Stored::Column(ColumnChoice::Custom(name)) => name.as_ref().to_owned(),
            Stored::Gone(name) => name.clone(),
        })
        .map(|header| safe(&header).into_owned())
        .collect()
}

/// The contact's cells, one per column.
pub fn row<'a>(contact: &'a Contact, columns: &[Stored], catalog: &Catalog) -> Vec<Cow<'a, str>> {
    columns
        .iter()
        .map(|column| match column {
            Stored::Column(ColumnChoice::Generic(c)) => generic(contact, *c, catalog),
            Stored::Column(ColumnChoice::Custom(name)) => catalog
                .attribute(name.as_ref())
                .and_then(|d| contact.attributes.get(&d.id))
                .map_or(Cow::Borrowed(""), |value| Cow::Owned(text(value))),
            Stored::Gone(_) => Cow::Borrowed(""),
        })
        .map(|cell| match safe(&cell) {
            Cow::Borrowed(_) => cell,
            Cow::Owned(escaped) => Cow::Owned(escaped),
        })
        .collect()
}

/// A generic column's value as text.
pub(crate) fn generic<'a>(contact: &'a Contact, column: Column, catalog: &Catalog) -> Cow<'a, str> {
    let text = |value: Option<&'a str>| Cow::Borrowed(value.unwrap_or(""));
    match column {
        Column::MessagingId => text(Some(contact.messaging_id.as_ref())),
        Column::ExternalId => text(Some(contact.external_id.as_ref())),
        Column::FirstName => text(contact.first_name.as_ref().map(AsRef::as_ref)),
        Column::LastName => text(contact.last_name.as_ref().map(AsRef::as_ref)),
        Column::FullName => Cow::Owned(contact.full_name().unwrap_or_default()),
        Column::Phone => text(contact.reach.phone().map(AsRef::as_ref)),
        Column::Email => text(contact.reach.email().map(AsRef::as_ref)),
        Column::Country => text(contact.country.as_ref().map(AsRef::as_ref)),
        Column::Timezone => text(contact.timezone.as_ref().map(AsRef::as_ref)),
        Column::SmsConsent => text(Some(contact.consent.sms.as_str())),
        Column::WhatsappConsent => text(Some(contact.consent.whatsapp.as_str())),
        Column::EmailConsent => text(Some(contact.consent.email.as_str())),
        Column::Lists => Cow::Owned(list_names(contact, catalog)),
        Column::CreatedAt => Cow::Owned(time(contact.created_at)),
        Column::UpdatedAt => Cow::Owned(time(contact.updated_at)),
    }
}

/// The names of the contact's lists joined by `;`, a `;` or `\` inside a
/// name escaped with `\` (as import reads them).
fn list_names(contact: &Contact, catalog: &Catalog) -> String {
    let mut names: Vec<String> = contact
        .lists
        .iter()
        .filter_map(|id| catalog.list(id))
        .map(|list| list.name.as_ref().replace('\\', "\\\\").replace(';', "\\;"))
        .collect();
    names.sort();
    names.join(";")
}

/// A time in RFC 3339, UTC.
fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A custom value as import reads it back.
pub(crate) fn text(value: &AttributeValue) -> String {
    match value {
        AttributeValue::Text(text) => text.clone(),
        AttributeValue::Number(n) => n.to_string(),
        AttributeValue::Boolean(b) => b.to_string(),
        AttributeValue::Date(date) => date.format("%Y-%m-%d").to_string(),
        AttributeValue::Datetime(at) => time(*at),
    }
}

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell as written: with a leading `'` when a spreadsheet would run it
/// (it starts with `=`, `+`, `-`, `@`, tab or CR) unless it is plainly a
/// number or an E.164 phone, and when it starts with `'` itself, so that
/// import, which strips one `'` before those, reads back exactly the value.
pub fn safe(cell: &str) -> Cow<'_, str> {
    let risky = cell.starts_with(FORMULA_STARTS) && !is_plain_number(cell) && !is_e164(cell);
    if risky || cell.starts_with('\'') {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Whether import strips the `'` that starts `cell` (the inverse of [`safe`]).
pub fn is_escaped(cell: &str) -> bool {
    cell.strip_prefix('\'')
        .is_some_and(|rest| rest.starts_with(FORMULA_STARTS) || rest.starts_with('\''))
}

/// `-12`, `+3.5`: a sign, digits, and at most one decimal point.
fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// `+` and 2 to 15 digits, the first not 0.
fn is_e164(cell: &str) -> bool {
    cell.strip_prefix('+').is_some_and(|digits| {
        (2..=15).contains(&digits.len())
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_get_a_quote() {
        for risky in [
            "=SUM(A1)", "+cmd", "-x", "@x", "\tx", "\rx", "=1+2", "+", "-",
        ] {
            assert_eq!(safe(risky), format!("'{risky}"), "{risky:?}");
            assert!(is_escaped(&safe(risky)));
        }
    }

    #[test]
    fn numbers_phones_and_plain_text_stay_as_they_are() {
        for plain in [
            "-12",
            "+3.5",
            "-0.25",
            "+4915112345678",
            "Ann",
            "a=b",
            "",
            "1e5",
        ] {
            assert_eq!(safe(plain), plain, "{plain:?}");
            assert!(!is_escaped(plain));
        }
    }

    #[test]
    fn a_leading_quote_is_doubled_so_it_survives_import() {
        assert_eq!(safe("'quoted"), "''quoted");
        assert!(is_escaped("''quoted"));
        assert!(!is_escaped("'quoted"));
        assert_eq!(safe("'=x"), "''=x");
    }
}
