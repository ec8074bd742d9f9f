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
        Column::ExternalId => text(contact.external_id.as_ref().map(AsRef::as_ref)),
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

/// Where a spreadsheet may start a new cell: the list separators of every
/// locale (`,` and `;`), tab, and line breaks. Every field is quoted, but a
/// spreadsheet opening the file with another separator than the writer's
/// can still split a cell at one of these.
const SEPARATORS: [char; 5] = [',', ';', '\t', '\r', '\n'];

/// The characters that start a formula, as typed and in full width.
const FORMULA: [char; 8] = [
    '=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// Space a spreadsheet skips before a formula (spaces, no-break spaces, …).
fn is_blank(c: char) -> bool {
    c.is_whitespace() && !SEPARATORS.contains(&c)
}

/// The byte offsets where a spreadsheet could read the start of a cell:
/// the start and after every separator, each past any blanks.
fn cell_starts(cell: &str) -> impl Iterator<Item = usize> + '_ {
    std::iter::once(0)
        .chain(
            cell.char_indices()
                .filter(|(_, c)| SEPARATORS.contains(c))
                .map(|(at, c)| at + c.len_utf8()),
        )
        .map(move |at| {
            at + cell[at..]
                .find(|c: char| !is_blank(c))
                .unwrap_or(cell.len() - at)
        })
}

/// The cell as written: a `'` before every formula character (`=`, `+`,
/// `-`, `@`, or their full-width forms) that a spreadsheet could read as
/// the start of a cell — at the start, or after a separator, each past
/// blanks — and before a `'` there, so that import, which removes one `'`
/// before those, reads back exactly the value. A cell that is plainly a
/// number or an E.164 phone stays as it is.
pub fn safe(cell: &str) -> Cow<'_, str> {
    if is_plain_number(cell) || is_e164(cell) {
        return Cow::Borrowed(cell);
    }
    at_cell_starts(cell, |rest| {
        (rest.starts_with(FORMULA) || rest.starts_with('\'')).then_some(Edit::InsertQuote)
    })
}

/// What [`at_cell_starts`] does where a cell could start.
enum Edit {
    InsertQuote,
    RemoveQuote,
}

/// The cell with `edit` applied at every place a cell could start (`edit`
/// sees the text from there on); borrowed when nothing changes.
fn at_cell_starts(cell: &str, edit: impl Fn(&str) -> Option<Edit>) -> Cow<'_, str> {
    let mut edited: Option<String> = None;
    let mut copied = 0;
    for at in cell_starts(cell) {
        let Some(what) = edit(&cell[at..]) else {
            continue;
        };
        let out = edited.get_or_insert_with(|| String::with_capacity(cell.len() + 2));
        out.push_str(&cell[copied..at]);
        match what {
            Edit::InsertQuote => {
                out.push('\'');
                copied = at;
            }
            Edit::RemoveQuote => copied = at + 1,
        }
    }
    match edited {
        Some(mut out) => {
            out.push_str(&cell[copied..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(cell),
    }
}

/// The value of a cell [`safe`] wrote: one `'` removed wherever a cell
/// could start and a formula character or another `'` follows it.
pub fn unescape(cell: &str) -> Cow<'_, str> {
    if !cell.contains('\'') {
        return Cow::Borrowed(cell);
    }
    at_cell_starts(cell, |rest| {
        rest.strip_prefix('\'')
            .is_some_and(|after| after.starts_with(FORMULA) || after.starts_with('\''))
            .then_some(Edit::RemoveQuote)
    })
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
        for (risky, written) in [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("+cmd", "'+cmd"),
            ("-x", "'-x"),
            ("@x", "'@x"),
            ("=1+2", "'=1+2"),
            ("+", "'+"),
            ("-", "'-"),
            (
                "x;=HYPERLINK(\"http://evil\")",
                "x;'=HYPERLINK(\"http://evil\")",
            ),
            ("a,b;+c", "a,b;'+c"),
            ("x\t=1", "x\t'=1"),
            ("\t=1", "\t'=1"),
            ("x\r\n@y", "x\r\n'@y"),
            (" =1", " '=1"),
            ("\u{a0}\u{a0}=1", "\u{a0}\u{a0}'=1"),
            ("a; \u{2003}-b", "a; \u{2003}'-b"),
            ("\u{FF1D}1+1", "'\u{FF1D}1+1"),
            ("x;\u{FF0B}1", "x;'\u{FF0B}1"),
            ("\u{FF20}x", "'\u{FF20}x"),
            ("\u{FF0D}x", "'\u{FF0D}x"),
        ] {
            assert_eq!(safe(risky), written, "{risky:?}");
            assert_eq!(unescape(&safe(risky)), risky, "{risky:?}");
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
            "Gold;Silver",
            "O'Brien",
            "x; y",
        ] {
            assert_eq!(safe(plain), plain, "{plain:?}");
            assert_eq!(unescape(plain), plain, "{plain:?}");
        }
    }

    #[test]
    fn a_quote_where_a_cell_could_start_is_doubled_so_it_survives_import() {
        assert_eq!(safe("'quoted"), "''quoted");
        assert_eq!(unescape("''quoted"), "'quoted");
        assert_eq!(unescape("'quoted"), "'quoted");
        assert_eq!(safe("'=x"), "''=x");
        assert_eq!(safe("a;'b"), "a;''b");
        assert_eq!(unescape("a;''b"), "a;'b");
    }

    #[test]
    fn what_is_written_reads_back_exactly() {
        let pieces = [
            "=", "+", "-", "@", "'", ";", ",", "\t", "\r", "\n", " ", "\u{a0}", "\u{FF1D}", "a",
            "1", "é",
        ];
        // Every text of up to four pieces.
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| pieces.iter().map(move |p| format!("{t}{p}")))
                .collect();
            texts.extend(longer);
            texts.dedup();
        }
        for text in &texts {
            assert_eq!(unescape(&safe(text)), *text, "{text:?}");
        }
    }
}
