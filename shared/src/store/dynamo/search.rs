//! Word-prefix searches answered from the search entries.
//!
//! Every contact has one entry per distinct start
//! ([`KEY_CHARS`](crate::search::KEY_CHARS) characters) of its words, in the base table at
//! `T#<ws>#<shard>#<start>`, sorted by the contact's position, holding all
//! of its words (see `items::search_entry`). A search reads the entries
//! under its longest word's start (a phone: its start and its ending), in
//! every shard, newest first, plus the overflow entries of contacts with
//! too many starts; tests every word search on the entries' words; reads
//! the contacts that pass, newest first, in one batch; and tests the other
//! filters on them. Like the workspace listing, the merged result is
//! complete down to the highest position where an unfinished partition
//! stopped, and a page continues from there.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::try_join_all;
use futures::{StreamExt, TryStreamExt};

use super::items::{self, Item, OVERFLOW_KEY};
use super::listing::{decode_cursor, encode_cursor};
use super::meter::Units;
use super::{DynamoStore, SHARDS, unexpected};
use crate::error::Result;
use crate::model::{Contact, MessagingId, WorkspaceId};
use crate::query::{ContactFilter, ContactQuery, Page, PageRequest};
use crate::search::ContactWords;

/// Entries one page reads at most from the partitions of its keys (the
/// overflow partitions read as many again at most, and are mostly empty).
const ENTRIES_PER_PAGE: usize = 960;
/// Contacts whose entries a rebuild writes at once.
const REBUILD_CONCURRENCY: usize = 16;

/// The index keys that answer `query`, if a search entry index can: from
/// the word search with the longest word (and, of equals, fewer keys),
/// unless an exact email or phone (one partition) answers it better.
pub(super) fn keys_for(query: &ContactQuery) -> Option<Vec<String>> {
    let exact = query
        .filters
        .iter()
        .any(|f| matches!(f, ContactFilter::EmailIs(_) | ContactFilter::PhoneIs(_)));
    if exact {
        return None;
    }
    query
        .filters
        .iter()
        .filter_map(|filter| match filter {
            ContactFilter::Words(search) => Some((search.longest(), search.keys()?)),
            _ => None,
        })
        .max_by_key(|(longest, keys)| (*longest, std::cmp::Reverse(keys.len())))
        .map(|(_, keys)| keys)
}

/// One page of the contacts of `workspace` matching `query`, found
/// through the entries under `keys`.
pub(super) async fn list(
    store: &DynamoStore,
    workspace: &WorkspaceId,
    query: &ContactQuery,
    page: &PageRequest,
    keys: &[String],
) -> Result<Page<Contact>> {
    let before = decode_cursor(page.cursor.as_ref())?.unwrap_or_else(|| "~".to_owned());
    let per_partition = (ENTRIES_PER_PAGE / (SHARDS as usize * keys.len().max(1)))
        .max(2 * page.limit / SHARDS as usize + 4);
    let per_partition = i32::try_from(per_partition).unwrap_or(i32::MAX);
    let partitions: Vec<String> = (0..SHARDS)
        .flat_map(|shard| {
            keys.iter()
                .map(String::as_str)
                .chain([OVERFLOW_KEY])
                .map(move |key| items::search_partition(workspace, shard, key))
        })
        .collect();
    let reads = partitions
        .into_iter()
        .map(|partition| read_entries(store, partition, before.clone(), per_partition));
    let mut entries: HashMap<String, (MessagingId, ContactWords)> = HashMap::new();
    let mut complete_down_to: Option<String> = None;
    for (found, stopped_at) in try_join_all(reads).await? {
        for item in found {
            let (position, id, words) = items::search_from_item(&item)?;
            entries.entry(position).or_insert((id, words));
        }
        if stopped_at > complete_down_to {
            complete_down_to = stopped_at;
        }
    }
    let mut candidates: Vec<(String, MessagingId)> = entries
        .into_iter()
        .filter(|(position, _)| {
            complete_down_to
                .as_ref()
                .is_none_or(|floor| position >= floor)
        })
        .filter(|(_, (_, words))| words_match(query, words))
        .map(|(position, (id, _))| (position, id))
        .collect();
    candidates.sort_unstable_by(|a, b| b.0.cmp(&a.0));
    let examined = candidates.len().min(page.limit + 1);
    let more_candidates = candidates.len() > examined;
    candidates.truncate(examined);
    let mut found = fetch_contacts(store, workspace, &candidates).await?;
    found.retain(|(_, contact)| {
        let words = ContactWords::of(contact);
        query.filters.iter().all(|f| f.holds(contact, &words))
    });
    let next = if found.len() > page.limit {
        found.truncate(page.limit);
        found.last().map(|(position, _)| position.clone())
    } else if more_candidates {
        candidates.last().map(|(position, _)| position.clone())
    } else {
        complete_down_to
    };
    Ok(Page {
        items: found.into_iter().map(|(_, contact)| contact).collect(),
        next_cursor: next.as_deref().map(encode_cursor),
    })
}

