//! What the logs hold after an import (with rejected rows) and an export,
//! as JSON lines at the level that ships: the workspace and the jobs' IDs
//! and figures, never a contact's email, phone or name.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::api_exports::{download, export};
use crate::api_imports::{error_csv, import};
use crate::support::Server;

/// Log lines written in this test's process.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn imports_and_exports_log_no_contact_data() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(LevelFilter::INFO)
        .with_writer(logs.clone())
        .try_init()
        .expect("this test's process logs through it");
    let server = Server::start().await;
    let values = [
        "Quillonia",
        "Vexbrook",
        "quillonia.vexbrook@example.org",
        "+1 202-555-0187",
        "+12025550187",
        "Oswaldine",
        "Trevanniel",
        "oswaldine-not-an-email",
        "Ysolde",
        "ysolde.marrakeen@example.net",
    ];
    let csv = "External ID,First Name,Last Name,Email,Phone Number\n\
        log-1,Quillonia,Vexbrook,quillonia.vexbrook@example.org,+1 202-555-0187\n\
        log-2,Oswaldine,Trevanniel,oswaldine-not-an-email,\n\
        log-3,Ysolde,,ysolde.marrakeen@example.net,\n";
    let imported = import(&server, json!({}), csv.as_bytes()).await;
    assert_eq!(imported["counts"]["created"], 2, "{imported}");
    assert_eq!(imported["counts"]["rejected"], 1, "{imported}");
    assert!(
        error_csv(&imported)
            .await
            .contains("oswaldine-not-an-email")
    );
    let exported = export(&server, json!({})).await;
    let file = String::from_utf8(download(&exported).await).expect("UTF-8");
    assert!(file.contains("quillonia.vexbrook@example.org"));
    server.stop().await;

    let text = String::from_utf8(logs.0.lock().expect("logs").clone()).expect("UTF-8 logs");
    let import_id = imported["import_id"].as_str().expect("import_id");
    let export_id = exported["export_id"].as_str().expect("export_id");
    assert!(
        text.contains(import_id),
        "the logs carry the import's ID: {text}"
    );
    assert!(
        text.contains(export_id),
        "the logs carry the export's ID: {text}"
    );
    assert!(text.contains("\"workspace\":\"alpha\""), "{text}");
    let requests: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["span"]["name"] == "request")
        .collect();
    assert!(!requests.is_empty(), "requests are logged: {text}");
    for line in &requests {
        assert!(
            line["span"]["request_id"]
                .as_str()
                .is_some_and(|id| !id.is_empty()),
            "a request's lines carry its ID: {line}"
        );
    }
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("one JSON object per line");
    }
    for value in values {
        assert!(!text.contains(value), "{value:?} is in the logs: {text}");
    }
}
