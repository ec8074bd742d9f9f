//! CSV export through the local server's HTTP API: every column in order,
//! filters and column choices, an empty workspace, Unicode, quoting and
//! embedded newlines, formula cells, links, other workspaces, and the round
//! trip through import.

use std::time::Duration;

use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api_imports::{import, snapshot};
use crate::support::{
    BETA, Server, assert_formula_safe_in_every_locale, expect_problem, problem_fields, send,
};

/// Starts an export and waits until it has finished.
pub(crate) async fn export(server: &Server, request: Value) -> Value {
    let (status, created) = send(server.req(Method::POST, "/v1/exports").json(&request)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    assert!(["queued", "running", "completed"].contains(&created["status"].as_str().unwrap_or("")));
    let id = created["export_id"].as_str().expect("export_id").to_owned();
    for _ in 0..600 {
        let (status, body) = send(server.req(Method::GET, &format!("/v1/exports/{id}"))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["status"] == "completed" || body["status"] == "failed" {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("export {id} did not finish in 30 s");
}

/// The file behind an export's link, as bytes.
pub(crate) async fn download(body: &Value) -> Vec<u8> {
    let url = body["download_url"].as_str().expect("download_url");
    let response = reqwest::get(url).await.expect("download");
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .expect("text")
        .to_owned();
    assert_eq!(
        disposition,
        format!(
            "attachment; filename=\"{}\"",
            body["file_name"].as_str().expect("name")
        )
    );
    response.bytes().await.expect("bytes").to_vec()
}

/// A file's records (BOM checked and dropped; RFC 4180 parsing).
pub(crate) async fn records(file: &[u8]) -> Vec<Vec<String>> {
    let text = file.strip_prefix(b"\xEF\xBB\xBF").expect("a UTF-8 BOM");
    let mut reader = csv_async::AsyncReaderBuilder::new()
        .has_headers(false)
        .create_reader(text);
    let mut rows = Vec::new();
    let mut stream = reader.records();
    while let Some(record) = stream.next().await {
        rows.push(record.expect("record").iter().map(str::to_owned).collect());
    }
    rows
}

const ALL_GENERIC: [&str; 12] = [
    "Messaging ID",
    "External ID",
    "First Name",
    "Last Name",
    "Phone Number",
    "Email",
    "Country",
    "Timezone",
    "SMS Consent",
    "WhatsApp Consent",
    "Email Consent",
    "Lists",
];

async fn post(server: &Server, path: &str, body: Value) -> Value {
    let (status, created) = send(server.req(Method::POST, path).json(&body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

/// A workspace with two lists, one attribute of each type, and contacts
/// whose values need quoting, escaping and formula safety.
async fn seed(server: &Server) -> (Value, Value) {
    let vip = post(server, "/v1/lists", json!({"name": "VIP"})).await;
    let odd = post(server, "/v1/lists", json!({"name": "A;B\\C"})).await;
    for (name, kind) in [
        ("note", "text"),
        ("score", "number"),
        ("active", "boolean"),
        ("birthday", "date"),
        ("seen", "datetime"),
    ] {
        post(
            server,
            "/v1/attributes",
            json!({"name": name, "label": name.to_uppercase(), "type": kind}),
        )
        .await;
    }
    server
        .create(json!({
            "external_id": "crm-1", "first_name": "Zoë", "last_name": "O'Brien, Jr.",
            "phone": "+4915112345678", "email": "zoe@example.com", "country": "DE",
            "timezone": "Europe/Berlin", "lists": [vip["id"], odd["id"]],
            "consent": {"sms": "subscribed", "email": "unsubscribed"},
            "attributes": {"note": "line one\nline \"two\"", "score": -12.5, "active": true,
                           "birthday": "1990-02-28", "seen": "2026-11-24T08:30:00Z"}
        }))
        .await;
    server
        .create(json!({
            "external_id": "crm-2", "first_name": "李", "email": "li@example.com",
            "country": "US", "lists": [vip["id"]],
            "attributes": {"note": "=HYPERLINK(\"http://x\")", "score": 7}
        }))
        .await;
    server
        .create(json!({
            "external_id": "-crm-3", "last_name": "@home", "phone": "+12025550123",
            "attributes": {"note": "'quoted", "active": false}
        }))
        .await;
    (vip, odd)
}

#[tokio::test]
async fn an_export_has_every_column_in_order_quoted_and_formula_safe() {
    let server = Server::start().await;
    seed(&server).await;
    let body = export(&server, json!({})).await;
    assert_eq!(body["status"], "completed", "{body}");
    assert_eq!(body["rows"], 3);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(body["file_name"], format!("contacts-{today}.csv"));
    let file = download(&body).await;
    assert_eq!(body["bytes"], file.len() as u64);
    let text = String::from_utf8(file.clone()).expect("UTF-8");
    assert!(text.contains("\r\n"), "CRLF line ends");
    assert_formula_safe_in_every_locale(&text);
    assert!(
        text.contains("\"line one\nline \"\"two\"\"\""),
        "RFC 4180 quoting: {text}"
    );
    let rows = records(&file).await;
    let mut header: Vec<&str> = ALL_GENERIC.to_vec();
    header.extend([
        "active",
        "birthday",
        "note",
        "score",
        "seen",
        "Created At",
        "Updated At",
    ]);
    assert_eq!(rows[0], header);
    assert_eq!(rows.len(), 4);
    let row = |external: &str| -> Vec<String> {
        rows.iter()
            .find(|r| r[1] == external || r[1] == format!("'{external}"))
            .unwrap_or_else(|| panic!("no row {external}"))
            .clone()
    };
    let one = row("crm-1");
    assert_eq!(
        &one[1..12],
        [
            "crm-1",
            "Zoë",
            "O'Brien, Jr.",
            "+4915112345678",
            "zoe@example.com",
            "DE",
            "Europe/Berlin",
            "subscribed",
            "not_subscribed",
            "unsubscribed",
            "A\\;B\\\\C;VIP",
        ]
    );
    assert_eq!(
        &one[12..17],
        [
            "true",
            "1990-02-28",
            "line one\nline \"two\"",
            "-12.5",
            "2026-11-24T08:30:00Z"
        ]
    );
    for time in &one[17..19] {
        let parsed = chrono::DateTime::parse_from_rfc3339(time).expect("RFC 3339");
        assert_eq!(parsed.offset().local_minus_utc(), 0, "UTC: {time}");
        assert!(time.ends_with('Z'));
    }
    let two = row("crm-2");
    assert_eq!(two[2], "李");
    assert_eq!(
        two[14], "'=HYPERLINK(\"http://x\")",
        "a formula gets a quote"
    );
    assert_eq!(two[15], "7");
    let three = row("-crm-3");
    assert_eq!(three[1], "'-crm-3");
    assert_eq!(three[3], "'@home");
    assert_eq!(three[4], "+12025550123", "an E.164 phone stays as it is");
    assert_eq!(three[14], "''quoted", "a leading quote is doubled");
    assert_eq!(three[12], "false");
}

#[tokio::test]
async fn cells_a_spreadsheet_could_split_or_trim_into_a_formula_are_safe_and_read_back_exactly() {
    let server = Server::start().await;
    post(
        &server,
        "/v1/attributes",
        json!({"name": "note", "label": "Note", "type": "text"}),
    )
    .await;
    let notes = [
        "x;=HYPERLINK(\"http://evil.example\")",
        "x, +cmd|' /C calc'!A0",
        "tab\t-2+3",
        "line one\n@SUM(1)",
        "x; \u{a0}=1+1",
        "\u{FF1D}1+1",
        "x;\u{FF0B}1",
        "\u{FF20}home",
        "\u{FF0D}1",
        "a;'quoted",
        "Gold; Silver",
    ];
    for (n, note) in notes.iter().enumerate() {
        server
            .create(
                json!({"external_id": format!("crm-{n}"), "email": format!("p{n}@example.com"),
                           "first_name": format!("Ann;=1+{n}"), "attributes": {"note": note}}),
            )
            .await;
    }
    let before = snapshot(&server).await;
    let body = export(&server, json!({})).await;
    let file = download(&body).await;
    let text = String::from_utf8(file.clone()).expect("UTF-8");
    assert_formula_safe_in_every_locale(&text);
    assert!(
        text.contains("\"x;'=HYPERLINK(\"\"http://evil.example\"\")\""),
        "{text}"
    );
    assert!(text.contains("\"'\u{FF1D}1+1\""), "{text}");
    for record in text
        .trim_start_matches('\u{feff}')
        .split("\r\n")
        .filter(|r| !r.is_empty())
    {
        assert!(
            record.starts_with('"') && record.ends_with('"'),
            "every field quoted: {record:?}"
        );
    }

    let settings =
        json!({"update_existing": {"match_by": "external_id", "missing_attributes": "keep"}});
    let again = import(&server, settings, &file).await;
    assert_eq!(again["counts"]["unchanged"], notes.len(), "{again}");
    assert_eq!(again["counts"]["rejected"], 0, "{again}");
    assert_eq!(snapshot(&server).await, before);
    let stored: Vec<Value> = before
        .iter()
        .map(|c| c["attributes"]["note"].clone())
        .collect();
    for note in notes {
        assert!(stored.contains(&json!(note)), "{note:?} in {stored:?}");
    }
}

#[tokio::test]
async fn filters_and_columns_choose_the_rows_and_columns() {
    let server = Server::start().await;
    let (vip, _) = seed(&server).await;
    let cases = [
        (json!({"country": "DE"}), vec!["crm-1"]),
        (json!({"list": vip["id"]}), vec!["crm-1", "crm-2"]),
        (json!({"attr.score[gt]": "0"}), vec!["crm-2"]),
        (json!({"attr.active": "false"}), vec!["-crm-3"]),
        (json!({"first_name": "zo"}), vec!["crm-1"]),
        (json!({"email[eq]": "LI@example.com"}), vec!["crm-2"]),
        (
            json!({"sms_consent": "subscribed", "country": "DE"}),
            vec!["crm-1"],
        ),
        (json!({"country": "FR"}), vec![]),
    ];
    for (filter, expected) in cases {
        let body = export(
            &server,
            json!({"filter": filter, "columns": ["email", "external_id"]}),
        )
        .await;
        assert_eq!(body["status"], "completed", "{body}");
        assert_eq!(body["columns"], json!(["external_id", "email"]));
        let rows = records(&download(&body).await).await;
        assert_eq!(
            rows[0],
            ["External ID", "Email"],
            "export order, whatever the order asked"
        );
        let mut found: Vec<String> = rows[1..]
            .iter()
            .map(|r| r[0].trim_start_matches('\'').to_owned())
            .collect();
        found.sort();
        assert_eq!(found, expected, "{filter}");
        assert_eq!(body["rows"], expected.len());
    }
    let body = export(
        &server,
        json!({"columns": ["score", "full_name", "updated_at"]}),
    )
    .await;
    let rows = records(&download(&body).await).await;
    assert_eq!(rows[0], ["Full Name", "score", "Updated At"]);
}

#[tokio::test]
async fn an_empty_workspace_exports_the_header_alone() {
    let server = Server::start().await;
    let body = export(&server, json!({})).await;
    assert_eq!(body["status"], "completed", "{body}");
    assert_eq!(body["rows"], 0);
    let file = download(&body).await;
    let expected = format!(
        "\u{feff}\"{}\"\r\n\"Created At\",\"Updated At\"\r\n",
        ALL_GENERIC.join("\",\"")
    );
    assert_eq!(
        String::from_utf8(file).expect("UTF-8"),
        expected.replacen("\r\n\"Created", ",\"Created", 1)
    );
}

#[tokio::test]
async fn bad_requests_name_the_field() {
    let server = Server::start().await;
    let cases = [
        (json!({"filter": {"colour": "red"}}), vec!["filter.colour"]),
        (
            json!({"filter": {"limit": "5", "country": "Germany"}}),
            vec!["filter.limit", "filter.country"],
        ),
        (
            json!({"filter": {"attr.missing": "x"}}),
            vec!["filter.attr.missing"],
        ),
        (json!({"columns": ["email", "shoe_size"]}), vec!["columns"]),
        (json!({"columns": []}), vec!["columns"]),
        (json!({"format": "pdf"}), vec!["format"]),
    ];
    for (request, fields) in cases {
        let body = expect_problem(
            server.req(Method::POST, "/v1/exports").json(&request),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(problem_fields(&body), fields, "{request}");
    }
    let (_, list) = send(server.req(Method::GET, "/v1/exports")).await;
    assert_eq!(list["items"], json!([]), "nothing was started");
}

#[tokio::test]
async fn links_are_fresh_private_and_tamper_proof() {
    let server = Server::start().await;
    seed(&server).await;
    let body = export(&server, json!({})).await;
    let id = body["export_id"].as_str().expect("id");
    let expires = chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().expect("at"))
        .expect("time");
    let minutes = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
    assert!(
        (14..=15).contains(&minutes),
        "15 minutes by default: {minutes}"
    );

    let (status, week) =
        send(server.req(Method::GET, &format!("/v1/exports/{id}?expires_in=604800"))).await;
    assert_eq!(status, StatusCode::OK);
    let expires = chrono::DateTime::parse_from_rfc3339(week["expires_at"].as_str().expect("at"))
        .expect("time");
    assert!((expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days() >= 6);
    assert_ne!(
        week["download_url"], body["download_url"],
        "a new link each time"
    );
    for bad in ["59", "604801", "soon"] {
        let problem = expect_problem(
            server.req(Method::GET, &format!("/v1/exports/{id}?expires_in={bad}")),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(problem_fields(&problem), ["expires_in"]);
    }

    let url = body["download_url"].as_str().expect("url");
    let tampered = url.replace(id, "01JAAAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(
        reqwest::get(&tampered).await.expect("get").status(),
        StatusCode::FORBIDDEN
    );
    let renamed = url.replace("filename=contacts", "filename=other");
    assert_eq!(
        reqwest::get(&renamed).await.expect("get").status(),
        StatusCode::FORBIDDEN
    );

    expect_problem(
        server.as_token(BETA, Method::GET, &format!("/v1/exports/{id}")),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_problem(
        server.req(Method::GET, "/v1/exports/not-an-id"),
        StatusCode::NOT_FOUND,
    )
    .await;
    let (_, theirs) = send(server.as_token(BETA, Method::GET, "/v1/exports")).await;
    assert_eq!(theirs["items"], json!([]));
    let (_, ours) = send(server.req(Method::GET, "/v1/exports?limit=1")).await;
    assert_eq!(ours["items"][0]["export_id"], id);
}

#[tokio::test]
async fn an_edited_export_imported_back_changes_exactly_the_edited_values() {
    let server = Server::start().await;
    seed(&server).await;
    for n in 4..=30 {
        server
            .create(
                json!({"external_id": format!("crm-{n}"), "email": format!("p{n}@example.com"),
                           "attributes": {"score": n}}),
            )
            .await;
    }
    let before = snapshot(&server).await;
    let body = export(&server, json!({})).await;
    let file = download(&body).await;

    // Nothing edited: every row is unchanged.
    let settings =
        json!({"update_existing": {"match_by": "external_id", "missing_attributes": "keep"}});
    let same = import(&server, settings.clone(), &file).await;
    assert_eq!(same["status"], "completed", "{same}");
    assert_eq!(same["counts"]["rows"], 30, "{same}");
    assert_eq!(same["counts"]["unchanged"], 30, "{same}");
    assert_eq!(snapshot(&server).await, before);

    // Edit cells as a spreadsheet would: a name, a number, a boolean, consent, lists.
    let rows = records(&file).await;
    let mut edited = rows.clone();
    let at = |external: &str| {
        rows.iter()
            .position(|r| r[1].trim_start_matches('\'') == external)
            .expect("row")
    };
    let (one, three, ten) = (at("crm-1"), at("-crm-3"), at("crm-10"));
    edited[one][2] = "Zoe".into();
    edited[one][15] = "99".into();
    edited[one][11] = "VIP".into();
    edited[three][12] = "true".into();
    edited[three][8] = "unsubscribed".into();
    edited[ten][15] = "0.5".into();
    let mut writer = csv_async::AsyncWriterBuilder::new().create_writer(Vec::new());
    for row in &edited {
        writer.write_record(row).await.expect("write");
    }
    let mut again = b"\xEF\xBB\xBF".to_vec();
    again.extend(writer.into_inner().await.expect("csv"));
    let changed = import(&server, settings, &again).await;
    if changed["counts"]["rejected"] != 0 {
        let errors = reqwest::get(changed["errors_url"].as_str().expect("url"))
            .await
            .expect("get");
        panic!("rejected rows: {}", errors.text().await.expect("text"));
    }
    assert_eq!(changed["counts"]["updated"], 3, "{changed}");
    assert_eq!(changed["counts"]["unchanged"], 27, "{changed}");
    assert_eq!(changed["counts"]["rejected"], 0, "{changed}");

    let after = snapshot(&server).await;
    let mut expected = before.clone();
    let find = |all: &mut Vec<Value>, external: &str| -> usize {
        all.iter()
            .position(|c| c["external_id"] == external)
            .expect("contact")
    };
    let i = find(&mut expected, "crm-1");
    expected[i]["first_name"] = json!("Zoe");
    expected[i]["full_name"] = json!("Zoe O'Brien, Jr.");
    expected[i]["attributes"]["score"] = json!(99.0);
    let vip: Vec<Value> = before[find(&mut expected, "crm-2")]["lists"]
        .as_array()
        .expect("lists")
        .clone();
    expected[i]["lists"] = json!(vip);
    let i = find(&mut expected, "-crm-3");
    expected[i]["attributes"]["active"] = json!(true);
    expected[i]["consent"]["sms"] = json!("unsubscribed");
    let i = find(&mut expected, "crm-10");
    expected[i]["attributes"]["score"] = json!(0.5);
    assert_eq!(after, expected);
}

/// Download as Excel: a workbook of text cells, same columns and order as
/// the CSV, that keeps `00123` and phones as they are and imports back with
/// every row unchanged.
#[tokio::test]
async fn an_xlsx_export_keeps_every_value_as_text_and_imports_back_unchanged() {
    let server = Server::start().await;
    seed(&server).await;
    server
        .create(json!({"external_id": "00123", "phone": "+12025550143", "first_name": "Zero"}))
        .await;
    let before = snapshot(&server).await;
    let csv = export(&server, json!({})).await;
    let body = export(&server, json!({"format": "xlsx"})).await;
    assert_eq!(body["status"], "completed", "{body}");
    assert!(
        body["file_name"]
            .as_str()
            .is_some_and(|name| name.ends_with(".xlsx")),
        "{body}"
    );
    let workbook = download(&body).await;
    assert!(workbook.starts_with(b"PK\x03\x04"), "a ZIP container");
    let sheet = contacts::import::source::FileKind::Xlsx
        .to_utf8_csv(&workbook)
        .expect("readable");
    let sheet_rows = records_of(&sheet).await;
    let csv_rows: Vec<Vec<String>> = records(&download(&csv).await)
        .await
        .into_iter()
        .map(|row| {
            row.iter()
                .map(|cell| contacts::export::cells::unescape(cell).into_owned())
                .collect()
        })
        .collect();
    assert_eq!(sheet_rows, csv_rows, "the CSV's cells, as text");
    assert!(
        sheet_rows.iter().any(|row| row[1] == "00123"),
        "{sheet_rows:?}"
    );

    let settings =
        json!({"update_existing": {"match_by": "external_id", "missing_attributes": "keep"}});
    let same = import(&server, settings, &workbook).await;
    assert_eq!(same["status"], "completed", "{same}");
    assert_eq!(same["file"]["encoding"], "xlsx", "{same}");
    assert_eq!(same["counts"]["rejected"], 0, "{same}");
    assert_eq!(same["counts"]["unchanged"], before.len(), "{same}");
    assert_eq!(snapshot(&server).await, before);
}

/// The records of a CSV without a BOM.
async fn records_of(text: &[u8]) -> Vec<Vec<String>> {
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(text);
    records(&with_bom).await
}
