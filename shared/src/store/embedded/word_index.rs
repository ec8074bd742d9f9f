//! The word index: `contacts_words` (FTS5, contentless) holds each contact's
//! searchable words ([`crate::search`]) as tokens, one column per group, and
//! answers word-prefix searches with prefix queries, newest row first. It
//! is filled behind the same mark as the trigram index (`text_index`); rows
//! above the mark are tested one by one with `starts_word`.
//!
//! Tokens are the words themselves with every ASCII character that is not a
//! letter or digit moved to the private use area, so FTS5's `ascii`
//! tokenizer (which splits on exactly those) keeps a word whole and a prefix
//! of a word is a prefix of its token. Candidates are tested again with
//! `starts_word`, so what matches is decided by [`crate::search`] alone,
//! and the index only has to hold every match: a search reads the longest
//! start of its word that has a prefix index ([`PREFIX_INDEXES`]), in row
//! order, instead of merging every term that starts with the whole word
//! (`gmail.com` is held by a third of some workspaces). When that start
//! leads to few matches (`maria.berg1234` starts like every `maria.`), the
//! listing reads the words whole after a bounded number of candidates
//! (see `listing`): a rare word's terms are few to merge. The words of
//! every text attribute share column `a`; the recheck tells the attributes
//! apart.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::Value;
use rusqlite::{Connection, Result as SqlResult};
use serde_json::Value as Json;

use crate::search::{Group, group_words};

/// The prefix lengths, in characters, the table keeps an index for.
const PREFIX_INDEXES: [usize; 3] = [2, 4, 6];
/// Phone digits searched whole from this many on: few numbers share them,
/// so merging their terms is cheaper than reading a shorter start's.
const PHONE_WHOLE: usize = 7;

/// The index's columns, and what each holds for a contact row `c`.
const COLUMNS: [(&str, &str); 6] = [
    ("f", "search_tokens('f', {row}first_name)"),
    ("l", "search_tokens('l', {row}last_name)"),
    ("e", "search_tokens('e', {row}email)"),
    ("p", "search_tokens('p', {row}phone)"),
    ("r", "search_tokens('r', {row}phone)"),
    ("a", "search_tokens('a', {row}attributes)"),
];

/// `INSERT` into the index of the rows a `SELECT … FROM {from}` picks,
/// where `row` is the contact row's alias with its dot (`c.`).
pub(super) fn insert_from(row: &str, from: &str) -> String {
    let columns: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
    let values: Vec<String> = COLUMNS
        .iter()
        .map(|(_, value)| value.replace("{row}", row))
        .collect();
    format!(
        "INSERT INTO contacts_words (rowid, {}) SELECT {row}id, {} FROM {from}",
        columns.join(", "),
        values.join(", ")
    )
}

/// Registers `search_tokens(tag, value)` and `starts_word(tag, value, prefix)`.
pub(super) fn register(conn: &Connection) -> SqlResult<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("search_tokens", 2, flags, |ctx| {
        let tag: String = ctx.get(0)?;
        let value: Option<String> = ctx.get(1)?;
        Ok(value.map(|value| tokens(&tag, &value).join(" ")))
    })?;
    conn.create_scalar_function("starts_word", 3, flags, |ctx| starts_word(ctx))
}

fn starts_word(ctx: &Context<'_>) -> SqlResult<bool> {
    let tag: String = ctx.get(0)?;
    let value: Option<String> = ctx.get(1)?;
    let prefix: String = ctx.get(2)?;
    let (Some(group), Some(value)) = (Group::from_tag(&tag), value) else {
        return Ok(false);
    };
    Ok(group_words(&group, &value)
        .iter()
        .any(|word| word.starts_with(&prefix)))
}

/// The tokens of a column: the group's words, or for `a` (the stored custom
/// values) the words of every text value.
fn tokens(tag: &str, value: &str) -> Vec<String> {
    if tag != "a" {
        return Group::from_tag(tag)
            .map(|group| {
                group_words(&group, value)
                    .iter()
                    .map(|w| token(w))
                    .collect()
            })
            .unwrap_or_default();
    }
    let Ok(Json::Object(values)) = serde_json::from_str::<Json>(value) else {
        return Vec::new();
    };
    values
        .iter()
        .filter_map(|(id, stored)| Some((id, stored.get("text")?.as_str()?)))
        .flat_map(|(id, text)| {
            let group = Group::Attribute(crate::model::AttributeId::from_stored(id.clone()));
            group_words(&group, text)
        })
        .map(|word| token(&word))
        .collect()
}

