//! Keeping a contact's search entries (see `search`) up to date around the
//! transaction that writes the contact, outside it: an entry costs one write
//! unit instead of a transaction's two, and an edit's entries don't count
//! against a transaction's 100 items.
//!
//! Invariant: every word of a stored contact is in each of its entries. An
//! entry may hold more (words an edit took away, or a write that failed
//! added), or exist for a start the contact no longer has: searches test
//! every contact they read against the filters, so such an entry costs a
//! read, never a wrong answer.
//!
//! 1. Before the transaction, [`DynamoStore::prepare_search`] adds the new
//!    words to every entry of the new version (`ADD` to a string set, so a
//!    concurrent write's words are never lost) and marks it with the new
//!    version, unless a later version has marked it already: then this
//!    write is stale and fails as a precondition.
//! 2. After it commits, [`DynamoStore::settle_search`] sets each entry the
//!    new version still marks to exactly its words, and deletes the entries
//!    of starts it lost that no later version marks. A write that prepared
//!    a later version has marked them, and settles them itself.
//!
//! A contact's version only grows, and a write prepares the version its
//! transaction requires to be the next one: a later version's mark means a
//! transaction this one's condition will fail on has committed.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity};
use futures::future::join_all;

use super::items::{self, Item};
use super::meter::Units;
use super::{DynamoStore, unexpected};
use crate::error::Result;
use crate::model::{Contact, WorkspaceId};
use crate::search::ContactWords;

/// An entry's condition that no version after `:v` marks it.
const NOT_LATER: &str = "attribute_not_exists(#v) OR #v <= :v";

/// What happened to one conditional entry write.
enum Outcome {
    Written,
    /// Its condition failed: a later version marks the entry.
    Later,
}

impl DynamoStore {
    /// Step 1 for a write taking a contact from `old` (absent for a new
    /// one) to `new`; nothing when the words stay the same. `false` when a
    /// later version marks an entry: the write is stale.
    pub(super) async fn prepare_search(
        &self,
        workspace: &WorkspaceId,
        old: Option<&Contact>,
        new: &Contact,
    ) -> Result<bool> {
        let words = ContactWords::of(new);
        if old.map(ContactWords::of).as_ref() == Some(&words) {
            return Ok(true);
        }
        self.write_entries(workspace, new, &words, "ADD #w :w SET #v = :v")
            .await
    }

    /// Step 2, once the write taking a contact from `old` to `new` (absent
    /// when it was deleted) has committed. Best effort: what it leaves
    /// undone only makes entries hold more than their contact.
    pub(super) async fn settle_search(
        &self,
        workspace: &WorkspaceId,
        old: &Contact,
        new: Option<&Contact>,
    ) {
        let old_words = ContactWords::of(old);
        let new_words = new.map(ContactWords::of);
        if new_words.as_ref() == Some(&old_words) {
            return;
        }
        let kept = new_words
            .as_ref()
            .map(items::search_keys)
            .unwrap_or_default();
        let old_keys = items::search_keys(&old_words);
        let tagged = new_words.as_ref().map(items::search_words);
        let mut tightens = Vec::new();
        if let (Some(new), Some(tagged)) = (new, &tagged) {
            // Only entries the old version had can hold words it took away.
            for key in kept.intersection(&old_keys) {
                tightens.push(self.entry_write(
                    workspace,
                    new,
                    key,
                    tagged,
                    "SET #w = :w",
                    "#v = :v",
                ));
            }
        }
        let version = new.unwrap_or(old).version;
        let deletes = old_keys
            .difference(&kept)
            .map(|key| self.entry_delete(items::search_entry_key(workspace, old, key), version))
            .collect::<Vec<_>>();
        let (tightened, deleted) = futures::join!(join_all(tightens), join_all(deletes));
        for outcome in tightened.into_iter().chain(deleted) {
            if let Err(error) = outcome {
                tracing::warn!(%error, "a search entry was left holding more than its contact");
            }
        }
    }

    /// Sets every entry of `contact` as read (by a rebuild) to exactly its
    /// words, unless a later version marks it: a rebuild that read a
    /// contact before an edit never takes the edit's words away.
    pub(super) async fn restate_search(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
    ) -> Result<()> {
        let words = ContactWords::of(contact);
        self.write_entries(workspace, contact, &words, "SET #w = :w, #v = :v")
            .await
            .map(drop)
    }

    /// Applies `update` to every entry of `contact`'s `words` unless a later
    /// version marks it; `false` when one did.
    async fn write_entries(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        words: &ContactWords,
        update: &str,
    ) -> Result<bool> {
        let tagged = items::search_words(words);
        let keys = items::search_keys(words);
        let writes = keys
            .iter()
            .map(|key| self.entry_write(workspace, contact, key, &tagged, update, NOT_LATER));
        let mut current = true;
        for outcome in join_all(writes).await {
            current &= matches!(outcome?, Outcome::Written);
        }
        Ok(current)
    }

    /// Deletes the entries [`Self::prepare_search`] wrote for a new contact
    /// whose transaction failed, unless a later version marks them.
    pub(super) async fn forget_search(&self, workspace: &WorkspaceId, contact: &Contact) {
        let keys: BTreeSet<String> = items::search_keys(&ContactWords::of(contact));
        let deletes = keys.iter().map(|key| {
            self.entry_delete(
                items::search_entry_key(workspace, contact, key),
                contact.version,
            )
        });
        for outcome in join_all(deletes).await {
            if let Err(error) = outcome {
                tracing::warn!(%error, "a search entry of a contact never written was left");
            }
        }
    }

    /// Updates `contact`'s entry under `key` with `update`, its words
    /// being `:w` and its version `:v`, if `condition` holds.
    async fn entry_write(
        &self,
        workspace: &WorkspaceId,
        contact: &Contact,
        key: &str,
        words: &AttributeValue,
        update: &str,
        condition: &str,
    ) -> Result<Outcome> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(items::search_entry_key(workspace, contact, key)))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_values(":w", words.clone())
            .expression_attribute_values(":v", items::version(contact.version))
            .expression_attribute_names("#w", items::ENTRY_WORDS)
            .expression_attribute_names("#v", items::ENTRY_VERSION)
            .set_return_consumed_capacity(self.capacity())
            .send()
            .await;
        self.outcome(
            "UpdateItem",
            result,
            |out| out.consumed_capacity(),
            |e| e.is_conditional_check_failed_exception(),
        )
    }

    /// Deletes an entry unless a version after `version` marks it.
    async fn entry_delete(&self, key: Item, version: u64) -> Result<Outcome> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression(NOT_LATER)
            .expression_attribute_names("#v", items::ENTRY_VERSION)
            .expression_attribute_values(":v", items::version(version))
            .set_return_consumed_capacity(self.capacity())
            .send()
            .await;
        self.outcome(
            "DeleteItem",
            result,
            |out| out.consumed_capacity(),
            |e| e.is_conditional_check_failed_exception(),
        )
    }

    /// A conditional write's result: written (its capacity recorded), or
    /// its condition failed.
    fn outcome<O, E>(
        &self,
        operation: &'static str,
        result: std::result::Result<O, SdkError<E>>,
        consumed: fn(&O) -> Option<&ConsumedCapacity>,
        condition_failed: fn(&E) -> bool,
    ) -> Result<Outcome>
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        match result {
            Ok(out) => {
                self.record(Units::Write, operation, consumed(&out));
                Ok(Outcome::Written)
            }
            Err(error) if error.as_service_error().is_some_and(condition_failed) => {
                Ok(Outcome::Later)
            }
            Err(error) => Err(unexpected(error)),
        }
    }
}
