//! The object-store contract on the embedded folder store, its links served
//! over HTTP as the local server serves them.

use contacts::store::folder::FolderStore;
use tempfile::TempDir;

/// A folder store, the folder, and the server honouring its links.
pub struct Fresh {
    store: FolderStore,
    _dir: TempDir,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Fresh {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl std::ops::Deref for Fresh {
    type Target = FolderStore;

    fn deref(&self) -> &FolderStore {
        &self.store
    }
}

/// Serves the links of a new folder store on a free loopback port.
pub async fn open() -> Fresh {
    let dir = TempDir::new().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("addr"));
    let store = FolderStore::open(dir.path(), base_url).expect("open");
    let router = axum::Router::new().nest_service(
        "/objects",
        contacts::http::objects::router(store.clone(), None),
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Fresh {
        store,
        _dir: dir,
        server,
    }
}

contacts::object_store_contract_tests!(open);
