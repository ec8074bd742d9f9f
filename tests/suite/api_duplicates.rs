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
