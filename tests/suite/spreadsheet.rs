//! Export → a real spreadsheet program → import: LibreOffice Calc, headless
//! (`CONTACTS_TEST_SOFFICE`, installed by `scripts/test`), opens and saves
//! the files as a user's Save would. A CSV goes CSV → sheet → CSV, which
//! turns the External ID `00123` into `123`: that row is refused as a
//! collision with its contact, the rest re-import exactly. A workbook from
//! Download as Excel goes .xlsx → .xlsx, its text cells intact: exact.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::api_exports::{download, export};
use crate::api_imports::{error_csv, import, snapshot};
use crate::support::{Server, send};

/// Converts `input` with LibreOffice to `filter` (e.g. `xlsx`), reading a
/// CSV as UTF-8 with `,` and `"`; returns the file it wrote.
fn soffice(input: &Path, filter: &str) -> PathBuf {
    let soffice = std::env::var("CONTACTS_TEST_SOFFICE").unwrap_or_else(|_| {
        panic!("CONTACTS_TEST_SOFFICE names LibreOffice's soffice (scripts/test installs it)")
    });
    let work = TempDir::new().expect("dir");
    let out = work.path().join("out");
    // A profile of its own: instances running at once don't hand off to each other.
    let profile = format!(
        "-env:UserInstallation=file://{}",
        work.path().join("profile").display()
    );
    let mut command = Command::new(soffice);
    command.args([profile.as_str(), "--headless", "--norestore"]);
    if input.extension().is_some_and(|e| e == "csv") {
        command.arg("--infilter=CSV:44,34,76,1");
    }
    let status = command
        .args(["--convert-to", filter, "--outdir"])
        .arg(&out)
        .arg(input)
        .status()
        .expect("soffice runs");
    assert!(status.success(), "soffice {filter}: {status}");
    let extension = filter.split(':').next().unwrap_or(filter);
    let stem = input.file_stem().expect("a name").to_string_lossy();
    let written = out.join(format!("{stem}.{extension}"));
    let kept = input.with_extension(format!("calc.{extension}"));
    std::fs::copy(&written, &kept).unwrap_or_else(|e| panic!("{}: {e}", written.display()));
    kept
}

/// CSV as Calc writes it on Save: UTF-8, `,`, text quoted.
const CALC_CSV: &str = "csv:Text - txt - csv (StarCalc):44,34,76,1";

/// A workspace whose contacts a spreadsheet can damage: a leading-zero
/// External ID, phones (exported with a `'` before the `+`), dates, a
/// boolean, a number.
async fn seeded() -> (Server, String) {
    let server = Server::start().await;
    for (name, kind) in [("since", "date"), ("vip", "boolean"), ("score", "number")] {
        send(
            server
                .req(Method::POST, "/v1/attributes")
                .json(&json!({"name": name, "label": name, "type": kind})),
        )
        .await;
    }
    let zero = server
        .create(
            json!({"external_id": "00123", "first_name": "Jürgen", "last_name": "Müller",
            "phone": "+12025550143", "country": "US",
            "attributes": {"since": "2026-01-15", "vip": true, "score": 2.5}}),
        )
        .await;
    server
        .create(json!({"external_id": "crm-2", "first_name": "Ann", "email": "ann@example.com",
            "phone": "+4930901820", "attributes": {"since": "2025-12-31", "vip": false, "score": 10}}))
        .await;
    server
        .create(json!({"external_id": "crm-3", "first_name": "Søren", "email": "soren@example.dk"}))
        .await;
    let id = zero["messaging_id"].as_str().expect("id").to_owned();
    (server, id)
}

/// `text` with Ann renamed Anne: the user's edit.
fn edited(text: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(text.to_vec()).expect("UTF-8");
    assert!(text.contains("\"Ann\""), "{text}");
    text.replace("\"Ann\"", "\"Anne\"").into_bytes()
}

/// The contacts as they were, with Ann renamed Anne.
fn with_anne(before: &[Value]) -> Vec<Value> {
    let mut expected = before.to_vec();
    for contact in &mut expected {
        if contact["first_name"] == "Ann" {
            contact["first_name"] = json!("Anne");
            contact["full_name"] = json!("Anne");
        }
    }
    expected
}

const UPDATE: &str =
    r#"{"update_existing": {"match_by": "external_id", "missing_attributes": "keep"}}"#;

#[tokio::test]
async fn a_csv_saved_again_by_calc_changes_exactly_the_edit_and_refuses_the_mangled_id() {
    let (server, zero) = seeded().await;
    let before = snapshot(&server).await;
    let file = download(&export(&server, json!({})).await).await;
    let dir = TempDir::new().expect("dir");
    let csv = dir.path().join("contacts.csv");
    std::fs::write(&csv, edited(&file)).expect("write");
    let sheet = soffice(&csv, "xlsx");
    let saved = std::fs::read(soffice(&sheet, CALC_CSV)).expect("read");
    let text = String::from_utf8_lossy(&saved);
    assert!(
        text.contains(",123,"),
        "Calc dropped the leading zeros: {text}"
    );
    assert!(
        text.contains(",4930901820,"),
        "and the phones' plus signs: {text}"
    );

    let settings: Value = serde_json::from_str(UPDATE).expect("settings");
    let body = import(&server, settings, &saved).await;
    assert_eq!(body["status"], "completed", "{body}");
    let counts = &body["counts"];
    assert_eq!(
        (
            counts["updated"].clone(),
            counts["unchanged"].clone(),
            counts["rejected"].clone(),
            counts["created"].clone()
        ),
        (json!(1), json!(1), json!(1), json!(0)),
        "{body}"
    );
    let errors = error_csv(&body).await;
    assert!(errors.contains(&zero), "{errors}");
    assert!(errors.contains("leading zeros"), "{errors}");
    assert_eq!(snapshot(&server).await, with_anne(&before));
}

#[tokio::test]
async fn a_workbook_saved_again_by_calc_changes_exactly_the_edit() {
    let (server, _) = seeded().await;
    let before = snapshot(&server).await;
    let csv = download(&export(&server, json!({})).await).await;
    let workbook = contacts::export::workbook::from_csv(edited(&csv).as_slice())
        .await
        .expect("workbook");
    let dir = TempDir::new().expect("dir");
    let path = dir.path().join("contacts.xlsx");
    std::fs::write(&path, workbook).expect("write");
    let saved = std::fs::read(soffice(&path, "xlsx")).expect("read");

    let settings: Value = serde_json::from_str(UPDATE).expect("settings");
    let body = import(&server, settings, &saved).await;
    assert_eq!(body["status"], "completed", "{body}");
    assert_eq!(body["file"]["encoding"], "xlsx", "{body}");
    let counts = &body["counts"];
    assert_eq!(
        (
            counts["updated"].clone(),
            counts["unchanged"].clone(),
            counts["rejected"].clone()
        ),
        (json!(1), json!(2), json!(0)),
        "{body}"
    );
    assert_eq!(snapshot(&server).await, with_anne(&before));
}
