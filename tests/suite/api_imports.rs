//! CSV import through the local server's HTTP API: every option of the
//! Upload CSV flow, bad files, the error CSV, dry runs, `remove`, and resume
//! after a run stops mid-file.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::{
    BETA, Server, assert_formula_safe_in_every_locale, contact, expect_problem, problem_fields,
    send,
};

/// Starts an import with `settings`, uploads `csv` through its link, and
/// waits until it has finished (or, with `until_running`, stopped running).
pub(crate) async fn import(server: &Server, settings: Value, csv: &[u8]) -> Value {
    let id = upload(server, settings, csv).await;
    finished(server, &id).await
}

/// Starts an import and uploads its CSV; returns the import ID.
async fn upload(server: &Server, settings: Value, csv: &[u8]) -> String {
    let (status, created) = send(
        server
            .req(
                Method::POST,
                &format!("/v1/imports?file_name=contacts.csv&file_size={}", csv.len()),
            )
            .json(&settings),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "waiting_for_upload");
    let url = created["upload_url"].as_str().expect("upload_url");
    let response = reqwest::Client::new()
        .put(url)
        .header("content-type", "text/csv")
        .body(csv.to_vec())
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), StatusCode::OK);
    created["import_id"].as_str().expect("import_id").to_owned()
}

