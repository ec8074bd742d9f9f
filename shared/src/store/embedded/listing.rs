//! Filtered, paged listing over SQLite.
//!
//! Pages run newest first by row ID. Text filters of three or more characters
//! are answered by the FTS5 trigram index; shorter ones, and pages with more
//! than one condition (unless one is an exact email or phone, whose index
//! leaves few rows), scan newest first within a bounded window of row IDs,
//! so one page never examines more than a window of rows: it may come back
//! short, with a cursor to continue.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::rows::{self, CONTACT_COLUMNS};
use crate::error::{Error, Result};
use crate::model::{AttributeId, AttributeValue, Channel, Contact, WorkspaceId};
use crate::query::{AttributeCondition, ContactFilter, ContactQuery, Cursor, Page, PageRequest};

/// The most rows one windowed page examines, unless the store says otherwise.
pub const SCAN_WINDOW: i64 = 20_000;

/// The shortest text the trigram index can find.
const TRIGRAM: usize = 3;

/// One page of contacts of `workspace` that match `query`.
pub(super) fn list(
    conn: &Connection,
    workspace: &WorkspaceId,
    query: &ContactQuery,
    page: &PageRequest,
    window: i64,
) -> Result<Page<Contact>> {
    let plan = Plan::new(query);
    let before = match page.cursor {
        Some(_) => decode_cursor(page.cursor.as_ref())?,
        None if plan.windowed => next_row_id(conn)?,
        None => i64::MAX,
    };
    let floor = plan.windowed.then(|| before.saturating_sub(window).max(1));
    let (sql, params) = plan.sql(workspace, before, floor, fetch_size(page));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut found = stmt.query(params_from_iter(params))?;
    let mut items = Vec::new();
    while let Some(row) = found.next()? {
        items.push(rows::contact(row)?);
    }
    Ok(into_page(items, page, floor))
}

/// Rows to fetch for a page: one more than it shows, to know if more follow.
pub(super) fn fetch_size(page: &PageRequest) -> i64 {
    i64::try_from(page.limit)
        .unwrap_or(i64::MAX)
        .saturating_add(1)
}

/// Cuts fetched `(row ID, item)` pairs to a page. When the fetch was confined
/// to row IDs from `floor` up, the listing continues below `floor`.
pub(super) fn into_page<T>(
    mut items: Vec<(i64, T)>,
    page: &PageRequest,
    floor: Option<i64>,
) -> Page<T> {
    let next = if items.len() > page.limit {
        items.truncate(page.limit);
        items.last().map(|(id, _)| *id)
    } else {
        floor.filter(|&floor| floor > 1)
    };
    Page {
        items: items.into_iter().map(|(_, item)| item).collect(),
        next_cursor: next.map(encode_cursor),
    }
}

/// The exclusive upper row ID a cursor stands for; no cursor starts at the top.
pub(super) fn decode_cursor(cursor: Option<&Cursor>) -> Result<i64> {
    let Some(Cursor(raw)) = cursor else {
        return Ok(i64::MAX);
    };
    URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("row:")?.parse().ok())
        .ok_or_else(|| Error::invalid("cursor", "is not a cursor this listing returned"))
}

fn encode_cursor(row_id: i64) -> Cursor {
    Cursor(URL_SAFE_NO_PAD.encode(format!("row:{row_id}")))
}

fn next_row_id(conn: &Connection) -> Result<i64> {
    let last: Option<i64> = conn
        .prepare_cached("SELECT max(id) FROM contacts")?
        .query_row([], |row| row.get(0))?;
    Ok(last.unwrap_or(0) + 1)
}

/// How a query is answered: an FTS match expression, SQL conditions on the
/// contact row, and whether the page must be windowed.
struct Plan {
    text_match: Vec<String>,
    /// A list whose memberships drive the page (newest member first).
    members_of: Option<String>,
    conditions: Vec<(String, Value)>,
    windowed: bool,
}

