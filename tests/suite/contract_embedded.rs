//! The store contract on the embedded adapter: with its default scan window
//! and the text indexer running, as the local server runs it, and with a
//! window of three rows and no indexer, so that every listing check also
//! runs through short, windowed pages and text search scans every row.

use contacts::store::embedded::EmbeddedStore;
use tempfile::TempDir;

/// A store and the folder it lives in.
pub struct Fresh {
    store: EmbeddedStore,
    _dir: TempDir,
}

impl std::ops::Deref for Fresh {
    type Target = EmbeddedStore;

    fn deref(&self) -> &EmbeddedStore {
        &self.store
    }
}

async fn open_with_window(rows: Option<u32>) -> Fresh {
    let dir = TempDir::new().expect("temp dir");
    let store = EmbeddedStore::open(dir.path()).expect("open");
    let store = match rows {
        Some(rows) => store.with_scan_window(rows),
        None => store,
    };
    Fresh { store, _dir: dir }
}

async fn open_indexed() -> Fresh {
    let fresh = open_with_window(None).await;
    fresh.keep_text_index();
    fresh
}

mod default_window {
    async fn open() -> super::Fresh {
        super::open_indexed().await
    }
    contacts::contract_tests!(open);
    contacts::import_store_contract_tests!(open);
}

mod small_window {
    async fn open() -> super::Fresh {
        super::open_with_window(Some(3)).await
    }
    contacts::contract_tests!(open);
}

/// Text search over the rows the text index holds (at or below its mark)
/// and the rows above it, which a listing scans: the same answers at every
/// mark, through creates, edits and deletes on both sides of it.
mod text_index {
    use std::collections::{BTreeMap, BTreeSet};

    use chrono::Utc;
    use contacts::import::job::ImportJob;
    use contacts::import::settings::ImportSettings;
    use contacts::model::{
        ConsentSource, Contact, Country, Email, ExternalId, Name, NewContact, PhoneNumber, Reach,
        WorkspaceId,
    };
    use contacts::query::{ContactFilter, ContactQuery, PageRequest, SearchText, TextField};
    use contacts::search::{Target, WordSearch};
    use contacts::store::contract::plain;
    use contacts::store::imports::{Commit, ImportStore, Update};
    use contacts::store::{ContactStore, NewRecord};

    const FIRST: [&str; 6] = ["Alice", "Albert", "Bob", "Éloïse", "Carol", "Zoë"];
    const LAST: [&str; 5] = ["Smith", "Großmann", "O'Brien", "Ålberg", "Smithers"];

    fn record(i: usize) -> NewRecord {
        let new = NewContact {
            external_id: ExternalId::parse(&format!("ext-{i}")).ok(),
            first_name: Name::parse(FIRST[i % FIRST.len()]).ok(),
            last_name: Name::parse(LAST[i % LAST.len()]).ok(),
            reach: Reach::new(
                PhoneNumber::parse(&format!("+1234567{i:04}")).ok(),
                Email::parse(&format!("{}{i}@example.com", FIRST[i % 3].to_lowercase())).ok(),
            )
            .expect("reachable"),
            country: Country::parse(if i.is_multiple_of(2) { "DE" } else { "US" }).ok(),
            timezone: None,
            consent: Vec::new(),
            attributes: BTreeMap::new(),
            lists: BTreeSet::new(),
        };
        Contact::create(new, &ConsentSource::api(), Utc::now()).expect("contact")
    }

    /// The contacts as they should be, oldest first.
    struct Truth(Vec<Contact>);

    impl Truth {
        fn matching(&self, field: TextField, text: &str, country: Option<&str>) -> Vec<String> {
            let text = text.to_lowercase();
            self.0
                .iter()
                .rev()
                .filter(|c| {
                    let value = match field {
                        TextField::FullName => c.full_name(),
                        TextField::FirstName => c.first_name.as_ref().map(|n| n.to_string()),
                        TextField::LastName => c.last_name.as_ref().map(|n| n.to_string()),
                        TextField::Phone => c.reach.phone().map(|p| p.to_string()),
                        TextField::Email => c.reach.email().map(|e| e.to_string()),
                    };
                    value.is_some_and(|v| v.to_lowercase().contains(&text))
                        && country
                            .is_none_or(|k| c.country.as_ref().is_some_and(|c| c.as_ref() == k))
                })
                .map(|c| c.messaging_id.to_string())
                .collect()
        }

        fn matching_words(&self, field: &str, text: &str, country: Option<&str>) -> Vec<String> {
            let no_attribute = contacts::model::AttributeId::generate();
            self.0
                .iter()
                .rev()
                .filter(|c| {
                    plain::matches(c, field, &no_attribute, text)
                        && country
                            .is_none_or(|k| c.country.as_ref().is_some_and(|c| c.as_ref() == k))
                })
                .map(|c| c.messaging_id.to_string())
                .collect()
        }