/// Polls the import until `done` says so.
async fn wait_for(server: &Server, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..600 {
        let (status, body) = send(server.req(Method::GET, &format!("/v1/imports/{id}"))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if done(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {id} did not get there in 30 s");
}

async fn finished(server: &Server, id: &str) -> Value {
    wait_for(server, id, |b| {
        b["status"] == "completed" || b["status"] == "failed"
    })
    .await
}

/// The contact with this External ID, as `alpha` sees it.
async fn by_external_id(server: &Server, external_id: &str) -> Option<Value> {
    let mut cursor = String::new();
    loop {
        let (_, page) = server.list(&format!("limit=500{cursor}")).await;
        for item in page["items"].as_array().expect("items") {
            if item["external_id"] == external_id {
                return Some(item.clone());
            }
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return None,
        }
    }
}

/// Every contact of `alpha`, by External ID, without the fields the system
/// assigns (IDs, times, versions).
pub(crate) async fn snapshot(server: &Server) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, page) = server.list(&format!("limit=500{cursor}")).await;
        for item in page["items"].as_array().expect("items") {
            let mut item = item.clone();
            for key in ["messaging_id", "created_at", "updated_at", "version"] {
                item.as_object_mut().expect("object").remove(key);
            }
            all.push(item);
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    all.sort_by_key(|c| c["external_id"].as_str().unwrap_or_default().to_owned());
    all
}

/// The import's error CSV.
pub(crate) async fn error_csv(body: &Value) -> String {
    let url = body["errors_url"].as_str().expect("errors_url");
    reqwest::get(url)
        .await
        .expect("errors")
        .text()
        .await
        .expect("text")
}

fn counts(body: &Value) -> Value {
    body["counts"].clone()
}

#[tokio::test]
async fn a_file_creates_contacts_with_every_generic_column() {
    let server = Server::start().await;
    let csv = "\u{feff}External ID;First Name;Last Name;Phone Number;Email;Country;Timezone;SMS Consent;WhatsApp Consent;Email Consent;Notes\r\n\
        crm-1;Ann;Lee;+1 (202) 555-0143;ANN@Example.com;us;europe/berlin;yes;unsubscribed;;\r\n\
        \r\n\
        crm-2;\"Bo; B\";'=SUM(A1);(202) 555-0144;;US;;;;;\"two\nlines\"\r\n\
        ;;;;;;;;;;\r\n";
    let body = import(&server, json!({}), csv.as_bytes()).await;
    assert_eq!(body["status"], "completed", "{body}");
    assert_eq!(
        counts(&body),
        json!({"rows": 2, "created": 2, "updated": 0, "unchanged": 0, "skipped_existing": 0,
               "rejected": 0, "replaced_values": 0, "removed": 0, "suppressed": 0})
    );
    assert_eq!(
        body["file"],
        json!({"name": "contacts.csv", "bytes": csv.len(), "encoding": "utf-8"})
    );
    assert_eq!(body["progress"]["bytes_done"], csv.len());
    assert_eq!(body["progress"]["rows_done"], 2);
    assert_eq!(body["errors_url"], Value::Null);
    let ann = by_external_id(&server, "crm-1").await.expect("crm-1");
    assert_eq!(ann["phone"], "+12025550143");
    assert_eq!(ann["email"], "ANN@example.com");
    assert_eq!(ann["timezone"], "Europe/Berlin");
    assert_eq!(
        ann["consent"],
        json!({"sms": "subscribed", "whatsapp": "unsubscribed", "email": "not_subscribed"})
    );
    let bo = by_external_id(&server, "crm-2").await.expect("crm-2");
    assert_eq!(bo["first_name"], "Bo; B");
    assert_eq!(bo["last_name"], "=SUM(A1)");
    assert_eq!(bo["phone"], "+12025550144");
    let id = ann["messaging_id"].as_str().expect("id");
    let (_, history) =
        send(server.req(Method::GET, &format!("/v1/contacts/{id}/consent-history"))).await;
    let source = format!("import:{}", body["import_id"].as_str().expect("id"));
    assert!(
        history["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|c| c["source"] == source)
    );
}

#[tokio::test]
async fn an_upload_is_announced_with_its_size_and_its_link_takes_only_that_many_bytes() {
    let server = Server::start().await;
    let long_name = format!("file_name={}", "n".repeat(256));
    for (query, fields) in [
        ("file_name=a.csv", vec!["file_size"]),
        ("file_size=0", vec!["file_size"]),
        ("file_size=52428801", vec!["file_size"]),
        ("file_size=ten", vec!["file_size"]),
        (long_name.as_str(), vec!["file_name", "file_size"]),
        ("file_name=%20&file_size=10", vec!["file_name"]),
    ] {
        let body = expect_problem(
            server
                .req(Method::POST, &format!("/v1/imports?{query}"))
                .json(&json!({})),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(problem_fields(&body), fields, "{query}");
    }
    let csv = "External ID,Email\nx-1,ann@example.com\n";
    let (status, created) = send(
        server
            .req(
                Method::POST,
                &format!("/v1/imports?file_size={}", csv.len()),
            )
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let url = created["upload_url"].as_str().expect("upload_url");
    let put = |body: String| {
        reqwest::Client::new()
            .put(url)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let longer = put(format!("{csv}x-2,bob@example.com\n"))
        .await
        .expect("upload");
    assert_eq!(longer.status(), StatusCode::FORBIDDEN);
    let id = created["import_id"].as_str().expect("import_id");
    let (_, waiting) = send(server.req(Method::GET, &format!("/v1/imports/{id}"))).await;
    assert_eq!(waiting["status"], "waiting_for_upload", "{waiting}");
    assert_eq!(
        put(csv.to_owned()).await.expect("upload").status(),
        StatusCode::OK
    );
    let done = finished(&server, id).await;
    assert_eq!(done["counts"]["created"], 1, "{done}");
}

#[tokio::test]
async fn the_error_csv_is_safe_to_open_and_imports_back_exactly_once_fixed() {
    let server = Server::start().await;
    let (status, _) = send(
        server
            .req(Method::POST, "/v1/attributes")
            .json(&json!({"name": "note", "label": "Note", "type": "text"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let csv = "External ID,Email,note,=HEADER()\n\
        x-1,not-an-email,\"a;=HYPERLINK(\"\"http://evil.example\"\")\",v\n\
        x-2,=2+5;@bad,\u{FF1D}1+1,v\n\
        x-3,\"@bad, -1\",\"b; \u{a0}+1\",v\n";
    let body = import(&server, json!({}), csv.as_bytes()).await;
    assert_eq!(body["counts"]["rejected"], 3, "{body}");
    let errors = error_csv(&body).await;
    assert_formula_safe_in_every_locale(&errors);
    assert!(
        errors.starts_with("\"External ID\",\"Email\",\"note\",\"'=HEADER()\""),
        "{errors}"
    );

    // Fixed as a person would in a spreadsheet: only the emails change.
    let mut reader = csv_async::AsyncReaderBuilder::new()
        .has_headers(false)
        .create_reader(errors.as_bytes());
    let mut fixed = csv_async::AsyncWriterBuilder::new().create_writer(Vec::new());
    let mut records = reader.records();
    let mut n = 0;
    while let Some(record) = futures::StreamExt::next(&mut records).await {
        let mut cells: Vec<String> = record.expect("record").iter().map(str::to_owned).collect();
        if n > 0 {
            cells[1] = format!("fixed{n}@example.com");
        }
        fixed.write_record(&cells).await.expect("write");
        n += 1;
    }
    let fixed = fixed.into_inner().await.expect("csv");
    let (status, preview) = send(
        server
            .req(Method::POST, "/v1/imports/preview")
            .header("content-type", "text/csv")
            .body(fixed.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        preview["headers"],
        json!([
            "External ID",
            "Email",
            "note",
            "=HEADER()",
            "error_row",
            "error"
        ])
    );
    let again = import(&server, json!({}), &fixed).await;
    assert_eq!(again["counts"]["created"], 3, "{again}");
    for (external_id, note) in [
        ("x-1", "a;=HYPERLINK(\"http://evil.example\")"),
        ("x-2", "\u{FF1D}1+1"),
        ("x-3", "b; \u{a0}+1"),
    ] {
        let contact = by_external_id(&server, external_id)
            .await
            .expect("imported");
        assert_eq!(contact["attributes"]["note"], note, "{contact}");
    }
}

/// A file whose first 64 KiB are UTF-8, and so is read as UTF-8 (a byte
/// that is not, earlier, makes the whole file Windows-1252): `before`,
/// 10,000 rows without an email, a row with a byte that is not UTF-8 (on
/// line 10,003 when `before` is one row), then `after`.
fn bad_byte_past_the_head(before: &str, after: &str) -> Vec<u8> {
    let mut bytes = format!("External ID,Email\n{before}").into_bytes();
    for n in 0..10_000 {
        bytes.extend_from_slice(format!("filler-{n},\n").as_bytes());
    }
    bytes.extend_from_slice(b"bad,\xff@b.co\n");
    bytes.extend_from_slice(after.as_bytes());
    bytes
}

#[tokio::test]
async fn bad_files_fail_with_a_reason_and_write_nothing_after_it() {
    let server = Server::start().await;
    let late_bad_byte = bad_byte_past_the_head("ok-1,a@b.co\n", "ok-2,c@d.co\n");
    let cases: [(&[u8], &str); 4] = [
        (
            b"External ID,Email,Email\nx,a@b.co,c@d.co\n",
            "appears twice",
        ),
        (b"External ID,,Email\nx,,a@b.co\n", "column 2"),
        (b"External ID,First Name\nx,Ann\n", "Email or Phone Number"),
        (&late_bad_byte, "row 10003"),
    ];
    for (csv, reason) in cases {
        let body = import(&server, json!({}), csv).await;
        assert_eq!(body["status"], "failed", "{body}");
        let failure = body["failure"].as_str().expect("failure");
        assert!(failure.contains(reason), "{failure} should say {reason}");
    }
    // Rows before the bad text were committed; the one after was not.
    assert!(by_external_id(&server, "ok-1").await.is_some());
    assert!(by_external_id(&server, "ok-2").await.is_none());
}

#[tokio::test]
async fn settings_are_checked_naming_every_bad_field() {
    let server = Server::start().await;
    let cases = [
        (json!({"colour": "red"}), vec!["colour"]),
        (
            json!({"lists": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"], "timezone": "Mars/Base"}),
            vec!["lists[0]", "timezone"],
        ),
        (
            json!({"default_consent": {"sms": "subscribed"}}),
            vec!["default_consent.sms"],
        ),
        (json!({"columns": {"Tier": "tier"}}), vec!["columns.Tier"]),
        (
            json!({"columns": {"A": "email", "B": "email"}}),
            vec!["columns.B"],
        ),
        (json!({"columns": {"A": "created_at"}}), vec!["columns.A"]),
        (
            json!({"existing_contacts": "purge"}),
            vec!["existing_contacts"],
        ),
    ];
    for (settings, fields) in cases {
        let body = expect_problem(
            server
                .req(Method::POST, "/v1/imports?file_size=10")
                .json(&settings),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(problem_fields(&body), fields, "{settings}");
    }
    let (status, _) = send(
        server
            .req(Method::POST, "/v1/imports?file_size=10")
            .json(&json!({
                "default_consent": {"sms": "subscribed"}, "consent_confirmed": true
            })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn new_contacts_only_skips_existing_and_rejects_duplicates_into_the_error_csv() {
    let csv = "External ID,Email,Phone Number,First Name\n\
        crm-1,new@example.com,,Changed\n\
        other-1,ANN1@example.com,,Changed\n\
        fresh-1,fresh@example.com,,Fresh\n\
        fresh-1,again@example.com,,Twice\n\
        fresh-2,bad-email,,Bad\n\
        fresh-3,fresh@example.com,,Same email\n\
        fresh-4,next@example.com,,Next\n\
        fresh-5,NEXT@example.com,,Next again\n";
    // One batch, then a batch per row: each row is planned while the one
    // before it commits.
    for server in [
        Server::start().await,
        Server::start_importing(None, TempDir::new().expect("dir"), 1, None).await,
    ] {
        server.create(contact(1)).await;
        let body = import(&server, json!({}), csv.as_bytes()).await;
        assert_eq!(
            counts(&body),
            json!({"rows": 8, "created": 2, "updated": 0, "unchanged": 0, "skipped_existing": 2,
                   "rejected": 4, "replaced_values": 0, "removed": 0, "suppressed": 0}),
            "{body}"
        );
        let existing = by_external_id(&server, "crm-1").await.expect("crm-1");
        assert_eq!(existing["first_name"], "Ann");
        let errors = error_csv(&body).await;
        let lines: Vec<&str> = errors.lines().collect();
        assert_eq!(
            lines[0],
            r#""External ID","Email","Phone Number","First Name","error_row","error""#
        );
        let rejected = [
            r#""fresh-1","again@example.com","","Twice","5","duplicate External ID: row 4"#,
            r#""fresh-2","bad-email","","Bad","6","Email:"#,
            r#""fresh-3","fresh@example.com","","Same email","7","duplicate Email: row 4"#,
            r#""fresh-5","NEXT@example.com","","Next again","9","duplicate Email: row 8"#,
        ];
        for (line, expected) in lines[1..].iter().zip(rejected) {
            assert!(line.starts_with(expected), "{errors}");
        }
        assert_eq!(lines.len(), 5);
    }
}

/// A new-contacts file needs an email or phone column, not an External ID:
/// rows are matched to contacts and to each other by email and phone, the
/// contacts it creates have no External ID until one is set (by an edit or
/// an import by Messaging ID), and `remove` keeps what its rows name by
/// email or phone.
#[tokio::test]
async fn a_new_contacts_file_needs_no_external_id() {
    let server = Server::start().await;
    server.create(contact(1)).await;
    server.create(contact(2)).await;
    let csv = "Email,Phone Number,First Name\n\
        ANN1@example.com,,Changed\n\
        new@example.com,,New\n\
        New@Example.com,,Again\n\
        ,+1 202 555 0143,Phone only\n\
        other@example.com,+12025550143,Same phone\n";
    let body = import(&server, json!({}), csv.as_bytes()).await;
    assert_eq!(
        counts(&body),
        json!({"rows": 5, "created": 2, "updated": 0, "unchanged": 0, "skipped_existing": 1,
               "rejected": 2, "replaced_values": 0, "removed": 0, "suppressed": 0}),
        "{body}"
    );
    let errors = error_csv(&body).await;
    assert!(
        errors.contains(r#""4","duplicate Email: row 3"#),
        "{errors}"
    );
    assert!(
        errors.contains(r#""6","duplicate Phone Number: row 5"#),
        "{errors}"
    );
    let all = snapshot(&server).await;
    let created: Vec<&Value> = all.iter().filter(|c| c["external_id"].is_null()).collect();
    assert_eq!(created.len(), 2, "{all:?}");
    assert_eq!(
        by_external_id(&server, "crm-1").await.expect("crm-1")["first_name"],
        "Ann"
    );

    // An edit works on it, and may give it an External ID.
    let (_, page) = server.list("email[eq]=new@example.com").await;
    let id = page["items"][0]["messaging_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, edited) = send(
        server
            .req(Method::PATCH, &format!("/v1/contacts/{id}"))
            .json(&json!({"last_name": "Person"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["external_id"], Value::Null);
    let taken = expect_problem(
        server
            .req(Method::PATCH, &format!("/v1/contacts/{id}"))
            .json(&json!({"external_id": "crm-2"})),
        StatusCode::CONFLICT,
    )
    .await;
    assert!(taken.to_string().contains("crm-2"), "{taken}");
    let by_import = format!("Messaging ID,External ID,Email\n{id},crm-new,new@example.com\n");
    let body = import(
        &server,
        json!({"update_existing": {"match_by": "messaging_id"}}),
        by_import.as_bytes(),
    )
    .await;
    assert_eq!(body["counts"]["updated"], 1, "{body}");
    let named = by_external_id(&server, "crm-new").await.expect("crm-new");
    assert_eq!(named["last_name"], "Person");

    // `remove` keeps the contacts a row names by email or phone.
    let body = import(
        &server,
        json!({"existing_contacts": "remove"}),
        b"Phone Number\n+12025550143\n",
    )
    .await;
    assert_eq!(body["counts"]["removed"], 3, "{body}");
    let left = snapshot(&server).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["phone"], "+12025550143");
    assert_eq!(left[0]["external_id"], Value::Null);

    // Its export has an empty External ID cell.
    let exported =
        crate::api_exports::download(&crate::api_exports::export(&server, json!({})).await).await;
    let rows = crate::api_exports::records(&exported).await;
    assert_eq!(rows[0][1], "External ID");
    assert_eq!(rows[1][1], "", "{rows:?}");
    assert_eq!(rows[1][4], "+12025550143", "{rows:?}");
}

#[tokio::test]
async fn updates_match_by_external_id_and_keep_or_delete_what_the_file_leaves_out() {
    for (missing, first_name, country) in [
        ("keep", json!("Ann"), json!("DE")),
        ("delete", Value::Null, Value::Null),
    ] {
        let server = Server::start().await;
        let mut ann = contact(1);
        ann["country"] = json!("DE");
        server.create(ann).await;
        server.create(contact(2)).await;
        let csv = "External ID,Email,First Name,Last Name\n\
            crm-1,ann1@example.com,,Changed\n\
            crm-2,ann2@example.com,Ann,Lee2\n\
            crm-3,new@example.com,New,\n";
        let settings =
            json!({"update_existing": {"match_by": "external_id", "missing_attributes": missing}});
        let body = import(&server, settings, csv.as_bytes()).await;
        assert_eq!(body["counts"]["created"], 1, "{missing}: {body}");
        assert_eq!(
            body["counts"]["unchanged"], 1,
            "{missing}: crm-2 is as the file says"
        );
        assert_eq!(body["counts"]["updated"], 1, "{missing}");
        let ann = by_external_id(&server, "crm-1").await.expect("crm-1");
        assert_eq!(ann["last_name"], "Changed");
        assert_eq!(ann["first_name"], first_name, "{missing}");
        assert_eq!(ann["country"], country, "{missing}");
        assert_eq!(
            ann["phone"], "+12345670001",
            "phones are kept when the file has no column"
        );
        assert_eq!(ann["version"], 2);
    }
}

#[tokio::test]
async fn updates_by_messaging_id_refuse_ids_the_system_never_issued() {
    let server = Server::start().await;
    let ann = server.create(contact(1)).await;
    let id = ann["messaging_id"].as_str().expect("id");
    let csv = format!(
        "Messaging ID,External ID,Email\n\
         {id},crm-renamed,ann1@example.com\n\
         01ARZ3NDEKTSV4RRFFQ69G5FAV,crm-9,nine@example.com\n\
         ,crm-new,new@example.com\n"
    );
    let settings = json!({"update_existing": {"match_by": "messaging_id"}});
    let body = import(&server, settings, csv.as_bytes()).await;
    assert_eq!(
        (
            body["counts"]["updated"].clone(),
            body["counts"]["created"].clone(),
            body["counts"]["rejected"].clone()
        ),
        (json!(1), json!(1), json!(1)),
        "{body}"
    );
    let (_, renamed) = server.get(id).await;
    assert_eq!(renamed["external_id"], "crm-renamed");
    assert!(error_csv(&body).await.contains("assigned by the system"));
}

#[tokio::test]
async fn a_row_naming_a_merged_contact_updates_the_contact_it_became() {
    let server = Server::start().await;
    let ids: Vec<String> = [contact(1), contact(2)]
        .into_iter()
        .map(|body| async {
            server.create(body).await["messaging_id"]
                .as_str()
                .expect("id")
                .to_owned()
        })
        .collect::<futures::future::JoinAll<_>>()
        .await;
    let (survivor, merged) = (&ids[0], &ids[1]);
    let (status, _) = send(
        server
            .req(Method::POST, &format!("/v1/contacts/{survivor}/merge"))
            .json(&json!({"merge": [merged]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let csv = format!("Messaging ID,Email,Last Name\n{merged},ann1@example.com,Merged\n");
    let settings = json!({"update_existing": {"match_by": "messaging_id"}});
    let body = import(&server, settings, csv.as_bytes()).await;
    assert_eq!(body["counts"]["updated"], 1, "{body}");
    let (_, updated) = server.get(survivor).await;
    assert_eq!(updated["last_name"], "Merged");
}

#[tokio::test]
async fn consent_defaults_never_override_recorded_consent() {
    let server = Server::start().await;
    let mut unsubscribed = contact(1);
    unsubscribed["consent"] = json!({"sms": "unsubscribed"});
    server.create(unsubscribed).await;
    let mut resubscribe = contact(2);
    resubscribe["consent"] = json!({"sms": "unsubscribed"});
    server.create(resubscribe).await;
    server.create(contact(3)).await;
    let csv = "External ID,Email,SMS Consent\n\
        crm-1,ann1@example.com,\n\
        crm-2,ann2@example.com,Subscribed\n\
        crm-3,ann3@example.com,\n\
        crm-4,new@example.com,\n";
    let settings = json!({
        "update_existing": {"match_by": "external_id"},
        "default_consent": {"sms": "subscribed", "email": "unsubscribed"},
        "consent_confirmed": true
    });
    let body = import(&server, settings, csv.as_bytes()).await;
    assert_eq!(body["status"], "completed", "{body}");
    let sms = |c: &Value| c["consent"]["sms"].clone();
    assert_eq!(
        sms(&by_external_id(&server, "crm-1").await.expect("1")),
        "unsubscribed"
    );
    assert_eq!(
        sms(&by_external_id(&server, "crm-2").await.expect("2")),
        "subscribed"
    );
    assert_eq!(
        sms(&by_external_id(&server, "crm-3").await.expect("3")),
        "subscribed"
    );
    let new = by_external_id(&server, "crm-4").await.expect("4");
    assert_eq!(
        new["consent"],
        json!({"sms": "subscribed", "whatsapp": "not_subscribed", "email": "unsubscribed"})
    );
}

#[tokio::test]
async fn invalid_values_reject_the_row_or_are_replaced() {
    for (replace, created, rejected, replaced) in [(false, 1, 2, 0), (true, 2, 1, 2)] {
        let server = Server::start().await;
        let csv = "External ID,Email,Phone Number,Country\n\
            crm-1,ann@example.com,+1 202 555 0143,US\n\
            crm-2,bo@example.com,12345,Narnia\n\
            crm-3,not-an-email,not-a-phone,US\n";
        let body = import(
            &server,
            json!({"replace_invalid_values": replace}),
            csv.as_bytes(),
        )
        .await;
        assert_eq!(body["counts"]["created"], created, "{replace}: {body}");
        assert_eq!(body["counts"]["rejected"], rejected, "{replace}");
        assert_eq!(body["counts"]["replaced_values"], replaced, "{replace}");
        let errors = error_csv(&body).await;
        assert!(
            errors.contains("no valid Phone Number or Email") == replace,
            "{errors}"
        );
        if replace {
            let bo = by_external_id(&server, "crm-2").await.expect("crm-2");
            assert_eq!(
                (bo["phone"].clone(), bo["country"].clone()),
                (Value::Null, Value::Null)
            );
        }
    }
}

#[tokio::test]
async fn lists_and_custom_attributes_come_from_settings_and_columns() {
    let server = Server::start().await;
    let (_, vip) = send(
        server
            .req(Method::POST, "/v1/lists")
            .json(&json!({"name": "VIP"})),
    )
    .await;
    let (_, all) = send(
        server
            .req(Method::POST, "/v1/lists")
            .json(&json!({"name": "All; of them"})),
    )
    .await;
    send(
        server
            .req(Method::POST, "/v1/attributes")
            .json(&json!({"name": "score", "label": "Score", "type": "number"})),
    )
    .await;
    let csv = "External ID\tEmail\tLists\tScore\tPlan\tIgnored\tTimezone\n\
        crm-1\ta@example.com\tVIP\t12.5\tgold\tx\tAsia/Tokyo\n\
        crm-2\tb@example.com\t\t7\t\ty\t\n";
    let settings = json!({
        "lists": [all["id"]],
        "timezone": "Europe/Tallinn",
        "columns": {"Plan": {"create": {"name": "plan", "label": "Plan", "type": "text"}}, "Ignored": null}
    });
    let body = import(&server, settings, csv.as_bytes()).await;
    assert_eq!(body["counts"]["created"], 2, "{body}");
    let a = by_external_id(&server, "crm-1").await.expect("crm-1");
    let mut lists: Vec<Value> = a["lists"].as_array().expect("lists").clone();
    lists.sort_by_key(|v| v.as_str().unwrap_or_default().to_owned());
    let mut expected = vec![vip["id"].clone(), all["id"].clone()];
    expected.sort_by_key(|v| v.as_str().unwrap_or_default().to_owned());
    assert_eq!(lists, expected);
    assert_eq!(a["attributes"], json!({"score": 12.5, "plan": "gold"}));
    assert_eq!(
        a["timezone"], "Europe/Tallinn",
        "the setting overrides the file"
    );
    let b = by_external_id(&server, "crm-2").await.expect("crm-2");
    assert_eq!(b["lists"], json!([all["id"]]));
    assert_eq!(b["attributes"], json!({"score": 7.0}));
    assert_eq!(b["timezone"], "Europe/Tallinn");
}

#[tokio::test]
async fn remove_deletes_only_what_the_file_did_not_identify_and_dry_runs_write_nothing() {
    let server = Server::start().await;
    for n in 1..=4 {
        server.create(contact(n)).await;
    }
    // crm-2's row is rejected for its email, yet it still names crm-2.
    let csv = "External ID,Email\ncrm-1,ann1@example.com\ncrm-2,broken\nnew-1,new@example.com\n";
    let settings =
        json!({"existing_contacts": "remove", "update_existing": {"match_by": "external_id"}});
    let mut dry = settings.clone();
    dry["dry_run"] = json!(true);
    let before = snapshot(&server).await;
    let body = import(&server, dry, csv.as_bytes()).await;
    assert_eq!(
        counts(&body),
        json!({"rows": 3, "created": 1, "updated": 0, "unchanged": 1, "skipped_existing": 0,
               "rejected": 1, "replaced_values": 0, "removed": 2, "suppressed": 0})
    );
    assert_eq!(snapshot(&server).await, before, "a dry run writes nothing");
    assert!(error_csv(&body).await.contains("broken"));

    let body = import(&server, settings, csv.as_bytes()).await;
    assert_eq!(body["counts"]["removed"], 2, "{body}");
    let left: Vec<Value> = snapshot(&server)
        .await
        .iter()
        .map(|c| c["external_id"].clone())
        .collect();
    assert_eq!(left, [json!("crm-1"), json!("crm-2"), json!("new-1")]);
}

#[tokio::test]
async fn a_failed_import_removes_nothing() {
    let server = Server::start().await;
    for n in 1..=3 {
        server.create(contact(n)).await;
    }
    let csv = bad_byte_past_the_head("crm-1,ann1@example.com\n", "");
    let body = import(&server, json!({"existing_contacts": "remove"}), &csv).await;
    assert_eq!(body["status"], "failed");
    assert_eq!(body["counts"]["removed"], 0);
    assert_eq!(snapshot(&server).await.len(), 3);
}

/// Contacts that exist before the long file is imported.
async fn seed(server: &Server) {
    for n in [3, 7, 33, 34] {
        server.create(contact(n)).await;
    }
}

/// A file that needs many batches: rows of every outcome.
fn long_file() -> String {
    let mut csv = String::from("External ID,Email,Phone Number,SMS Consent\n");
    for n in 0..40 {
        let (email, consent) = match n % 5 {
            0 => (format!("ann{n}@example.com"), "yes"),
            1 => ("broken".to_owned(), ""),
            _ => (format!("p{n}@example.com"), "no"),
        };
        csv.push_str(&format!("crm-{},{email},,{consent}\n", n % 30));
    }
    csv
}

#[tokio::test]
async fn a_dry_run_counts_and_rejects_what_the_import_does_across_batches() {
    for settings in [
        json!({}),
        json!({"update_existing": {"match_by": "external_id"}}),
    ] {
        let real = Server::start_importing(None, TempDir::new().expect("dir"), 3, None).await;
        seed(&real).await;
        let expected = import(&real, settings.clone(), long_file().as_bytes()).await;
        assert_eq!(expected["status"], "completed", "{expected}");

        let dry = Server::start_importing(None, TempDir::new().expect("dir"), 3, None).await;
        seed(&dry).await;
        let before = snapshot(&dry).await;
        let mut dry_settings = settings.clone();
        dry_settings["dry_run"] = json!(true);
        let body = import(&dry, dry_settings, long_file().as_bytes()).await;
        assert_eq!(counts(&body), counts(&expected), "{settings}");
        assert_eq!(error_csv(&body).await, error_csv(&expected).await);
        assert_eq!(snapshot(&dry).await, before, "a dry run writes nothing");
    }
}

#[tokio::test]
async fn a_run_stopped_mid_file_resumes_to_exactly_the_uninterrupted_result() {
    let settings = json!({
        "update_existing": {"match_by": "external_id"},
        "existing_contacts": "remove",
    });
    let whole = Server::start_importing(None, TempDir::new().expect("dir"), 3, None).await;
    seed(&whole).await;

    let expected = import(&whole, settings.clone(), long_file().as_bytes()).await;
    assert_eq!(expected["status"], "completed", "{expected}");

    let data = TempDir::new().expect("dir");
    let mut server = Server::start_importing(None, data, 3, Some(2)).await;
    seed(&server).await;
    let id = upload(&server, settings, long_file().as_bytes()).await;
    let mut stops = 0;
    loop {
        let body = wait_for(&server, &id, |b| {
            b["status"] == "running" || b["status"] == "completed"
        })
        .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (_, body2) = send(server.req(Method::GET, &format!("/v1/imports/{id}"))).await;
        if body2["status"] == "completed" {
            assert_eq!(counts(&body2), counts(&expected));
            break;
        }
        assert_eq!(body["status"], "running");
        stops += 1;
        let data = server.stop().await;
        server = Server::start_importing(None, data, 3, Some(2)).await;
    }
    assert!(stops >= 3, "the run stopped {stops} times");
    assert_eq!(snapshot(&server).await, snapshot(&whole).await);
    let body = finished(&server, &id).await;
    assert_eq!(error_csv(&body).await, error_csv(&expected).await);
}

#[tokio::test]
async fn imports_are_listed_newest_first_and_private_to_their_workspace() {
    let server = Server::start().await;
    let first = upload(&server, json!({}), b"External ID,Email\na,a@example.com\n").await;
    finished(&server, &first).await;
    let second = upload(
        &server,
        json!({"dry_run": true}),
        b"External ID,Email\nb,b@example.com\n",
    )
    .await;
    finished(&server, &second).await;
    let (_, page) = send(server.req(Method::GET, "/v1/imports?limit=1")).await;
    assert_eq!(page["items"][0]["import_id"], second.as_str());
    let cursor = page["next_cursor"].as_str().expect("cursor");
    let (_, page) =
        send(server.req(Method::GET, &format!("/v1/imports?limit=1&cursor={cursor}"))).await;
    assert_eq!(page["items"][0]["import_id"], first.as_str());
    assert_eq!(page["next_cursor"], Value::Null);
    expect_problem(
        server.as_token(BETA, Method::GET, &format!("/v1/imports/{first}")),
        StatusCode::NOT_FOUND,
    )
    .await;
    let (_, theirs) = send(server.as_token(BETA, Method::GET, "/v1/imports")).await;
    assert_eq!(theirs["items"], json!([]));
}

#[tokio::test]
async fn a_preview_proposes_the_mapping_with_samples_and_invalid_counts() {
    let server = Server::start().await;
    let csv = "Ref;E-Mail;mobile;Created At;Shoe size\nx1;a@example.com;+12025550143;2026;42\nx2;nope;12;;43\n";
    let (status, preview) = send(
        server
            .req(Method::POST, "/v1/imports/preview")
            .header("content-type", "text/csv")
            .body(csv),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["delimiter"], ";");
    assert_eq!(preview["encoding"], "utf-8");
    let attributes: Vec<Value> = preview["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c["attribute"].clone())
        .collect();
    assert_eq!(
        attributes,
        [
            Value::Null,
            json!("email"),
            json!("phone"),
            Value::Null,
            Value::Null
        ]
    );
    let invalid: Vec<Value> = preview["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c["invalid"].clone())
        .collect();
    assert_eq!(invalid, [json!(0), json!(1), json!(1), json!(0), json!(0)]);
    assert_eq!(preview["sample_rows"].as_array().expect("rows").len(), 2);
    assert_eq!(
        preview["importable"], true,
        "new contacts need no External ID"
    );

    let updating = upload(
        &server,
        json!({"update_existing": {"match_by": "external_id"}}),
        csv.as_bytes(),
    )
    .await;
    assert_eq!(finished(&server, &updating).await["status"], "failed");
    let (_, preview) = send(
        server
            .req(Method::POST, "/v1/imports/preview")
            .json(&json!({"import_id": updating})),
    )
    .await;
    assert_eq!(preview["importable"], false, "{preview}");
    assert!(
        preview["problem"]
            .as_str()
            .expect("problem")
            .contains("External ID column")
    );

    let id = upload(
        &server,
        json!({"columns": {"Ref": "external_id"}, "dry_run": true}),
        csv.as_bytes(),
    )
    .await;
    finished(&server, &id).await;
    let (_, preview) = send(
        server
            .req(Method::POST, "/v1/imports/preview")
            .json(&json!({"import_id": id})),
    )
    .await;
    assert_eq!(preview["columns"][0]["attribute"], "external_id");
    assert_eq!(preview["importable"], true);
}

#[tokio::test]
async fn imported_and_updated_contacts_are_found_by_text_search_and_counted() {
    let server = Server::start().await;
    let mut ann = contact(1);
    ann["last_name"] = json!("Leeson");
    server.create(ann).await;
    let csv = "External ID,Email,First Name,Last Name\n\
        crm-1,ann1@example.com,Ann,Zimmermann\n\
        new-1,bob@example.com,Bob,Quixote\n";
    let settings = json!({"update_existing": {"match_by": "external_id"}});
    let body = import(&server, settings, csv.as_bytes()).await;
    assert_eq!(
        (
            body["counts"]["created"].clone(),
            body["counts"]["updated"].clone()
        ),
        (json!(1), json!(1)),
        "{body}"
    );
    for (query, expected) in [
        ("last_name=zimmer", vec!["crm-1"]),
        ("last_name=leeson", vec![]),
        ("full_name=bob%20quix", vec!["new-1"]),
        ("email=bob@exa", vec!["new-1"]),
    ] {
        let (_, page) = server.list(query).await;
        assert_eq!(crate::support::external_ids(&page), expected, "{query}");
    }
    let (_, usage) = send(server.req(Method::GET, "/v1/contacts/usage")).await;
    assert_eq!(usage["count"], 2);
}

#[tokio::test]
async fn a_workspace_runs_one_import_at_a_time_and_queues_the_next() {
    let server = Server::start_importing(None, TempDir::new().expect("dir"), 1, None).await;
    let mut long = String::from("External ID,Email\n");
    for n in 0..300 {
        long.push_str(&format!("q-{n},q{n}@example.com\n"));
    }
    let first = upload(&server, json!({}), long.as_bytes()).await;
    let second = upload(
        &server,
        json!({}),
        b"External ID,Email\nlast,last@example.com\n",
    )
    .await;
    let mut saw_queued = false;
    loop {
        // The second first: if the first is still running after it, both were.
        let (_, b) = send(server.req(Method::GET, &format!("/v1/imports/{second}"))).await;
        let (_, a) = send(server.req(Method::GET, &format!("/v1/imports/{first}"))).await;
        assert!(
            !(a["status"] == "running" && b["status"] == "running"),
            "two imports of one workspace ran at once"
        );
        saw_queued |= b["status"] == "queued" && a["status"] == "running";
        if b["status"] == "completed" {
            assert_eq!(a["status"], "completed");
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(saw_queued, "the second import waited in queued");
}
