//! Newest-first listing over the write-sharded `by_workspace` index.
//!
//! An exact email or phone filter reads its one partition of `by_email` or
//! `by_phone`. Otherwise a page queries every shard in parallel below the
//! cursor position, each
//! evaluating at most [`per_shard`] items and one more (filters are
//! DynamoDB filter expressions, applied after the read), and merges them. Results are
//! complete down to the highest position where an unfinished shard stopped;
//! the page keeps what lies above it and continues from there. One page
//! therefore reads at most `SHARDS × (per_shard(limit) + 1)` items.

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::try_join_all;

use super::items::{self, Item};
use super::meter::Units;
use super::{DynamoStore, SHARDS, search, unexpected};
use crate::error::{Error, Result};
use crate::model::{AttributeId, AttributeValue as ModelValue, Channel, Contact, WorkspaceId};
use crate::query::{
    AttributeCondition, ContactFilter, ContactQuery, Cursor, Page, PageRequest, TextField,
};
use crate::search::{ContactWords, WordSearch};

/// Items each shard evaluates for a page of `limit`: twice its share, plus slack.
pub fn per_shard(limit: usize) -> usize {
    2 * limit / SHARDS as usize + 4
}

/// Where a page reads from: the one partition of an exact email or phone, the
/// 16 shards of a list's members, or the 16 shards of the workspace index;
/// and which filter that source already applies.
fn sources(
    workspace: &WorkspaceId,
    query: &ContactQuery,
) -> (Vec<(&'static str, &'static str, String)>, Option<usize>) {
    let ws = workspace.as_ref();
    for (i, filter) in query.filters.iter().enumerate() {
        match filter {
            ContactFilter::EmailIs(email) => {
                let key = format!("{ws}#{}", email.as_ref().to_lowercase());
                return (vec![("by_email", "epk", key)], Some(i));
            }
            ContactFilter::PhoneIs(phone) => {
                return (vec![("by_phone", "ppk", format!("{ws}#{phone}"))], Some(i));
            }
            _ => {}
        }
    }
    let list = query.filters.iter().enumerate().find_map(|(i, f)| match f {
        ContactFilter::InList(list) => Some((i, list)),
        _ => None,
    });
    if let Some((i, list)) = list {
        let shards = (0..SHARDS)
            .map(|shard| {
                (
                    "by_list",
                    "lpk",
                    items::list_partition(workspace, list, shard),
                )
            })
            .collect();
        return (shards, Some(i));
    }
    let shards = (0..SHARDS)
        .map(|shard| {
            (
                "by_workspace",
                "wpk",
                items::workspace_partition(workspace, shard),
            )
        })
        .collect();
    (shards, None)
}

/// One page of the contacts of `workspace` matching `query`.
pub(super) async fn list(
    store: &DynamoStore,
    workspace: &WorkspaceId,
    query: &ContactQuery,
    page: &PageRequest,
) -> Result<Page<Contact>> {
    if let Some(keys) = search::keys_for(query) {
        return search::list(store, workspace, query, page, &keys).await;
    }
    let before = decode_cursor(page.cursor.as_ref())?.unwrap_or_else(|| "~".to_owned());
    let (sources, driving) = sources(workspace, query);
    let filter = Filter::new(query, driving);
    // One source's page is its first `limit` items: `read_below` tells
    // whether more follow.
    let evaluate = if driving.is_some() {
        page.limit
    } else {
        per_shard(page.limit)
    };
    let evaluate = i32::try_from(evaluate).unwrap_or(i32::MAX);
    let queries = sources
        .into_iter()
        .map(|source| read_below(store, source, before.clone(), evaluate, &filter));
    let mut found = Vec::new();
    let mut complete_down_to: Option<String> = None;
    for (items, stopped_at) in try_join_all(queries).await? {
        for item in items {
            let (position, contact) = items::contact_from_item(item)?;
            if filter.words_match(&contact) {
                found.push((position, contact));
            }
        }
        if stopped_at > complete_down_to {
            complete_down_to = stopped_at;
        }
    }
    found.retain(|(position, _)| {
        complete_down_to
            .as_ref()
            .is_none_or(|floor| position >= floor)
    });
    found.sort_unstable_by(|a, b| b.0.cmp(&a.0));
    let next = if found.len() > page.limit {
        found.truncate(page.limit);
        found.last().map(|(position, _)| position.clone())
    } else {
        complete_down_to
    };
    Ok(Page {
        items: found.into_iter().map(|(_, contact)| contact).collect(),
        next_cursor: next.as_deref().map(encode_cursor),
    })
}