/// A word as a token `ascii` keeps whole.
fn token(word: &str) -> String {
    word.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_alphanumeric() {
                char::from_u32(0xE000 + u32::from(c)).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// The FTS5 column a group's words are in.
fn column_of(group: &Group) -> &'static str {
    match group {
        Group::FirstName => "f",
        Group::LastName => "l",
        Group::Email => "e",
        Group::Phone => "p",
        Group::PhoneEnding => "r",
        Group::Attribute(_) => "a",
    }
}

/// The start of `prefix` the index is read by: the longest with a prefix
/// index, or the whole of a one-character prefix, an indexed length, or
/// [`PHONE_WHOLE`] digits or more.
fn indexed_start(group: &Group, prefix: &str) -> String {
    let chars = prefix.chars().count();
    let phone = matches!(group, Group::Phone | Group::PhoneEnding);
    match PREFIX_INDEXES.iter().rev().find(|&&length| length <= chars) {
        Some(&length) if !(phone && chars >= PHONE_WHOLE) => prefix.chars().take(length).collect(),
        _ => prefix.to_owned(),
    }
}

/// The row column (of alias `c`) a group's words come from.
fn row_value(group: &Group) -> String {
    match group {
        Group::FirstName => "c.first_name".to_owned(),
        Group::LastName => "c.last_name".to_owned(),
        Group::Email => "c.email".to_owned(),
        Group::Phone | Group::PhoneEnding => "c.phone".to_owned(),
        Group::Attribute(id) => format!("json_extract(c.attributes, '$.{id}.text')"),
    }
}

/// FTS5 queries for one condition (any of its alternatives): by the
/// indexed starts of its prefixes, and by the prefixes whole.
pub(super) fn match_expressions(alternatives: &[(Group, String)]) -> (String, String) {
    let query = |start: &dyn Fn(&Group, &str) -> String| {
        let terms: Vec<String> = alternatives
            .iter()
            .map(|(group, prefix)| {
                let start = token(&start(group, prefix));
                format!("{} : \"{start}\"*", column_of(group))
            })
            .collect();
        format!("({})", terms.join(" OR "))
    };
    (query(&indexed_start), query(&|_, prefix| prefix.to_owned()))
}

/// The same condition tested on the row.
pub(super) fn row_condition(alternatives: &[(Group, String)]) -> (String, Vec<Value>) {
    let mut params = Vec::new();
    let tests: Vec<String> = alternatives
        .iter()
        .map(|(group, prefix)| {
            params.push(Value::Text(group.tag()));
            params.push(Value::Text(prefix.clone()));
            format!("starts_word(?, {}, ?)", row_value(group))
        })
        .collect();
    (format!("({})", tests.join(" OR ")), params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_words_whole_and_prefixes_prefixes() {
        let word = "ann.lee@example.com";
        assert!(!token(word).chars().any(|c| c.is_ascii_punctuation()));
        assert!(token(word).starts_with(&token("ann.lee@ex")));
        assert_eq!(token("müller"), "müller");
    }

    #[test]
    fn a_phone_column_holds_every_form() {
        let tokens = tokens("p", "+4930901820");
        for form in ["4930901820", "30901820", "030901820"] {
            assert!(tokens.contains(&form.to_owned()), "{form} in {tokens:?}");
        }
    }

    #[test]
    fn attribute_tokens_are_the_words_of_text_values() {
        let stored = r#"{"a1": {"text": "Gold Plus", "folded": "gold plus"}, "a2": {"number": 3}, "a3": {"text": "Silver"}}"#;
        assert_eq!(tokens("a", stored), ["gold", "plus", "silver"]);
    }

    #[test]
    fn a_search_reads_the_longest_indexed_start_of_its_word() {
        let cases = [
            (Group::LastName, "m", "m"),
            (Group::LastName, "mu", "mu"),
            (Group::LastName, "mur", "mu"),
            (Group::Email, "gmail.com", "gmail."),
            (Group::Phone, "491512", "491512"),
            (Group::Phone, "49151", "4915"),
            (Group::Phone, "4915123", "4915123"),
            (Group::PhoneEnding, "65000", "6500"),
        ];
        for (group, prefix, start) in cases {
            assert_eq!(indexed_start(&group, prefix), start, "{group:?} {prefix}");
        }
    }
}
