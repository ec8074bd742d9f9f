//! Filtered, paged listing over SQLite.
//!
//! Pages run newest first by row ID. Word-prefix searches are answered by the
//! word index (`word_index`), and `[contains]` filters of three or more
//! characters by the FTS5 trigram index, for the rows they hold (those at or
//! below their mark, see `text_index`; a page over the rows above it scans
//! them, then lets the index fill the rest); shorter `[contains]`, and pages with
//! more than one condition (unless one is an exact email or
//! phone, whose index leaves few rows), scan newest first within a bounded
//! window of row IDs, so one page never examines more than a window of rows:
//! it may come back short, with a cursor to continue.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use super::rows::{self, CONTACT_COLUMNS};
use super::{text_index, word_index};
use crate::error::{Error, Result};
use crate::model::{AttributeId, AttributeValue, Channel, Contact, WorkspaceId};
use crate::query::{AttributeCondition, ContactFilter, ContactQuery, Cursor, Page, PageRequest};

/// The most rows one windowed page examines, unless the store says otherwise.
pub const SCAN_WINDOW: i64 = 20_000;

/// The shortest text the trigram index can find.
const TRIGRAM: usize = 3;

/// Candidates a word search reads by the indexed starts of its words
/// before it reads the rest by the words whole: enough to fill a page
/// when one candidate in twenty matches.
const START_CANDIDATES: i64 = 1_000;

/// One page of contacts of `workspace` that match `query`.
pub(super) fn list(
    conn: &Connection,
    workspace: &WorkspaceId,
    query: &ContactQuery,
    page: &PageRequest,
    window: i64,
) -> Result<Page<Contact>> {
    // One snapshot: the text index's mark and the rows agree.
    let tx = conn.unchecked_transaction()?;
    let conn = &*tx;
    let plan = Plan::new(query);
    let fetch = fetch_size(page);
    let mut before = decode_cursor(page.cursor.as_ref())?;
    let mut items = Vec::new();
    if plan.text_match.is_some() {
        // The newest rows may wait above the text index's mark: scanned a
        // window at a time; once a window reaches the mark, the index
        // answers the rest of the page.
        let mark = text_index::mark(conn)?;
        let top = before.min(next_row_id(conn)?);
        if top > mark + 1 {
            let floor = top.saturating_sub(window).max(mark + 1);
            items = fetch_rows(
                conn,
                plan.above_text_index(),
                workspace,
                top,
                Some(floor),
                fetch,
            )?;
            if items.len() as i64 >= fetch || floor > mark + 1 {
                return Ok(into_page(items, page, Some(floor)));
            }
            before = mark + 1;
        }
    }
    if page.cursor.is_none() && plan.windowed {
        before = before.min(next_row_id(conn)?);
    }
    let floor = plan.windowed.then(|| before.saturating_sub(window).max(1));
    let rest = fetch - items.len() as i64;
    items.extend(fetch_matches(conn, plan, workspace, before, floor, rest)?);
    Ok(into_page(items, page, floor))
}

/// [`fetch_rows`], with a word search read by the indexed starts of its
/// words down to its [`START_CANDIDATES`]th candidate, and by the words
/// whole below it.
fn fetch_matches(
    conn: &Connection,
    plan: Plan,
    workspace: &WorkspaceId,
    before: i64,
    floor: Option<i64>,
    fetch: i64,
) -> Result<Vec<(i64, Contact)>> {
    let Some(split) = plan.start_split(conn, before, floor)? else {
        return fetch_rows(conn, plan, workspace, before, floor, fetch);
    };
    let whole = plan.whole();
    let mut items = fetch_rows(conn, plan, workspace, before, Some(split), fetch)?;
    let rest = fetch - items.len() as i64;
    if rest > 0 {
        items.extend(fetch_rows(conn, whole, workspace, split, floor, rest)?);
    }
    Ok(items)
}

