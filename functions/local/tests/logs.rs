//! The server's logs: plain text without colour codes when stdout is not a
//! terminal, one JSON object per line with `CONTACTS_LOG_FORMAT=json`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// The first two lines the server logs with `CONTACTS_LOG_FORMAT=format`
/// (`None`: unset), stdout piped; then it is stopped.
fn first_lines(format: Option<&str>) -> Vec<String> {
    let data = tempfile::TempDir::new().expect("temp dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_contacts-local"));
    command
        .env("CONTACTS_ADDR", "127.0.0.1:0")
        .env("CONTACTS_DATA_DIR", data.path())
        .env_remove("CONTACTS_TOKENS")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    match format {
        Some(format) => command.env("CONTACTS_LOG_FORMAT", format),
        None => command.env_remove("CONTACTS_LOG_FORMAT"),
    };
    let mut child = command.spawn().expect("contacts-local");
    let stdout = child.stdout.take().expect("stdout");
    let lines = BufReader::new(stdout)
        .lines()
        .take(2)
        .map(|line| line.expect("a log line"))
        .collect();
    child.kill().expect("stop");
    child.wait().expect("wait");
    lines
}

#[test]
fn text_logs_have_no_colour_codes_off_a_terminal() {
    let lines = first_lines(None);
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].contains("contacts-local listening on http://127.0.0.1:"),
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| !l.contains('\u{1b}')), "{lines:?}");
    assert_eq!(first_lines(Some("text")).len(), 2);
}

#[test]
fn json_logs_are_one_object_per_line() {
    let lines = first_lines(Some("json"));
    assert_eq!(lines.len(), 2);
    for line in &lines {
        let entry: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        assert_eq!(entry["level"], "INFO");
    }
    let first: serde_json::Value = serde_json::from_str(&lines[0]).expect("json");
    assert!(
        first["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("contacts-local listening"))
    );
}

#[test]
fn an_unknown_log_format_is_refused_naming_the_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_contacts-local"))
        .env("CONTACTS_LOG_FORMAT", "xml")
        .env("CONTACTS_ADDR", "127.0.0.1:0")
        .output()
        .expect("contacts-local");
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("CONTACTS_LOG_FORMAT"), "{message}");
}
