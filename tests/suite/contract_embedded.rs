//! The store contract on the embedded adapter: with its default scan window,
//! and with a window of three rows so that every listing check also runs
//! through short, windowed pages.

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

mod default_window {
    async fn open() -> super::Fresh {
        super::open_with_window(None).await
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