        fn edit(&mut self, i: usize, last: &str) -> Update {
            let contact = &mut self.0[i];
            let expected_version = contact.version;
            contact.last_name = Name::parse(last).ok();
            contact.version += 1;
            Update {
                contact: contact.clone(),
                expected_version,
                consent: Vec::new(),
                line: u64::try_from(i).unwrap_or(0) + 2,
            }
        }
    }

    /// Word searches: field (or `attr`), text, country.
    const WORD_CASES: [(&str, &str, Option<&str>); 9] = [
        ("last_name", "smith", None),
        ("last_name", "o'b", None),
        ("last_name", "bri", Some("US")),
        ("full_name", "al s", None),
        ("first_name", "eloise", None),
        ("first_name", "z", None),
        ("email", "example", Some("DE")),
        ("phone", "0012", None),
        ("last_name", "jones", None),
    ];

    const CASES: [(TextField, &str, Option<&str>); 9] = [
        (TextField::LastName, "smith", None),
        (TextField::LastName, "SMITHERS", None),
        (TextField::LastName, "ålb", None),
        (TextField::FirstName, "al", None),
        (TextField::FullName, "ice Smi", Some("DE")),
        (TextField::FullName, "ob O'", None),
        (TextField::Email, "bert", Some("US")),
        (TextField::Phone, "567001", None),
        (TextField::LastName, "jones", None),
    ];