/// A batch of every contact matching `query`: each source (shard) read
/// in parallel below its own position, evaluating its share of `batch`
/// items, nothing read twice. The cursor
/// holds every source's position (`-` once it is done).
pub(super) async fn scan(
    store: &DynamoStore,
    workspace: &WorkspaceId,
    query: &ContactQuery,
    after: Option<&Cursor>,
    batch: usize,
) -> Result<Page<Contact>> {
    let (sources, driving) = sources(workspace, query);
    let filter = Filter::new(query, driving);
    let per_source = i32::try_from(batch.div_ceil(sources.len()).max(1)).unwrap_or(i32::MAX);
    let positions = match after {
        None => vec![Some("~".to_owned()); sources.len()],
        Some(cursor) => decode_scan_cursor(cursor, sources.len())?,
    };
    let reads = sources
        .into_iter()
        .zip(positions)
        .map(|(source, position)| {
            let filter = &filter;
            async move {
                match position {
                    Some(before) => read_below(store, source, before, per_source, filter).await,
                    None => Ok((Vec::new(), None)),
                }
            }
        });
    let mut items = Vec::new();
    let mut next = Vec::new();
    for (found, position) in try_join_all(reads).await? {
        for item in found {
            let contact = items::contact_from_item(item)?.1;
            if filter.words_match(&contact) {
                items.push(contact);
            }
        }
        next.push(position);
    }
    let next_cursor = next
        .iter()
        .any(Option::is_some)
        .then(|| encode_scan_cursor(&next));
    Ok(Page { items, next_cursor })
}

/// One source read below the position `before`, newest first, evaluating
/// at most `limit` items: the items, and the position it stopped at
/// (`None` when the source has nothing more). It reads one item more than
/// `limit` and leaves it out: DynamoDB stops with a position whenever it
/// reaches the limit, even at the source's end, and the item beyond it
/// tells the two apart, so that a page holding a source's last items
/// carries no cursor to an empty page. (With a filter, items it refuses
/// count towards the limit, and a stop position may still lead nowhere.)
async fn read_below(
    store: &DynamoStore,
    (index, hash, partition): (&'static str, &'static str, String),
    before: String,
    limit: i32,
    filter: &Filter,
) -> Result<(Vec<Item>, Option<String>)> {
    let request = store
        .client
        .query()
        .table_name(&store.table)
        .index_name(index)
        .key_condition_expression(format!("{hash} = :partition AND wsk < :before"))
        .expression_attribute_values(":partition", AttributeValue::S(partition))
        .expression_attribute_values(":before", AttributeValue::S(before))
        .scan_index_forward(false)
        .limit(limit.saturating_add(1))
        .set_return_consumed_capacity(store.capacity());
    let out = filter.apply(request).send().await.map_err(unexpected)?;
    store.record(Units::Read, "Query", out.consumed_capacity());
    store.record_items("Query", out.scanned_count);
    let mut items = out.items.unwrap_or_default();
    let stopped_at = if items.len() > usize::try_from(limit).unwrap_or(usize::MAX) {
        items.pop();
        items.last().and_then(position_of)
    } else {
        out.last_evaluated_key.as_ref().and_then(position_of)
    };
    Ok((items, stopped_at))
}

fn encode_scan_cursor(positions: &[Option<String>]) -> Cursor {
    let text: Vec<&str> = positions
        .iter()
        .map(|p| p.as_deref().unwrap_or("-"))
        .collect();
    Cursor(URL_SAFE_NO_PAD.encode(format!("scan:{}", text.join(","))))
}

fn decode_scan_cursor(cursor: &Cursor, sources: usize) -> Result<Vec<Option<String>>> {
    let positions: Option<Vec<Option<String>>> = URL_SAFE_NO_PAD
        .decode(&cursor.0)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| {
            text.strip_prefix("scan:").map(|rest| {
                rest.split(',')
                    .map(|p| (p != "-").then(|| p.to_owned()))
                    .collect()
            })
        });
    positions
        .filter(|p| p.len() == sources)
        .ok_or_else(|| Error::invalid("cursor", "is not a cursor this scan returned"))
}

fn position_of(key: &Item) -> Option<String> {
    match key.get("wsk") {
        Some(AttributeValue::S(position)) => Some(position.clone()),
        _ => None,
    }
}

/// A cursor for a position (or sort key).
pub(super) fn encode_cursor(position: &str) -> Cursor {
    Cursor::at("at", position)
}

/// The position a cursor stands for; `None` without a cursor.
pub(super) fn decode_cursor(cursor: Option<&Cursor>) -> Result<Option<String>> {
    Cursor::position(cursor, "at")
}

/// A query as a DynamoDB filter expression, and the word-prefix searches
/// (which no expression can state) to test on what it lets through.
struct Filter {
    expression: Option<String>,
    names: Vec<(String, String)>,
    values: Vec<(String, AttributeValue)>,
    words: Vec<WordSearch>,
}

