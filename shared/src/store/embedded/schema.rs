//! Connections and the schema, versioned with `PRAGMA user_version`.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

use crate::error::Result;

/// Each entry moves the schema one version up; never edit a released one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE contacts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace     TEXT NOT NULL,
    messaging_id  TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    first_name    TEXT,
    last_name     TEXT,
    full_name     TEXT,
    phone         TEXT,
    email         TEXT,
    country       TEXT,
    timezone      TEXT,
    sms           TEXT NOT NULL,
    whatsapp      TEXT NOT NULL,
    email_consent TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL
);
CREATE UNIQUE INDEX contacts_messaging_id ON contacts (workspace, messaging_id);
CREATE UNIQUE INDEX contacts_external_id ON contacts (workspace, external_id);
CREATE INDEX contacts_newest ON contacts (workspace);
CREATE INDEX contacts_country ON contacts (workspace, country);
CREATE INDEX contacts_sms ON contacts (workspace, sms);
CREATE INDEX contacts_whatsapp ON contacts (workspace, whatsapp);
CREATE INDEX contacts_email_consent ON contacts (workspace, email_consent);

CREATE VIRTUAL TABLE contacts_text USING fts5 (
    full_name, first_name, last_name, phone, email,
    content = 'contacts', content_rowid = 'id',
    tokenize = 'trigram', columnsize = 0
);
CREATE TRIGGER contacts_text_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_text (rowid, full_name, first_name, last_name, phone, email)
    VALUES (new.id, new.full_name, new.first_name, new.last_name, new.phone, new.email);
END;
CREATE TRIGGER contacts_text_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_text (contacts_text, rowid, full_name, first_name, last_name, phone, email)
    VALUES ('delete', old.id, old.full_name, old.first_name, old.last_name, old.phone, old.email);
END;
CREATE TRIGGER contacts_text_update AFTER UPDATE OF full_name, first_name, last_name, phone, email ON contacts BEGIN
    INSERT INTO contacts_text (contacts_text, rowid, full_name, first_name, last_name, phone, email)
    VALUES ('delete', old.id, old.full_name, old.first_name, old.last_name, old.phone, old.email);
    INSERT INTO contacts_text (rowid, full_name, first_name, last_name, phone, email)
    VALUES (new.id, new.full_name, new.first_name, new.last_name, new.phone, new.email);
END;