/// Whether entry words meet every word search of `query`.
fn words_match(query: &ContactQuery, words: &ContactWords) -> bool {
    query.filters.iter().all(|filter| match filter {
        ContactFilter::Words(search) => search.matches(words),
        _ => true,
    })
}

/// The contacts at `candidates` (position, ID), in their order; a contact
/// deleted since its entry was read is left out.
async fn fetch_contacts(
    store: &DynamoStore,
    workspace: &WorkspaceId,
    candidates: &[(String, MessagingId)],
) -> Result<Vec<(String, Contact)>> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let keys = candidates
        .iter()
        .map(|(_, id)| items::contact_key(workspace, id))
        .collect();
    let mut by_position: HashMap<String, Contact> = HashMap::new();
    for item in store.get_batches(keys).await? {
        let (position, contact) = items::contact_from_item(item)?;
        by_position.insert(position, contact);
    }
    Ok(candidates
        .iter()
        .filter_map(|(position, _)| Some((position.clone(), by_position.remove(position)?)))
        .collect())
}

/// One partition's entries below `before`, newest first, at most `limit`,
/// and the position it stopped at (`None` when it has nothing more).
async fn read_entries(
    store: &DynamoStore,
    partition: String,
    before: String,
    limit: i32,
) -> Result<(Vec<Item>, Option<String>)> {
    let out = store
        .client
        .query()
        .table_name(&store.table)
        .key_condition_expression("pk = :p AND sk < :before")
        .expression_attribute_values(":p", AttributeValue::S(partition))
        .expression_attribute_values(":before", AttributeValue::S(before))
        .scan_index_forward(false)
        .limit(limit)
        .set_return_consumed_capacity(store.capacity())
        .send()
        .await
        .map_err(unexpected)?;
    store.record(Units::Read, "Query", out.consumed_capacity());
    store.record_items("Query", out.scanned_count);
    let stopped_at = out
        .last_evaluated_key
        .as_ref()
        .and_then(|key| match key.get("sk") {
            Some(AttributeValue::S(position)) => Some(position.clone()),
            _ => None,
        });
    Ok((out.items.unwrap_or_default(), stopped_at))
}

impl DynamoStore {
    /// Writes the search entries of every contact of `workspace` (a
    /// workspace whose contacts were written before the entries existed,
    /// or with entries of an earlier shape): idempotent, a page of
    /// contacts at a time, each entry set to the words of the contact as
    /// the scan read it unless an edit since has marked it (see
    /// `search_writes`). An entry a contact no longer matches is harmless:
    /// every search tests the contact it reads. Each contact's shared
    /// values are noted as duplicates on the way. Returns how many contacts
    /// it indexed.
    pub async fn rebuild_search(&self, workspace: &WorkspaceId) -> Result<u64> {
        let everything = ContactQuery::default();
        let mut after = None;
        let mut indexed = 0;
        loop {
            let batch =
                super::listing::scan(self, workspace, &everything, after.as_ref(), 400).await?;
            futures::stream::iter(&batch.items)
                .map(|contact| async move {
                    self.note_duplicates(workspace, contact, None).await;
                    self.restate_search(workspace, contact).await
                })
                .buffer_unordered(REBUILD_CONCURRENCY)
                .try_collect::<Vec<()>>()
                .await?;
            indexed += batch.items.len() as u64;
            match batch.next_cursor {
                Some(cursor) => after = Some(cursor),
                None => return Ok(indexed),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::TextField;
    use crate::search::{Target, WordSearch};

    fn words(field: TextField, text: &str) -> ContactFilter {
        ContactFilter::Words(WordSearch::parse(Target::Field(field), text).expect("search"))
    }

    #[test]
    fn the_longest_word_drives_and_exact_lookups_win() {
        let query = ContactQuery {
            filters: vec![
                words(TextField::FirstName, "an"),
                words(TextField::LastName, "quaresma"),
            ],
        };
        assert_eq!(keys_for(&query), Some(vec!["qu".to_owned()]));
        let query = ContactQuery {
            filters: vec![words(TextField::Phone, "0143")],
        };
        assert_eq!(
            keys_for(&query),
            Some(vec!["0143".to_owned(), "~3410".to_owned()])
        );
        let query = ContactQuery {
            filters: vec![words(TextField::FirstName, "a")],
        };
        assert_eq!(keys_for(&query), None);
    }
}