impl Plan {
    fn new(query: &ContactQuery) -> Self {
        let mut text_match = Vec::new();
        let mut members_of = None;
        let mut conditions = Vec::new();
        let mut scans = false;
        // Text search drives when present, so a list becomes a condition.
        let searches = query.filters.iter().any(
            |f| matches!(f, ContactFilter::Contains(_, t) if t.as_ref().chars().count() >= TRIGRAM),
        );
        for filter in &query.filters {
            match filter {
                ContactFilter::Contains(field, text)
                    if text.as_ref().chars().count() >= TRIGRAM =>
                {
                    let phrase = text.as_ref().replace('"', "\"\"");
                    text_match.push(format!("{} : \"{phrase}\"", field.name()));
                }
                ContactFilter::Contains(field, text) => {
                    scans = true;
                    conditions.push((
                        format!("contains_folded(c.{}, ?)", field.name()),
                        Value::Text(text.as_ref().to_lowercase()),
                    ));
                }
                ContactFilter::Country(country) => {
                    conditions.push(("c.country = ?".to_owned(), Value::Text(country.to_string())))
                }
                ContactFilter::Consent(channel, status) => conditions.push((
                    format!("c.{} = ?", consent_column(*channel)),
                    Value::Text(status.as_str().to_owned()),
                )),
                ContactFilter::EmailIs(email) => conditions.push((
                    "lower(c.email) = lower(?)".to_owned(),
                    Value::Text(email.to_string()),
                )),
                ContactFilter::PhoneIs(phone) => {
                    conditions.push(("c.phone = ?".to_owned(), Value::Text(phone.to_string())))
                }
                ContactFilter::InList(list) if members_of.is_none() && !searches => {
                    members_of = Some(list.to_string());
                }
                ContactFilter::InList(list) => conditions.push((
                    "EXISTS (SELECT 1 FROM list_members l WHERE l.list_id = ? AND l.contact = c.id)"
                        .to_owned(),
                    Value::Text(list.to_string()),
                )),
                ContactFilter::Attribute(id, condition) => {
                    scans = true;
                    conditions.push(attribute_condition(id, condition));
                }
            }
        }
        let drivers =
            usize::from(!text_match.is_empty() || members_of.is_some()) + conditions.len();
        // An exact email or phone leaves few rows: its index drives, unbounded.
        let selective = query
            .filters
            .iter()
            .any(|f| matches!(f, ContactFilter::EmailIs(_) | ContactFilter::PhoneIs(_)));
        Self {
            windowed: !selective && (scans || drivers > 1),
            text_match,
            members_of,
            conditions,
        }
    }

    fn sql(
        self,
        workspace: &WorkspaceId,
        before: i64,
        floor: Option<i64>,
        fetch: i64,
    ) -> (String, Vec<Value>) {
        let mut params = Vec::new();
        let (from, order_key) = if !self.text_match.is_empty() {
            params.push(Value::Text(self.text_match.join(" AND ")));
            (
                "contacts_text f CROSS JOIN contacts c ON c.id = f.rowid \
                 WHERE contacts_text MATCH ? AND",
                "f.rowid",
            )
        } else if let Some(list) = self.members_of {
            params.push(Value::Text(list));
            (
                "list_members m CROSS JOIN contacts c ON c.id = m.contact \
                 WHERE m.list_id = ? AND",
                "m.contact",
            )
        } else {
            ("contacts c WHERE", "c.id")
        };
        let mut sql = format!("SELECT {CONTACT_COLUMNS} FROM {from}");
        sql.push_str(&format!(" {order_key} < ?"));
        params.push(Value::Integer(before));
        if let Some(floor) = floor {
            sql.push_str(&format!(" AND {order_key} >= ?"));
            params.push(Value::Integer(floor));
        }
        sql.push_str(" AND c.workspace = ?");
        params.push(Value::Text(workspace.as_ref().to_owned()));
        for (condition, value) in self.conditions {
            sql.push_str(" AND ");
            sql.push_str(&condition);
            params.push(value);
        }
        sql.push_str(&format!(" ORDER BY {order_key} DESC LIMIT ?"));
        params.push(Value::Integer(fetch));
        (sql, params)
    }
}

/// A condition on a custom attribute, on its stored form.
fn attribute_condition(id: &AttributeId, condition: &AttributeCondition) -> (String, Value) {
    let (key, operator, value) = match condition {
        AttributeCondition::Contains(text) => {
            let path = format!("$.{id}.folded");
            return (
                format!("contains_folded(json_extract(c.attributes, '{path}'), ?)"),
                Value::Text(text.as_ref().to_lowercase()),
            );
        }
        AttributeCondition::Equals(value) => (value.kind().as_str(), "=", value),
        AttributeCondition::Greater(value) => (value.kind().as_str(), ">", value),
        AttributeCondition::Less(value) => (value.kind().as_str(), "<", value),
    };
    let bound = match value {
        AttributeValue::Number(n) => Value::Real(*n),
        AttributeValue::Boolean(b) => Value::Integer(i64::from(*b)),
        other => Value::Text(other.to_json().as_str().unwrap_or_default().to_owned()),
    };
    (
        format!("json_extract(c.attributes, '$.{id}.{key}') {operator} ?"),
        bound,
    )
}

fn consent_column(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "sms",
        Channel::Whatsapp => "whatsapp",
        Channel::Email => "email_consent",
    }
}