CREATE TABLE usage (
    workspace TEXT PRIMARY KEY,
    contacts  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER usage_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO usage (workspace, contacts) VALUES (new.workspace, 1)
    ON CONFLICT (workspace) DO UPDATE SET contacts = contacts + 1;
END;
CREATE TRIGGER usage_delete AFTER DELETE ON contacts BEGIN
    UPDATE usage SET contacts = contacts - 1 WHERE workspace = old.workspace;
END;

CREATE TABLE consent_history (
    id           INTEGER PRIMARY KEY,
    workspace    TEXT NOT NULL,
    messaging_id TEXT NOT NULL,
    at           INTEGER NOT NULL,
    channel      TEXT NOT NULL,
    old          TEXT NOT NULL,
    new          TEXT NOT NULL,
    source       TEXT NOT NULL
);
CREATE INDEX consent_history_contact ON consent_history (workspace, messaging_id);
CREATE TRIGGER consent_history_delete AFTER DELETE ON contacts BEGIN
    DELETE FROM consent_history
    WHERE workspace = old.workspace AND messaging_id = old.messaging_id;
END;
"#,
    r#"
CREATE INDEX contacts_email ON contacts (workspace, lower(email));
CREATE INDEX contacts_phone ON contacts (workspace, phone);
"#,
    r#"
ALTER TABLE contacts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
CREATE TABLE attribute_defs (
    workspace TEXT NOT NULL,
    name      TEXT NOT NULL,
    id        TEXT NOT NULL,
    label     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    PRIMARY KEY (workspace, name)
) WITHOUT ROWID;
CREATE TABLE lists (
    workspace  TEXT NOT NULL,
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    folded     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX lists_name ON lists (workspace, folded);
CREATE TABLE list_members (
    list_id TEXT NOT NULL,
    contact INTEGER NOT NULL,
    PRIMARY KEY (list_id, contact)
) WITHOUT ROWID;
CREATE INDEX list_members_contact ON list_members (contact);
CREATE TRIGGER list_members_contact_delete AFTER DELETE ON contacts BEGIN
    DELETE FROM list_members WHERE contact = old.id;
END;
CREATE TRIGGER list_members_list_delete AFTER DELETE ON lists BEGIN
    DELETE FROM list_members WHERE list_id = old.id;
END;
CREATE TABLE settings (
    workspace TEXT NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (workspace, key)
) WITHOUT ROWID;
"#,
    r#"
CREATE TABLE imports (
    workspace TEXT NOT NULL,
    id        TEXT NOT NULL,
    finished  INTEGER NOT NULL,
    job       TEXT NOT NULL,
    PRIMARY KEY (workspace, id)
) WITHOUT ROWID;
CREATE INDEX imports_unfinished ON imports (finished, id);
CREATE TABLE import_seen (
    import TEXT NOT NULL,
    key    TEXT NOT NULL,
    line   INTEGER NOT NULL,
    PRIMARY KEY (import, key)
) WITHOUT ROWID;
CREATE TABLE import_rejected (
    import TEXT NOT NULL,
    line   INTEGER NOT NULL,
    cells  TEXT NOT NULL,
    error  TEXT NOT NULL,
    PRIMARY KEY (import, line)
) WITHOUT ROWID;
"#,
    r#"
DROP TRIGGER contacts_text_insert;
CREATE TRIGGER contacts_text_insert AFTER INSERT ON contacts WHEN NOT contacts_bulk() BEGIN
    INSERT INTO contacts_text (rowid, full_name, first_name, last_name, phone, email)
    VALUES (new.id, new.full_name, new.first_name, new.last_name, new.phone, new.email);
END;
DROP TRIGGER contacts_text_update;
CREATE TRIGGER contacts_text_update AFTER UPDATE OF full_name, first_name, last_name, phone, email ON contacts
WHEN NOT contacts_bulk() BEGIN
    INSERT INTO contacts_text (contacts_text, rowid, full_name, first_name, last_name, phone, email)
    VALUES ('delete', old.id, old.full_name, old.first_name, old.last_name, old.phone, old.email);
    INSERT INTO contacts_text (rowid, full_name, first_name, last_name, phone, email)
    VALUES (new.id, new.full_name, new.first_name, new.last_name, new.phone, new.email);
END;
DROP TRIGGER usage_insert;
CREATE TRIGGER usage_insert AFTER INSERT ON contacts WHEN NOT contacts_bulk() BEGIN
    INSERT INTO usage (workspace, contacts) VALUES (new.workspace, 1)
    ON CONFLICT (workspace) DO UPDATE SET contacts = contacts + 1;
END;
"#,
    r#"
CREATE TABLE import_claims (
    workspace TEXT NOT NULL,
    object    TEXT NOT NULL,
    version   TEXT NOT NULL,
    import    TEXT NOT NULL,
    PRIMARY KEY (workspace, object, version)
) WITHOUT ROWID;
"#,
    r#"
CREATE TABLE exports (
    workspace TEXT NOT NULL,
    id        TEXT NOT NULL,
    finished  INTEGER NOT NULL,
    job       TEXT NOT NULL,
    PRIMARY KEY (workspace, id)
) WITHOUT ROWID;
CREATE INDEX exports_unfinished ON exports (finished, id);
"#,
    r#"
DROP TRIGGER contacts_text_insert;
DROP TRIGGER contacts_text_update;
DROP TRIGGER contacts_text_delete;
DROP TRIGGER usage_insert;
CREATE TABLE text_index (
    id   INTEGER PRIMARY KEY CHECK (id = 0),
    mark INTEGER NOT NULL
);
INSERT INTO text_index (id, mark) SELECT 0, coalesce(max(id), 0) FROM contacts;
CREATE TRIGGER contacts_text_delete AFTER DELETE ON contacts
WHEN old.id <= (SELECT mark FROM text_index) BEGIN
    INSERT INTO contacts_text (contacts_text, rowid, full_name, first_name, last_name, phone, email)
    VALUES ('delete', old.id, old.full_name, old.first_name, old.last_name, old.phone, old.email);
END;
CREATE TRIGGER contacts_text_update AFTER UPDATE OF full_name, first_name, last_name, phone, email ON contacts
WHEN NOT contacts_bulk() AND old.id <= (SELECT mark FROM text_index) BEGIN
    INSERT INTO contacts_text (contacts_text, rowid, full_name, first_name, last_name, phone, email)
    VALUES ('delete', old.id, old.full_name, old.first_name, old.last_name, old.phone, old.email);
    INSERT INTO contacts_text (rowid, full_name, first_name, last_name, phone, email)
    VALUES (new.id, new.full_name, new.first_name, new.last_name, new.phone, new.email);
END;
"#,
    // A contact without an External ID stores '' (the column is NOT NULL);
    // the index keeps the IDs that exist unique and finds them by
    // `rows::EXTERNAL_ID`.
    r#"
DROP INDEX contacts_external_id;
CREATE UNIQUE INDEX contacts_external_id ON contacts (workspace, nullif(external_id, ''));
"#,
    // The word index (see `word_index`), behind the text index's mark.
    r#"
CREATE VIRTUAL TABLE contacts_words USING fts5 (
    f, l, e, p, r, a,
    content = '', contentless_delete = 1,
    tokenize = 'ascii', prefix = '1 2'
);
INSERT INTO contacts_words (rowid, f, l, e, p, r, a)
SELECT id, search_tokens('f', first_name), search_tokens('l', last_name),
    search_tokens('e', email), search_tokens('p', phone), search_tokens('r', phone),
    search_tokens('a', attributes)
FROM contacts WHERE id <= (SELECT mark FROM text_index);
CREATE TRIGGER contacts_words_delete AFTER DELETE ON contacts
WHEN old.id <= (SELECT mark FROM text_index) BEGIN
    DELETE FROM contacts_words WHERE rowid = old.id;
END;
CREATE TRIGGER contacts_words_update
AFTER UPDATE OF first_name, last_name, phone, email, attributes ON contacts
WHEN NOT contacts_bulk() AND old.id <= (SELECT mark FROM text_index) BEGIN
    DELETE FROM contacts_words WHERE rowid = old.id;
    INSERT INTO contacts_words (rowid, f, l, e, p, r, a)
    VALUES (new.id, search_tokens('f', new.first_name), search_tokens('l', new.last_name),
        search_tokens('e', new.email), search_tokens('p', new.phone),
        search_tokens('r', new.phone), search_tokens('a', new.attributes));
END;
"#,
    // Prefix indexes of one to six characters: a prefix query up to that
    // long reads one doclist in row order instead of merging every term
    // that starts with it (the word index's own triggers name the table and
    // go on working).
    r#"
DROP TABLE contacts_words;
CREATE VIRTUAL TABLE contacts_words USING fts5 (
    f, l, e, p, r, a,
    content = '', contentless_delete = 1,
    tokenize = 'ascii', prefix = '1 2 3 4 5 6'
);
INSERT INTO contacts_words (rowid, f, l, e, p, r, a)
SELECT id, search_tokens('f', first_name), search_tokens('l', last_name),
    search_tokens('e', email), search_tokens('p', phone), search_tokens('r', phone),
    search_tokens('a', attributes)
FROM contacts WHERE id <= (SELECT mark FROM text_index);
"#,
    // Which column a token is in, not where in it (`detail = column`), and
    // prefix indexes of two, four and six characters: a search reads the
    // longest indexed start of its word and `starts_word` decides (see
    // `word_index`). Text attributes' words are stored without their
    // attribute, which the row's recheck tells apart. Filling it costs
    // about half of what the one before did.
    r#"
DROP TABLE contacts_words;
CREATE VIRTUAL TABLE contacts_words USING fts5 (
    f, l, e, p, r, a,
    content = '', contentless_delete = 1, detail = column,
    tokenize = 'ascii', prefix = '2 4 6'
);
INSERT INTO contacts_words (rowid, f, l, e, p, r, a)
SELECT id, search_tokens('f', first_name), search_tokens('l', last_name),
    search_tokens('e', email), search_tokens('p', phone), search_tokens('r', phone),
    search_tokens('a', attributes)
FROM contacts WHERE id <= (SELECT mark FROM text_index);
"#,
    // Merges: a history entry's note (the External IDs a merge freed), and
    // each merged-away Messaging ID with the contact it was merged into.
    r#"
ALTER TABLE consent_history ADD COLUMN note TEXT;
CREATE TABLE merged (
    workspace    TEXT NOT NULL,
    messaging_id TEXT NOT NULL,
    survivor     TEXT NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (workspace, messaging_id)
) WITHOUT ROWID;
"#,
    // Duplicates: each value (a lower-case email, a phone) a contact was
    // written with while another contact held it, at its position in the
    // order of duplicates (see `DuplicateKey::position`), filled from the
    // contacts already stored; and the groups dismissed as not one person.
    r#"
CREATE TABLE duplicate_keys (
    workspace TEXT NOT NULL,
    reason    TEXT NOT NULL,
    value     TEXT NOT NULL,
    position  TEXT NOT NULL,
    PRIMARY KEY (workspace, reason, value)
) WITHOUT ROWID;
CREATE INDEX duplicate_keys_position ON duplicate_keys (workspace, position);
CREATE TABLE duplicate_dismissals (
    workspace TEXT NOT NULL,
    members   TEXT NOT NULL,
    PRIMARY KEY (workspace, members)
) WITHOUT ROWID;
INSERT INTO duplicate_keys (workspace, reason, value, position)
SELECT workspace, 'same_email', lower(email),
    '0#' || printf('%019d', 9223372036854775807 - max(updated_at)) || '#' || lower(email)
FROM contacts WHERE email IS NOT NULL
GROUP BY workspace, lower(email) HAVING count(*) > 1;
INSERT INTO duplicate_keys (workspace, reason, value, position)
SELECT workspace, 'same_phone', phone,
    '1#' || printf('%019d', 9223372036854775807 - max(updated_at)) || '#' || phone
FROM contacts WHERE phone IS NOT NULL
GROUP BY workspace, phone HAVING count(*) > 1;
"#,
    // Emails compared ignoring case in every script (`fold_case`, Rust's
    // lower case), as the DynamoDB adapter compares them: SQLite's
    // `lower` folds ASCII only, so `Élodie@` and `élodie@` were different
    // addresses here. The index and the noted keys are rebuilt with it.
    r#"
DROP INDEX contacts_email;
CREATE INDEX contacts_email ON contacts (workspace, fold_case(email));
DELETE FROM duplicate_keys WHERE reason = 'same_email';
INSERT INTO duplicate_keys (workspace, reason, value, position)
SELECT workspace, 'same_email', fold_case(email),
    '0#' || printf('%019d', 9223372036854775807 - max(updated_at)) || '#' || fold_case(email)
FROM contacts WHERE email IS NOT NULL
GROUP BY workspace, fold_case(email) HAVING count(*) > 1;
"#,
    // Similar names: the group (its `similar_name` key's anchor and
    // position) the last scan put each contact in, and the scans.
    r#"
CREATE TABLE similar_members (
    workspace    TEXT NOT NULL,
    messaging_id TEXT NOT NULL,
    anchor       TEXT NOT NULL,
    position     TEXT NOT NULL,
    PRIMARY KEY (workspace, messaging_id)
) WITHOUT ROWID;
CREATE INDEX similar_members_anchor ON similar_members (workspace, anchor);
CREATE TABLE duplicate_scans (
    workspace TEXT NOT NULL,
    id        TEXT NOT NULL,
    finished  INTEGER NOT NULL,
    job       TEXT NOT NULL,
    PRIMARY KEY (workspace, id)
) WITHOUT ROWID;
CREATE INDEX duplicate_scans_unfinished ON duplicate_scans (finished, id);
"#,
    // Suppressions: each workspace's secret for hashing identifiers, the
    // suppressions (JSON), the hashes each holds, and the erased contacts.
    r#"
CREATE TABLE workspace_secrets (
    workspace TEXT NOT NULL PRIMARY KEY,
    secret    TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE suppressions (
    workspace   TEXT NOT NULL,
    id          TEXT NOT NULL,
    suppression TEXT NOT NULL,
    PRIMARY KEY (workspace, id)
) WITHOUT ROWID;
CREATE TABLE suppressed_hashes (
    workspace   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    suppression TEXT NOT NULL,
    PRIMARY KEY (workspace, hash, suppression)
) WITHOUT ROWID;
CREATE INDEX suppressed_hashes_suppression ON suppressed_hashes (workspace, suppression);
CREATE TABLE erased (
    workspace    TEXT NOT NULL,
    messaging_id TEXT NOT NULL,
    suppression  TEXT NOT NULL,
    PRIMARY KEY (workspace, messaging_id)
) WITHOUT ROWID;
"#,
    // The audit trail: entries (JSON) by workspace and ID (a ULID), found
    // by contact too, removed when expired.
    r#"
CREATE TABLE audit (
    workspace TEXT NOT NULL,
    id        TEXT NOT NULL,
    contact   TEXT,
    expires   TEXT NOT NULL,
    entry     TEXT NOT NULL,
    PRIMARY KEY (workspace, id)
) WITHOUT ROWID;
CREATE INDEX audit_contact ON audit (workspace, contact, id) WHERE contact IS NOT NULL;
CREATE INDEX audit_expires ON audit (expires);
CREATE INDEX audit_age ON audit (id);
"#,
    // The imports that created or changed a contact (JSON; NULL for none).
    r#"
ALTER TABLE contacts ADD COLUMN imports TEXT;
"#,
];

/// Opens a connection with the settings every connection shares. While
/// `bulk` is set, updates leave the text index to the writer, which brings
/// it up to date once per batch.
pub(super) fn connect(path: &Path, cache_kib: i64, bulk: Arc<AtomicBool>) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    // Statement journals (a statement that fires triggers keeps one) stay in
    // memory instead of a temporary file.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.create_scalar_function(
        "fold_case",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text = ctx
                .get_raw(0)
                .as_str_or_null()
                .map_err(|e| rusqlite::Error::UserFunctionError(e.into()))?;
            Ok(text.map(str::to_lowercase))
        },
    )?;
    conn.create_scalar_function(
        "contains_folded",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let haystack: Option<String> = ctx.get(0)?;
            let needle: String = ctx.get(1)?;
            Ok(haystack.is_some_and(|h| h.to_lowercase().contains(&needle)))
        },
    )?;
    super::word_index::register(&conn)?;
    conn.create_scalar_function("contacts_bulk", 0, FunctionFlags::SQLITE_UTF8, move |_| {
        Ok(bulk.load(Ordering::Relaxed))
    })?;
    Ok(conn)
}