/// Up to `fetch` rows of `plan` below row `before` (and from `floor` up).
fn fetch_rows(
    conn: &Connection,
    plan: Plan,
    workspace: &WorkspaceId,
    before: i64,
    floor: Option<i64>,
    fetch: i64,
) -> Result<Vec<(i64, Contact)>> {
    let (sql, params) = plan.sql(workspace, before, floor, fetch);
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut found = stmt.query(params_from_iter(params))?;
    let mut items = Vec::new();
    while let Some(row) = found.next()? {
        items.push(rows::contact(row)?);
    }
    Ok(items)
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

/// Which full-text index answers a page's text filters.
#[derive(Clone, Copy)]
enum TextIndex {
    /// `contacts_words`: word-prefix searches.
    Words,
    /// `contacts_text`: `[contains]` of three or more characters.
    Trigram,
}

impl TextIndex {
    fn table(self) -> &'static str {
        match self {
            TextIndex::Words => "contacts_words",
            TextIndex::Trigram => "contacts_text",
        }
    }
}

/// A condition on the contact row (alias `c`) and its parameters.
type Condition = (String, Vec<Value>);

/// How a query is answered: a full-text match, SQL conditions on the
/// contact row, and whether the page must be windowed.
#[derive(Clone)]
struct Plan {
    /// The index and its match expressions (combined with AND).
    text_match: Option<(TextIndex, Vec<String>)>,
    /// A word search's match expressions by its words whole, when they
    /// differ from `text_match`'s indexed starts.
    whole_words: Option<Vec<String>>,
    /// The filters of `text_match` as conditions on the row.
    text_scan: Vec<Condition>,
    /// A list whose memberships drive the page (newest member first).
    members_of: Option<String>,
    conditions: Vec<Condition>,
    windowed: bool,
}

impl Plan {
    fn new(query: &ContactQuery) -> Self {
        let mut words = Vec::new();
        let mut whole_words = Vec::new();
        let mut trigram = Vec::new();
        let mut text_scan = Vec::new();
        let mut members_of = None;
        let mut conditions = Vec::new();
        let mut scans = false;
        let searches_words = query
            .filters
            .iter()
            .any(|f| matches!(f, ContactFilter::Words(_)));
        let searches_trigram = query.filters.iter().any(
            |f| matches!(f, ContactFilter::Contains(_, t) if t.as_ref().chars().count() >= TRIGRAM),
        );
        for filter in &query.filters {
            match filter {
                ContactFilter::Words(search) => {
                    for alternatives in search.conditions() {
                        let (starts, whole) = word_index::match_expressions(alternatives);
                        words.push(starts);
                        whole_words.push(whole);
                        text_scan.push(word_index::row_condition(alternatives));
                    }
                }
                ContactFilter::Contains(field, text)
                    if !searches_words && text.as_ref().chars().count() >= TRIGRAM =>
                {
                    let phrase = text.as_ref().replace('"', "\"\"");
                    trigram.push(format!("{} : \"{phrase}\"", field.name()));
                    text_scan.push(contains(field.name(), text.as_ref()));
                }
                ContactFilter::Contains(field, text) => {
                    scans = true;
                    conditions.push(contains(field.name(), text.as_ref()));
                }
                ContactFilter::Country(country) => conditions.push((
                    "c.country = ?".to_owned(),
                    vec![Value::Text(country.to_string())],
                )),
                ContactFilter::Consent(channel, status) => conditions.push((
                    format!("c.{} = ?", consent_column(*channel)),
                    vec![Value::Text(status.as_str().to_owned())],
                )),
                ContactFilter::EmailIs(email) => conditions.push((
                    "fold_case(c.email) = ?".to_owned(),
                    vec![Value::Text(email.as_ref().to_lowercase())],
                )),
                ContactFilter::PhoneIs(phone) => conditions.push((
                    "c.phone = ?".to_owned(),
                    vec![Value::Text(phone.to_string())],
                )),
                ContactFilter::InList(list)
                    if members_of.is_none() && !searches_words && !searches_trigram =>
                {
                    members_of = Some(list.to_string());
                }
                ContactFilter::InList(list) => conditions.push((
                    "EXISTS (SELECT 1 FROM list_members l WHERE l.list_id = ? AND l.contact = c.id)"
                        .to_owned(),
                    vec![Value::Text(list.to_string())],
                )),
                ContactFilter::Attribute(id, condition) => {
                    scans = true;
                    conditions.push(attribute_condition(id, condition));
                }
            }
        }
        let whole_words = (whole_words != words).then_some(whole_words);
        let text_match = if !words.is_empty() {
            Some((TextIndex::Words, words))
        } else if !trigram.is_empty() {
            Some((TextIndex::Trigram, trigram))
        } else {
            None
        };
        let drivers = usize::from(text_match.is_some() || members_of.is_some()) + conditions.len();
        // An exact email or phone leaves few rows: its index drives, unbounded.
        let selective = query
            .filters
            .iter()
            .any(|f| matches!(f, ContactFilter::EmailIs(_) | ContactFilter::PhoneIs(_)));
        Self {
            windowed: !selective && (scans || drivers > 1),
            whole_words,
            text_match,
            text_scan,
            members_of,
            conditions,
        }
    }

