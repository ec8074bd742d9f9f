//! An import survives the process being killed mid-file: the restarted
//! server resumes it from its last commit and ends with exactly the result
//! the file calls for.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const TOKEN: &str = "crash-token";

/// The server over `data`, and its address once it listens.
fn start(data: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_contacts-local"))
        .env("CONTACTS_ADDR", "127.0.0.1:0")
        .env("CONTACTS_DATA_DIR", data)
        .env("CONTACTS_TOKENS", format!("{TOKEN}=alpha"))
        .env("CONTACTS_IMPORT_BATCH_ROWS", "2")
        .env_remove("CONTACTS_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("contacts-local");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.split("listening on ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_owned)
        })
        .expect("the server says where it listens");
    // Keep reading its log so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, address)
}

/// Row `n` of the file: every 7th has no valid phone or email (rejected),
/// every 11th repeats the External ID of the row before (rejected).
fn row(n: usize) -> String {
    let id = if n % 11 == 10 { n - 1 } else { n };
    let email = if n % 7 == 6 {
        "broken".to_owned()
    } else {
        format!("c{n}@example.com")
    };
    format!("crash-{id},{email}\n")
}

fn rejected(n: usize) -> bool {
    n % 7 == 6 || n % 11 == 10
}

async fn get(http: &reqwest::Client, url: String) -> Value {
    http.get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn a_killed_import_resumes_to_exactly_the_full_result() {
    const ROWS: usize = 3000;
    let data = tempfile::TempDir::new().expect("temp dir");
    let http = reqwest::Client::new();
    let (mut server, address) = start(data.path());
    let csv: String = std::iter::once("External ID,Email\n".to_owned())
        .chain((0..ROWS).map(row))
        .collect();
    let created: Value = http
        .post(format!("{address}/v1/imports?file_size={}", csv.len()))
        .bearer_auth(TOKEN)
        .json(&json!({}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let id = created["import_id"].as_str().expect("import_id").to_owned();
    let uploaded = http
        .put(created["upload_url"].as_str().expect("upload_url"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("upload");
    assert!(uploaded.status().is_success());

    let mut killed_at = None;
    for _ in 0..2000 {
        let import = get(&http, format!("{address}/v1/imports/{id}")).await;
        let done = import["progress"]["rows_done"].as_u64().unwrap_or(0);
        if import["status"] == "running" && done >= 300 {
            server.kill().expect("SIGKILL");
            server.wait().expect("wait");
            killed_at = Some(done);
            break;
        }
        assert_ne!(
            import["status"], "completed",
            "the import ended before it could be killed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let killed_at = killed_at.expect("the import got going");
    assert!(killed_at < ROWS as u64);

    let (mut server, address) = start(data.path());
    let mut import = Value::Null;
    for _ in 0..3000 {
        import = get(&http, format!("{address}/v1/imports/{id}")).await;
        if import["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(import["status"], "completed", "{import}");
    let rejected_rows = (0..ROWS).filter(|&n| rejected(n)).count() as u64;
    assert_eq!(import["counts"]["rows"], ROWS as u64);
    assert_eq!(import["counts"]["rejected"], rejected_rows);
    assert_eq!(import["counts"]["created"], ROWS as u64 - rejected_rows);
    let usage = get(&http, format!("{address}/v1/contacts/usage")).await;
    assert_eq!(usage["count"], ROWS as u64 - rejected_rows);

    let mut found = BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let page = get(&http, format!("{address}/v1/contacts?limit=500{cursor}")).await;
        for item in page["items"].as_array().expect("items") {
            assert!(found.insert(item["external_id"].as_str().expect("id").to_owned()));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    let expected: BTreeSet<String> = (0..ROWS)
        .filter(|&n| !rejected(n))
        .map(|n| format!("crash-{n}"))
        .collect();
    assert_eq!(found, expected);

    let errors = http
        .get(import["errors_url"].as_str().expect("errors_url"))
        .send()
        .await
        .expect("errors")
        .text()
        .await
        .expect("text");
    assert_eq!(errors.lines().count() as u64, rejected_rows + 1);
    server.kill().expect("stop");
    server.wait().expect("wait");
}
