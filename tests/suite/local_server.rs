//! The local server's configuration and lifecycle.

use contacts::local::{DEV_TOKEN, LocalConfig};
use reqwest::{Method, StatusCode};

use crate::support::{Server, contact, send};

#[test]
fn configuration_comes_from_contacts_variables_with_defaults() {
    let defaults = LocalConfig::from_lookup(|_| None).expect("defaults");
    assert_eq!(defaults.addr.to_string(), "127.0.0.1:3000");
    assert_eq!(defaults.data_dir.to_str(), Some("./.contacts-data"));
    assert_eq!(defaults.usage_limit, None);
    assert!(format!("{:?}", defaults.tokens).contains(DEV_TOKEN));

    let env = |key: &str| {
        Some(
            match key {
                "CONTACTS_ADDR" => "127.0.0.1:8080",
                "CONTACTS_DATA_DIR" => "/tmp/elsewhere",
                "CONTACTS_TOKENS" => "a=ws-a, b=ws-b",
                "CONTACTS_USAGE_LIMIT" => "1000",
                _ => return None,
            }
            .to_owned(),
        )
    };
    let config = LocalConfig::from_lookup(env).expect("config");
    assert_eq!(config.addr.port(), 8080);
    assert_eq!(config.usage_limit, Some(1000));

    for (key, value) in [
        ("CONTACTS_ADDR", "localhost"),
        ("CONTACTS_TOKENS", "no-equals-sign"),
        ("CONTACTS_TOKENS", "t=bad workspace"),
        ("CONTACTS_USAGE_LIMIT", "lots"),
    ] {
        let error = LocalConfig::from_lookup(|k| (k == key).then(|| value.to_owned()))
            .expect_err(value)
            .to_string();
        assert!(error.contains(key), "{error}");
    }
}

#[tokio::test]
async fn data_survives_a_graceful_restart() {
    let server = Server::start().await;
    let created = server.create(contact(1)).await;
    let id = created["messaging_id"].as_str().expect("id").to_owned();
    let data = server.stop().await;
    let restarted = Server::start_with(None, data).await;
    let (status, body) = restarted.get(&id).await;
    assert_eq!((status, body), (StatusCode::OK, created));
    let (_, usage) = send(restarted.req(Method::GET, "/v1/contacts/usage")).await;
    assert_eq!(usage["count"], 1);
}

#[tokio::test]
async fn object_links_are_served_with_their_limits() {
    use contacts::store::folder::FolderStore;
    use contacts::store::objects::{ObjectKey, ObjectStore};
    use std::time::Duration;

    let server = Server::start().await;
    // A store over the server's own folder signs links the server honours.
    let store =
        FolderStore::open(&server.data.path().join("objects"), server.url("")).expect("store");
    let key = ObjectKey::parse("uploads/alpha/list.csv").expect("key");
    let http = reqwest::Client::new();
    let put = store
        .presign_put(&key, "text/csv", 14, Duration::from_secs(60))
        .await
        .expect("link");

    let wrong_type = http
        .put(&put.url)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("put");
    assert_eq!(wrong_type.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        wrong_type.headers()["content-type"],
        "application/problem+json"
    );
    let unsigned = http
        .put(server.url("/objects/uploads/alpha/list.csv"))
        .header("content-type", "text/csv")
        .body("a")
        .send()
        .await
        .expect("put");
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);
    let escape = http
        .get(server.url("/objects/uploads/../../etc/passwd?expires=9999999999&signature=00"))
        .send()
        .await
        .expect("get");
    assert!(escape.status().is_client_error());

    let limit = contacts::http::objects::UPLOAD_LIMIT;
    let too_big_link = store
        .presign_put(&key, "text/csv", limit + 1, Duration::from_secs(60))
        .await
        .expect("link");
    let too_big = vec![b'x'; usize::try_from(limit).expect("size") + 1];
    let response = http
        .put(&too_big_link.url)
        .header("content-type", "text/csv")
        .body(too_big)
        .send()
        .await
        .expect("put");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        store.get(&key).await.expect("get").is_none(),
        "nothing of an oversize upload is kept"
    );

    let response = http
        .put(&put.url)
        .header("content-type", "text/csv")
        .body("external_id\nx\n")
        .send()
        .await
        .expect("put");
    assert_eq!(response.status(), StatusCode::OK);
    let get = store
        .presign_get(&key, Duration::from_secs(60), None)
        .await
        .expect("link");
    let response = http.get(&get.url).send().await.expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.expect("body"), "external_id\nx\n");
}