    /// The row ID of a word search's [`START_CANDIDATES`]th candidate by
    /// the indexed starts of its words below `before` (and from `floor`
    /// up), if it has that many and its words whole differ.
    fn start_split(
        &self,
        conn: &Connection,
        before: i64,
        floor: Option<i64>,
    ) -> Result<Option<i64>> {
        let (Some((_, starts)), Some(_)) = (&self.text_match, &self.whole_words) else {
            return Ok(None);
        };
        let split = conn
            .prepare_cached(
                "SELECT rowid FROM contacts_words WHERE contacts_words MATCH ?1 \
                 AND rowid < ?2 AND rowid >= ?3 ORDER BY rowid DESC LIMIT 1 OFFSET ?4",
            )?
            .query_row(
                rusqlite::params![
                    starts.join(" AND "),
                    before,
                    floor.unwrap_or(0),
                    START_CANDIDATES - 1
                ],
                |row| row.get(0),
            )
            .optional()?;
        Ok(split)
    }

    /// The same plan with a word search read by its words whole.
    fn whole(&self) -> Self {
        let mut plan = self.clone();
        if let (Some((_, expressions)), Some(whole)) =
            (&mut plan.text_match, plan.whole_words.take())
        {
            *expressions = whole;
        }
        plan
    }

    /// The plan for the rows the text indexes do not hold yet: every text
    /// filter is tested on the row, a window at a time.
    fn above_text_index(&self) -> Self {
        Self {
            whole_words: None,
            text_match: None,
            text_scan: Vec::new(),
            members_of: None,
            conditions: self
                .conditions
                .iter()
                .chain(&self.text_scan)
                .cloned()
                .collect(),
            windowed: true,
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
        let mut rechecks = Vec::new();
        let (from, order_key) = if let Some((index, expressions)) = self.text_match {
            params.push(Value::Text(expressions.join(" AND ")));
            if let TextIndex::Words = index {
                // The index finds candidates; `search` decides.
                rechecks = self.text_scan;
            }
            let table = index.table();
            (
                format!(
                    "{table} f CROSS JOIN contacts c ON c.id = f.rowid WHERE {table} MATCH ? AND"
                ),
                "f.rowid",
            )
        } else if let Some(list) = self.members_of {
            params.push(Value::Text(list));
            (
                "list_members m CROSS JOIN contacts c ON c.id = m.contact \
                 WHERE m.list_id = ? AND"
                    .to_owned(),
                "m.contact",
            )
        } else {
            ("contacts c WHERE".to_owned(), "c.id")
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
        for (condition, values) in self.conditions.into_iter().chain(rechecks) {
            sql.push_str(" AND ");
            sql.push_str(&condition);
            params.extend(values);
        }
        sql.push_str(&format!(" ORDER BY {order_key} DESC LIMIT ?"));
        params.push(Value::Integer(fetch));
        (sql, params)
    }
}

/// Text `text` anywhere in column `column`, in any case.
fn contains(column: &str, text: &str) -> Condition {
    (
        format!("contains_folded(c.{column}, ?)"),
        vec![Value::Text(text.to_lowercase())],
    )
}

/// A condition on a custom attribute, on its stored form.
fn attribute_condition(id: &AttributeId, condition: &AttributeCondition) -> Condition {
    let (key, operator, value) = match condition {
        AttributeCondition::Contains(text) => {
            let path = format!("$.{id}.folded");
            return (
                format!("contains_folded(json_extract(c.attributes, '{path}'), ?)"),
                vec![Value::Text(text.as_ref().to_lowercase())],
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
        vec![bound],
    )
}

fn consent_column(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "sms",
        Channel::Whatsapp => "whatsapp",
        Channel::Email => "email_consent",
    }
}
