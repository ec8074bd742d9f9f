//! Duplicates over HTTP: listing groups, dismissing one.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Server, contact, expect_problem, problem_fields, send};

async fn ids_sharing_a_phone(server: &Server) -> Vec<String> {
    let mut ids = Vec::new();
    for n in [1, 2] {
        let mut body = contact(n);
        body["phone"] = json!("+14155550101");
        ids.push(
            server.create(body).await["messaging_id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    ids
}

fn group_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["contacts"]
        .as_array()
        .expect("contacts")
        .iter()
        .map(|c| c["messaging_id"].as_str().expect("id").to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn contacts_sharing_a_phone_are_listed_until_dismissed() {
    let server = Server::start().await;
    let mut ids = ids_sharing_a_phone(&server).await;
    ids.sort();
    server.create(contact(3)).await;
    let (status, page) = send(server.req(Method::GET, "/v1/duplicates")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let groups = page["items"].as_array().expect("items");
    assert_eq!(groups.len(), 1, "{page}");
    assert_eq!(groups[0]["reason"], "same_phone");
    assert_eq!(groups[0]["value"], "+14155550101");
    assert_eq!(group_ids(&groups[0]), ids);
    assert_eq!(groups[0]["contacts"][0]["consent"]["sms"], "not_subscribed");
    let (_, emails) = send(server.req(Method::GET, "/v1/duplicates?reason=same_email")).await;
    assert_eq!(emails["items"], json!([]));

    let problem = expect_problem(
        server.req(Method::GET, "/v1/duplicates?reason=same_name&sort=new"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&problem), ["reason", "sort"]);
    let problem = expect_problem(
        server
            .req(Method::POST, "/v1/duplicates/dismiss")
            .json(&json!({"messaging_ids": [ids[0]]})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&problem), ["messaging_ids"]);

    let (status, _) = send(
        server
            .req(Method::POST, "/v1/duplicates/dismiss")
            .json(&json!({"messaging_ids": ids})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, page) = send(server.req(Method::GET, "/v1/duplicates")).await;
    assert_eq!(page["items"], json!([]));
}

/// Creates a contact named `first last` with this country and email.
async fn person(
    server: &Server,
    n: usize,
    name: (&str, &str),
    country: &str,
    email: &str,
) -> String {
    let mut body = contact(n);
    body["first_name"] = json!(name.0);
    body["last_name"] = if name.1.is_empty() {
        Value::Null
    } else {
        json!(name.1)
    };
    body["country"] = json!(country);
    body["email"] = json!(email);
    server.create(body).await["messaging_id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// The scan at `location` once it has finished.
async fn finished_scan(server: &Server, id: &str) -> Value {
    for _ in 0..200 {
        let (status, scan) =
            send(server.req(Method::GET, &format!("/v1/duplicates/scans/{id}"))).await;
        assert_eq!(status, StatusCode::OK, "{scan}");
        if scan["status"] == "completed" || scan["status"] == "failed" {
            return scan;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the scan did not finish");
}

#[tokio::test]
async fn a_scan_finds_similar_names_which_then_list_with_the_other_duplicates() {
    let server = Server::start().await;
    let mut zoes = vec![
        person(&server, 1, ("Zoë", "Müller"), "DE", "zoe@a.example").await,
        person(&server, 2, ("MÜLLER,", "zoe"), "AT", "zm@a.example").await,
    ];
    let mut johns = vec![
        person(&server, 3, ("John", "Smith"), "US", "john@b.example").await,
        person(&server, 4, ("Jhon", "Smith"), "US", "js@c.example").await,
    ];
    person(&server, 5, ("John", "Smith"), "GB", "other@d.example").await;
    person(&server, 6, ("Ann", ""), "US", "ann@b.example").await;
    zoes.sort();
    johns.sort();
    let (_, none) = send(server.req(Method::GET, "/v1/duplicates?reason=similar_name")).await;
    assert_eq!(none["items"], json!([]), "nothing before a scan");

    let (status, started) = send(server.req(Method::POST, "/v1/duplicates/scans")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    let id = started["scan_id"].as_str().expect("scan_id").to_owned();
    let scan = finished_scan(&server, &id).await;
    assert_eq!(scan["status"], "completed", "{scan}");
    assert_eq!(scan["contacts_total"], 6);
    assert_eq!(scan["contacts_read"], 6);
    assert_eq!(scan["contacts_named"], 5, "Ann alone has no full name");
    assert_eq!(scan["groups"], 2);
    assert!(scan["finished_at"].is_string());

    let (_, page) = send(server.req(Method::GET, "/v1/duplicates?reason=similar_name")).await;
    let mut found: Vec<Vec<String>> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .inspect(|g| assert_eq!(g["reason"], "similar_name"))
        .map(group_ids)
        .collect();
    found.sort();
    let mut expected = vec![zoes, johns];
    expected.sort();
    assert_eq!(found, expected);
    let (_, all) = send(server.req(Method::GET, "/v1/duplicates")).await;
    assert_eq!(all["items"].as_array().expect("items").len(), 2);

    let (_, scans) = send(server.req(Method::GET, "/v1/duplicates/scans")).await;
    assert_eq!(scans["items"][0]["scan_id"], id.as_str());
    let (status, again) = send(server.req(Method::POST, "/v1/duplicates/scans")).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "a finished scan does not stop a new one"
    );
    assert_ne!(again["scan_id"], id.as_str());
    expect_problem(
        server.req(Method::GET, "/v1/duplicates/scans/not-a-scan"),
        StatusCode::NOT_FOUND,
    )
    .await;
}
