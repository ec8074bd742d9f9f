//! The example CSV of the Upload CSV flow: every importable column as
//! export writes its header, the workspace's custom attributes after them,
//! and three sample rows that import as they are.

use crate::catalog::Catalog;
use crate::export::cells::safe;
use crate::model::{AttributeType, Column};

/// The file's name when downloaded.
pub const FILE_NAME: &str = "contacts-template.csv";

/// Sample people: External ID, first name, last name, phone, email,
/// country, time zone.
const PEOPLE: [[&str; 7]; 3] = [
    [
        "crm-1001",
        "Ann",
        "Lee",
        "+12025550143",
        "ann.lee@example.com",
        "US",
        "America/New_York",
    ],
    [
        "crm-1002",
        "José",
        "García",
        "+34612345678",
        "jose.garcia@example.com",
        "ES",
        "Europe/Madrid",
    ],
    [
        "crm-1003",
        "美咲",
        "佐藤",
        "",
        "misaki.sato@example.jp",
        "JP",
        "Asia/Tokyo",
    ],
];

/// The columns of the template, in export order; the Messaging ID (set by
/// the system), the full name (First and Last Name make it) and the lists
/// (named as the workspace names them) are left out.
fn columns() -> impl Iterator<Item = Column> {
    Column::ALL.into_iter().filter(|column| {
        super::settings::importable(*column)
            && !matches!(
                column,
                Column::MessagingId | Column::FullName | Column::Lists
            )
    })
}

/// A sample value of `column` for person `n`.
fn generic(column: Column, n: usize) -> &'static str {
    let person = PEOPLE[n];
    match column {
        Column::ExternalId => person[0],
        Column::FirstName => person[1],
        Column::LastName => person[2],
        Column::Phone => person[3],
        Column::Email => person[4],
        Column::Country => person[5],
        Column::Timezone => person[6],
        _ => "",
    }
}

/// A sample value of a custom attribute of type `kind`.
fn custom(kind: AttributeType, n: usize) -> String {
    match kind {
        AttributeType::Text => ["Gold", "Silver", ""][n].to_owned(),
        AttributeType::Number => ["10", "2.5", ""][n].to_owned(),
        AttributeType::Boolean => ["true", "false", ""][n].to_owned(),
        AttributeType::Date => ["2026-01-15", "2025-12-31", ""][n].to_owned(),
        AttributeType::Datetime => ["2026-01-15T09:30:00Z", "", ""][n].to_owned(),
    }
}

/// The template for a workspace with `catalog`'s custom attributes.
pub fn csv(catalog: &Catalog) -> String {
    let mut headers: Vec<String> = columns().map(|c| c.header().to_owned()).collect();
    headers.extend(
        catalog
            .attributes
            .iter()
            .map(|d| d.name.as_ref().to_owned()),
    );
    let mut lines = vec![line(headers)];
    for n in 0..PEOPLE.len() {
        let mut cells: Vec<String> = columns().map(|c| generic(c, n).to_owned()).collect();
        cells.extend(catalog.attributes.iter().map(|d| custom(d.kind, n)));
        lines.push(line(cells));
    }
    lines.concat()
}

/// One CSV line, every cell quoted and safe to open in a spreadsheet.
fn line(cells: Vec<String>) -> String {
    let quoted: Vec<String> = cells
        .iter()
        .map(|cell| format!("\"{}\"", safe(cell).replace('"', "\"\"")))
        .collect();
    format!("{}\r\n", quoted.join(","))
}