#[tokio::test]
async fn a_file_imports_from_the_command_line_without_the_api() {
    use contacts::import::ImportStatus;
    use contacts::local::{errors_file, import_file};
    use contacts::model::WorkspaceId;

    let data = tempfile::TempDir::new().expect("dir");
    let config = LocalConfig::from_lookup(|key| {
        (key == "CONTACTS_DATA_DIR").then(|| data.path().display().to_string())
    })
    .expect("config");
    let csv = data.path().join("people.csv");
    std::fs::write(
        &csv,
        "External ID,Email\ncli-1,a@example.com\ncli-2,broken\n",
    )
    .expect("csv");
    let settings = data.path().join("settings.json");
    std::fs::write(&settings, r#"{"dry_run": false, "colour": 1}"#).expect("settings");
    let workspace = WorkspaceId::parse("alpha").expect("workspace");
    let refused = import_file(&config, &workspace, Some(&settings), &csv)
        .await
        .expect_err("unknown setting");
    assert!(refused.to_string().contains("colour"), "{refused}");

    std::fs::write(&settings, r#"{"existing_contacts": "retain"}"#).expect("settings");
    let job = import_file(&config, &workspace, Some(&settings), &csv)
        .await
        .expect("import");
    assert_eq!(job.status, ImportStatus::Completed);
    assert_eq!((job.counts.created, job.counts.rejected), (1, 1));
    assert_eq!(job.file.name, "people.csv");
    let errors =
        std::fs::read_to_string(errors_file(&config, &job).expect("path")).expect("errors");
    assert!(
        errors.starts_with(
            "\"External ID\",\"Email\",\"error_row\",\"error\"\n\"cli-2\",\"broken\",\"3\","
        ),
        "{errors}"
    );

    let server = Server::start_with(None, data).await;
    let (_, page) = send(server.req(Method::GET, "/v1/imports")).await;
    assert_eq!(page["items"][0]["import_id"], job.id.to_string());
    assert_eq!(page["items"][0]["counts"]["created"], 1);
    assert!(page["items"][0]["errors_url"].is_string());
}

#[tokio::test]
async fn a_file_over_the_size_limit_fails_before_any_contact_is_written() {
    use contacts::import::ImportStatus;
    use contacts::local::import_file;
    use contacts::model::WorkspaceId;

    let data = tempfile::TempDir::new().expect("dir");
    let mut config = LocalConfig::from_lookup(|key| {
        (key == "CONTACTS_DATA_DIR").then(|| data.path().display().to_string())
    })
    .expect("config");
    config.import_max_bytes = 1024 * 1024;
    let csv = data.path().join("big.csv");
    let mut text = String::from("External ID,Email\n");
    for n in 0..40_000 {
        text.push_str(&format!("big-{n},big{n}@example.com\n"));
    }
    std::fs::write(&csv, text).expect("csv");
    let workspace = WorkspaceId::parse("alpha").expect("workspace");
    let job = import_file(&config, &workspace, None, &csv)
        .await
        .expect("import");
    assert_eq!(job.status, ImportStatus::Failed);
    let failure = job.failure.expect("failure");
    assert!(failure.contains("at most 1 MB"), "{failure}");
    assert_eq!(job.counts.rows, 0);
    let server = Server::start_with(None, data).await;
    let (_, usage) = send(server.req(Method::GET, "/v1/contacts/usage")).await;
    assert_eq!(usage["count"], 0);
}

#[tokio::test]
async fn the_data_folder_and_the_link_key_are_private() {
    use std::os::unix::fs::PermissionsExt;

    let data = tempfile::TempDir::new().expect("dir");
    let folder = data.path().join("fresh");
    let config = LocalConfig::from_lookup(|key| match key {
        "CONTACTS_DATA_DIR" => Some(folder.display().to_string()),
        "CONTACTS_ADDR" => Some("127.0.0.1:0".into()),
        _ => None,
    })
    .expect("config");
    let server = contacts::local::LocalServer::bind(&config)
        .await
        .expect("bind");
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&folder.join("objects/.link-key")), 0o600);
    drop(server);
}