    async fn assert_exact(store: &super::Fresh, w: &WorkspaceId, truth: &Truth, when: &str) {
        let contains = CASES.iter().map(|&(field, text, country)| {
            let filter = ContactFilter::Contains(field, SearchText::parse(text).expect("text"));
            let expected = truth.matching(field, text, country);
            (
                filter,
                format!("{} contains {text:?}", field.name()),
                country,
                expected,
            )
        });
        let words = WORD_CASES.iter().map(|&(field, text, country)| {
            let target = Target::Field(
                TextField::ALL
                    .into_iter()
                    .find(|f| f.name() == field)
                    .expect("a field"),
            );
            let filter = ContactFilter::Words(WordSearch::parse(target, text).expect("search"));
            let expected = truth.matching_words(field, text, country);
            (filter, format!("{field} words {text:?}"), country, expected)
        });
        for (filter, what, country, expected) in contains.chain(words).collect::<Vec<_>>() {
            let mut filters = vec![filter];
            if let Some(country) = country {
                filters.push(ContactFilter::Country(
                    Country::parse(country).expect("country"),
                ));
            }
            let query = ContactQuery { filters };
            for limit in [1, 50] {
                let mut found = Vec::new();
                let mut page = PageRequest::first(limit);
                loop {
                    let listed = store.list(w, &query, &page).await.expect("list");
                    found.extend(listed.items.iter().map(|c| c.messaging_id.to_string()));
                    match listed.next_cursor {
                        Some(cursor) => page.cursor = Some(cursor),
                        None => break,
                    }
                }
                assert_eq!(
                    found, expected,
                    "{what}, country {country:?}, limit {limit}, {when}"
                );
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn search_is_exact_at_every_mark() {
        let store = super::open_with_window(Some(4)).await;
        let w = WorkspaceId::parse("w1").expect("workspace");
        let records: Vec<NewRecord> = (0..30).map(record).collect();
        store
            .insert_batch(&w, &records[..20], None)
            .await
            .expect("batch");
        for r in &records[20..] {
            store.insert(&w, r, None).await.expect("insert");
        }
        let mut truth = Truth(records.iter().map(|(c, _)| c.clone()).collect());
        assert_exact(&store, &w, &truth, "nothing indexed").await;
        assert_eq!(store.unindexed_text().await.expect("lag"), 30);
        assert_eq!(store.index_text(13).await.expect("index"), 13);
        assert_exact(&store, &w, &truth, "13 of 30 indexed").await;

        // Edits and a delete on both sides of the mark, one at a time and in
        // an import's bulk commit; new rows above it.
        for (i, last) in [(2, "Jones"), (20, "Jonesy")] {
            let update = truth.edit(i, last);
            store
                .update(&w, &update.contact, update.expected_version, &[])
                .await
                .expect("update");
        }
        let gone = truth.0.remove(5);
        assert!(store.delete(&w, &gone.messaging_id).await.expect("delete"));
        let more: Vec<NewRecord> = (30..36).map(record).collect();
        let job = ImportJob::new(&w, ImportSettings::default(), "f.csv".into());
        store.create_import(&job).await.expect("import");
        let commit = Commit {
            job,
            creates: more.clone(),
            updates: vec![truth.edit(0, "Smithjones"), truth.edit(24, "Bjones")],
            deletes: vec![truth.0.remove(25).messaging_id],
            seen: Vec::new(),
            rejected: Vec::new(),
        };
        store
            .commit(&w, std::sync::Arc::new(commit), None)
            .await
            .expect("commit");
        truth.0.extend(more.into_iter().map(|(c, _)| c));
        assert_exact(&store, &w, &truth, "edited around the mark").await;

        assert_eq!(store.catch_up_text_index().await.expect("catch up"), 22);
        assert_eq!(store.unindexed_text().await.expect("lag"), 0);
        store
            .check_text_index()
            .await
            .expect("index matches the contacts");
        assert_exact(&store, &w, &truth, "everything indexed").await;
        let update = truth.edit(30, "Jones");
        store
            .update(&w, &update.contact, update.expected_version, &[])
            .await
            .expect("update");
        assert_exact(&store, &w, &truth, "edited once indexed").await;
        store
            .check_text_index()
            .await
            .expect("index matches the contacts");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rebuilt_text_index_holds_every_contact_once() {
        let store = super::open_with_window(Some(4)).await;
        let w = WorkspaceId::parse("w1").expect("workspace");
        let records: Vec<NewRecord> = (0..20).map(record).collect();
        store.insert_batch(&w, &records, None).await.expect("batch");
        assert_eq!(store.index_text(14).await.expect("index"), 14);
        let truth = Truth(records.into_iter().map(|(c, _)| c).collect());

        for round in ["partly indexed", "fully indexed"] {
            assert_eq!(
                store.rebuild_text_index().await.expect(round),
                20,
                "{round}"
            );
            assert_eq!(store.unindexed_text().await.expect("lag"), 0, "{round}");
            store
                .check_text_index()
                .await
                .expect("index matches the contacts");
            assert_exact(&store, &w, &truth, round).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_window_that_reaches_the_mark_fills_its_page_from_the_index() {
        let store = super::open_with_window(Some(8)).await;
        let w = WorkspaceId::parse("w1").expect("workspace");
        let records: Vec<NewRecord> = (0..20).map(record).collect();
        store.insert_batch(&w, &records, None).await.expect("batch");
        assert_eq!(store.index_text(14).await.expect("index"), 14);
        let truth = Truth(records.into_iter().map(|(c, _)| c).collect());
        let expected = truth.matching(TextField::LastName, "smith", None);
        let query = ContactQuery {
            filters: vec![ContactFilter::Contains(
                TextField::LastName,
                SearchText::parse("smith").expect("text"),
            )],
        };
        let page = store
            .list(&w, &query, &PageRequest::first(expected.len()))
            .await
            .expect("list");
        let found: Vec<String> = page
            .items
            .iter()
            .map(|c| c.messaging_id.to_string())
            .collect();
        assert_eq!(found, expected, "six rows above the mark, the rest below");
        assert!(page.next_cursor.is_none());
    }

    /// `maria.quaresma` starts like 1,100 emails (`maria.`) and is three of
    /// them: the search reads its indexed start down to a bounded number of
    /// candidates and its words whole below, and finds each of the three
    /// once, newest first, whatever the page size.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rare_word_with_a_common_start_is_found_below_the_candidates_read_by_its_start() {
        let store = super::open_with_window(None).await;
        let w = WorkspaceId::parse("w1").expect("workspace");
        let rare = [0, 600, 1_099];
        let records: Vec<NewRecord> = (0..1_100)
            .map(|i| {
                let (mut contact, consent) = record(i);
                let local = if rare.contains(&i) { "quaresma" } else { "x" };
                contact.reach = Reach::new(
                    None,
                    Email::parse(&format!("maria.{local}{i}@example.com")).ok(),
                )
                .expect("reachable");
                (contact, consent)
            })
            .collect();
        store.insert_batch(&w, &records, None).await.expect("batch");
        store.catch_up_text_index().await.expect("index");
        let search =
            WordSearch::parse(Target::Field(TextField::Email), "maria.quar").expect("search");
        let query = ContactQuery {
            filters: vec![ContactFilter::Words(search)],
        };
        let expected: Vec<String> = rare
            .iter()
            .rev()
            .map(|&i| records[i].0.messaging_id.to_string())
            .collect();
        for limit in [1, 2, 50] {
            let mut found = Vec::new();
            let mut page = PageRequest::first(limit);
            loop {
                let listed = store.list(&w, &query, &page).await.expect("list");
                found.extend(listed.items.iter().map(|c| c.messaging_id.to_string()));
                match listed.next_cursor {
                    Some(cursor) => page.cursor = Some(cursor),
                    None => break,
                }
            }
            assert_eq!(found, expected, "limit {limit}");
        }
    }

    async fn until_indexed(store: &super::Fresh, what: &str) {
        let started = std::time::Instant::now();
        while store.unindexed_text().await.expect("lag") > 0 {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "the text index never caught up after {what}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_background_indexer_catches_up_after_bulk_writes() {
        let store = super::open_with_window(None).await;
        let w = WorkspaceId::parse("w1").expect("workspace");
        let _indexer = store.keep_text_index();
        let records: Vec<NewRecord> = (0..50).map(record).collect();
        store.insert_batch(&w, &records, None).await.expect("batch");
        until_indexed(&store, "a bulk write").await;
        store.insert(&w, &record(50), None).await.expect("insert");
        until_indexed(&store, "a single insert").await;
    }
}