impl Filter {
    /// The filters but the `driving` one (which the index key already applies).
    fn new(query: &ContactQuery, driving: Option<usize>) -> Self {
        let mut conditions = Vec::new();
        let mut names = Vec::new();
        let mut values = Vec::new();
        let mut words = Vec::new();
        for (i, filter) in query.filters.iter().enumerate() {
            if Some(i) == driving {
                continue;
            }
            if let ContactFilter::Words(search) = filter {
                words.push(search.clone());
                continue;
            }
            let name = format!(":f{i}");
            if let ContactFilter::Attribute(id, condition) = filter {
                let (expression, key, value) = attribute_condition(i, condition, &name);
                names.push((format!("#a{i}"), id.to_string()));
                names.push((format!("#k{i}"), key.to_owned()));
                conditions.push(expression);
                values.push((name, value));
                continue;
            }
            let (condition, value) = match filter {
                ContactFilter::Contains(field, text) => {
                    let needle = match field {
                        TextField::Phone => text.as_ref().to_owned(),
                        _ => text.as_ref().to_lowercase(),
                    };
                    (
                        format!("contains({}, {name})", search_attribute(*field)),
                        needle,
                    )
                }
                ContactFilter::Country(country) => {
                    (format!("country = {name}"), country.to_string())
                }
                ContactFilter::Consent(channel, status) => (
                    format!("{} = {name}", consent_attribute(*channel)),
                    status.as_str().to_owned(),
                ),
                ContactFilter::EmailIs(email) => {
                    (format!("s_email = {name}"), email.as_ref().to_lowercase())
                }
                ContactFilter::PhoneIs(phone) => (format!("phone = {name}"), phone.to_string()),
                ContactFilter::InList(list) => {
                    (format!("contains(lists, {name})"), list.to_string())
                }
                ContactFilter::Attribute(..) | ContactFilter::Words(_) => continue,
            };
            conditions.push(condition);
            values.push((name, AttributeValue::S(value)));
        }
        Self {
            expression: (!conditions.is_empty()).then(|| conditions.join(" AND ")),
            names,
            values,
            words,
        }
    }

    /// Whether a contact the expression let through meets the word searches.
    fn words_match(&self, contact: &Contact) -> bool {
        if self.words.is_empty() {
            return true;
        }
        let words = ContactWords::of(contact);
        self.words.iter().all(|search| search.matches(&words))
    }

    fn apply(
        &self,
        mut request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        if let Some(expression) = &self.expression {
            request = request.filter_expression(expression);
            for (name, value) in &self.values {
                request = request.expression_attribute_values(name, value.clone());
            }
            for (placeholder, name) in &self.names {
                request = request.expression_attribute_names(placeholder, name);
            }
        }
        request
    }
}

/// A condition on a custom attribute's stored form (`attrs.<id>.<type>`).
/// Returns the expression, the stored key it reads and the bound value.
fn attribute_condition(
    i: usize,
    condition: &AttributeCondition,
    value_name: &str,
) -> (String, &'static str, AttributeValue) {
    let (key, operator, value) = match condition {
        AttributeCondition::Contains(text) => {
            return (
                format!("contains(attrs.#a{i}.#k{i}, {value_name})"),
                "folded",
                AttributeValue::S(text.as_ref().to_lowercase()),
            );
        }
        AttributeCondition::Equals(value) => (value.kind().as_str(), "=", value),
        AttributeCondition::Greater(value) => (value.kind().as_str(), ">", value),
        AttributeCondition::Less(value) => (value.kind().as_str(), "<", value),
    };
    let bound = match value {
        ModelValue::Number(n) => AttributeValue::N(n.to_string()),
        ModelValue::Boolean(b) => AttributeValue::Bool(*b),
        other => AttributeValue::S(other.to_json().as_str().unwrap_or_default().to_owned()),
    };
    (
        format!("attrs.#a{i}.#k{i} {operator} {value_name}"),
        key,
        bound,
    )
}

/// Whether any contact of the workspace holds a value of the attribute: the
/// workspace's shards are read until one is found (a full read when none is).
pub(super) async fn any_holds(
    store: &DynamoStore,
    workspace: &WorkspaceId,
    id: &AttributeId,
) -> Result<bool> {
    for shard in 0..SHARDS {
        let mut pages = store
            .client
            .query()
            .table_name(&store.table)
            .index_name("by_workspace")
            .key_condition_expression("wpk = :p")
            .expression_attribute_values(
                ":p",
                AttributeValue::S(items::workspace_partition(workspace, shard)),
            )
            .filter_expression("attribute_exists(attrs.#a)")
            .expression_attribute_names("#a", id.as_ref())
            .select(aws_sdk_dynamodb::types::Select::Count)
            .set_return_consumed_capacity(store.capacity())
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(unexpected)?;
            store.record(Units::Read, "Query", page.consumed_capacity());
            if page.count > 0 {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn search_attribute(field: TextField) -> &'static str {
    match field {
        TextField::FullName => "s_full",
        TextField::FirstName => "s_first",
        TextField::LastName => "s_last",
        TextField::Phone => "phone",
        TextField::Email => "s_email",
    }
}

fn consent_attribute(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "sms",
        Channel::Whatsapp => "whatsapp",
        Channel::Email => "email_consent",
    }
}