/// Applies the migrations this database has not seen yet.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    // IMMEDIATE: the write lock is taken (waiting up to the busy timeout
    // while another connection writes) before the version is read, so a
    // writer elsewhere can't make the upgrade from reading fail at once.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let applied: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for migration in MIGRATIONS
        .iter()
        .skip(usize::try_from(applied).unwrap_or(0))
    {
        tx.execute_batch(migration)?;
    }
    tx.pragma_update(
        None,
        "user_version",
        i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX),
    )?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::params;

    use super::*;

    #[test]
    fn the_duplicates_migrations_note_values_already_shared_ignoring_case_in_any_script() {
        let dir = tempfile::tempdir().unwrap();
        let bulk = Arc::new(AtomicBool::new(false));
        let mut conn = connect(&dir.path().join("db"), 1024, bulk).unwrap();
        let first = MIGRATIONS
            .iter()
            .position(|m| m.contains("CREATE TABLE duplicate_keys"))
            .unwrap();
        let (before, since) = MIGRATIONS.split_at(first);
        let last = &since[..2];
        let tx = conn.transaction().unwrap();
        for migration in before {
            tx.execute_batch(migration).unwrap();
        }
        let mut insert = tx
            .prepare(
                "INSERT INTO contacts (workspace, messaging_id, external_id, email, phone, sms, \
                 whatsapp, email_consent, created_at, updated_at, version) \
                 VALUES ('w', ?1, ?1, ?2, ?3, 'x', 'x', 'x', 1, ?4, 1)",
            )
            .unwrap();
        insert
            .execute(params!["a", "Élodie@example.com", "+1", 10])
            .unwrap();
        insert
            .execute(params!["b", "élodie@EXAMPLE.com", "+2", 20])
            .unwrap();
        insert
            .execute(params!["c", "other@example.com", "+2", 5])
            .unwrap();
        drop(insert);
        for migration in last {
            tx.execute_batch(migration).unwrap();
        }
        let mut keys: Vec<(String, String)> = tx
            .prepare("SELECT value, position FROM duplicate_keys ORDER BY position")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let positions: Vec<_> = keys
            .drain(..)
            .map(|(value, position)| {
                let key = crate::model::DuplicateKey::from_position(&position).unwrap();
                (value, key.value, key.joined.timestamp_micros())
            })
            .collect();
        assert_eq!(
            positions,
            [
                ("élodie@example.com".into(), "élodie@example.com".into(), 20),
                ("+2".into(), "+2".into(), 20),
            ]
        );
    }
}
