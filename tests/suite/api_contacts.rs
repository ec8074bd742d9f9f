//! Create, read, edit and delete one contact over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Server, contact, expect_problem, problem_fields, send};

#[tokio::test]
async fn create_assigns_a_messaging_id_and_returns_the_whole_contact() {
    let server = Server::start().await;
    let response = server
        .req(Method::POST, "/v1/contacts")
        .json(&json!({
            "external_id": "crm-1", "first_name": "Ann", "last_name": "Lee",
            "phone": "+12345678902", "email": "Ann@Example.COM", "country": "de",
            "timezone": "europe/berlin", "lists": [], "attributes": {},
            "consent": {"sms": "subscribed", "email": "unsubscribed"}
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let body: Value = response.json().await.expect("json");
    let id = body["messaging_id"].as_str().expect("messaging_id");
    assert_eq!(location, format!("/v1/contacts/{id}"));
    assert!(id.len() >= 20 && id.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(body["full_name"], "Ann Lee");
    assert_eq!(body["email"], "Ann@example.com");
    assert_eq!(body["country"], "DE");
    assert_eq!(body["timezone"], "Europe/Berlin");
    assert_eq!(
        body["consent"],
        json!({"sms": "subscribed", "whatsapp": "not_subscribed", "email": "unsubscribed"})
    );
    assert_eq!(body["lists"], json!([]));
    assert_eq!(body["attributes"], json!({}));
    assert_eq!(body["version"], 1);
    assert_eq!(body["created_at"], body["updated_at"]);

    let (status, fetched) = server.get(id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, body);
}

#[tokio::test]
async fn get_sends_the_version_as_etag_and_404s_unknown_ids() {
    let server = Server::start().await;
    let created = server.create(contact(1)).await;
    let id = created["messaging_id"].as_str().expect("id");
    let response = server
        .req(Method::GET, &format!("/v1/contacts/{id}"))
        .send()
        .await
        .expect("get");
    assert_eq!(response.headers()["etag"], "\"1\"");
    for unknown in ["01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-a-messaging-id"] {
        let body = expect_problem(
            server.req(Method::GET, &format!("/v1/contacts/{unknown}")),
            StatusCode::NOT_FOUND,
        )
        .await;
        assert!(body["detail"].as_str().expect("detail").contains(unknown));
    }
}

#[tokio::test]
async fn create_requires_external_id_and_a_phone_or_email() {
    let server = Server::start().await;
    let body = expect_problem(
        server
            .req(Method::POST, "/v1/contacts")
            .json(&json!({"first_name": "Ann"})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&body), ["external_id", "phone", "email"]);
    let body = expect_problem(
        server
            .req(Method::POST, "/v1/contacts")
            .json(&json!({"external_id": "  ", "email": "a@example.com"})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&body), ["external_id"]);
    server
        .create(json!({"external_id": "only-email", "email": "a@example.com"}))
        .await;
    server
        .create(json!({"external_id": "only-phone", "phone": "+447911123456"}))
        .await;
}

#[tokio::test]
async fn create_reports_every_invalid_field_at_once() {
    let server = Server::start().await;
    let body = expect_problem(
        server.req(Method::POST, "/v1/contacts").json(&json!({
            "external_id": "x", "phone": "+1 234 567 8902", "email": "not-an-email",
            "country": "Germany", "timezone": "Mars/Olympus", "first_name": "",
            "lists": ["vip"], "attributes": {"shoe_size": 42},
            "consent": {"sms": "not_subscribed", "whatsapp": "maybe"}
        })),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(
        problem_fields(&body),
        [
            "first_name",
            "phone",
            "email",
            "country",
            "timezone",
            "consent.sms",
            "consent.whatsapp",
            "lists[0]",
            "attributes.shoe_size"
        ]
    );
    let messages = body["errors"].to_string();
    assert!(messages.contains("E.164"), "{messages}");
    assert!(messages.contains("never recorded"), "{messages}");
    let (_, page) = server.list("").await;
    assert_eq!(page["items"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn phone_must_be_e164_and_valid_for_its_region() {
    let server = Server::start().await;
    for bad in [
        "12345678902",
        "+1 2345678902",
        "+10005550000",
        "+4412",
        "+999123456789",
        "phone",
    ] {
        let body = expect_problem(
            server
                .req(Method::POST, "/v1/contacts")
                .json(&json!({"external_id": "x", "phone": bad})),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(problem_fields(&body), ["phone"], "{bad}");
    }
    let created = server
        .create(json!({"external_id": "x", "phone": " +4915112345678 "}))
        .await;
    assert_eq!(created["phone"], "+4915112345678");
}

#[tokio::test]
async fn duplicate_external_id_is_409_naming_the_holder() {
    let server = Server::start().await;
    let first = server.create(contact(1)).await;
    let mut second = contact(2);
    second["external_id"] = json!(" crm-1 ");
    let body = expect_problem(
        server.req(Method::POST, "/v1/contacts").json(&second),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(body["messaging_id"], first["messaging_id"]);
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains(first["messaging_id"].as_str().expect("id"))
    );
    let (_, usage) = send(server.req(Method::GET, "/v1/contacts/usage")).await;
    assert_eq!(usage["count"], 1);
}

#[tokio::test]
async fn patch_edits_clears_and_bumps_the_version() {
    let server = Server::start().await;
    let created = server.create(contact(1)).await;
    let id = created["messaging_id"].as_str().expect("id");
    let response = server
        .req(Method::PATCH, &format!("/v1/contacts/{id}"))
        .json(&json!({"first_name": "Anna", "last_name": null, "email": null, "country": "us", "external_id": "crm-new"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let edited: Value = response.json().await.expect("json");
    assert_eq!(edited["first_name"], "Anna");
    assert_eq!(edited["last_name"], Value::Null);
    assert_eq!(edited["full_name"], "Anna");
    assert_eq!(edited["email"], Value::Null);
    assert_eq!(
        edited["phone"], created["phone"],
        "absent fields are unchanged"
    );
    assert_eq!(edited["country"], "US");
    assert_eq!(edited["external_id"], "crm-new");
    assert_eq!(edited["messaging_id"], created["messaging_id"]);
    assert_eq!(edited["created_at"], created["created_at"]);
    assert_eq!(edited["version"], 2);
    assert_eq!(server.get(id).await.1, edited);
}

#[tokio::test]
async fn patch_refuses_what_would_break_a_rule_and_changes_nothing() {
    let server = Server::start().await;
    let other = server.create(contact(2)).await;
    let created = server.create(contact(1)).await;
    let id = created["messaging_id"].as_str().expect("id");
    let path = format!("/v1/contacts/{id}");
    let cases = [
        (
            json!({"phone": null, "email": null}),
            StatusCode::BAD_REQUEST,
            vec!["phone", "email"],
        ),
        (
            json!({"external_id": null}),
            StatusCode::BAD_REQUEST,
            vec!["external_id"],
        ),
        (
            json!({"phone": "555-1234", "timezone": "Nowhere"}),
            StatusCode::BAD_REQUEST,
            vec!["phone", "timezone"],
        ),
        (
            json!({"messaging_id": "x"}),
            StatusCode::BAD_REQUEST,
            vec!["messaging_id"],
        ),
        (
            json!({"attributes": {"tier": "gold"}}),
            StatusCode::BAD_REQUEST,
            vec!["attributes.tier"],
        ),
        (
            json!({"external_id": other["external_id"]}),
            StatusCode::CONFLICT,
            vec![],
        ),
    ];
    for (patch, status, fields) in cases {
        let body = expect_problem(server.req(Method::PATCH, &path).json(&patch), status).await;
        assert_eq!(problem_fields(&body), fields, "{patch}");
    }
    assert_eq!(server.get(id).await.1, created, "the contact is unchanged");
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_loses_nothing() {
    let server = Server::start().await;
    let created = server.create(contact(1)).await;
    let id = created["messaging_id"].as_str().expect("id");
    let path = format!("/v1/contacts/{id}");
    // Two editors read version 1; the first saves, the second is refused.
    let (status, first) = send(
        server
            .req(Method::PATCH, &path)
            .header("If-Match", "\"1\"")
            .json(&json!({"first_name": "Editor1"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    expect_problem(
        server
            .req(Method::PATCH, &path)
            .header("If-Match", "\"1\"")
            .json(&json!({"last_name": "Editor2"})),
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(server.get(id).await.1, first, "the first edit survives");
    let (status, _) = send(
        server
            .req(Method::PATCH, &path)
            .header("If-Match", "W/\"2\"")
            .json(&json!({"last_name": "Editor2"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let body = expect_problem(
        server
            .req(Method::PATCH, &path)
            .header("If-Match", "two")
            .json(&json!({})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&body), ["If-Match"]);
}

#[tokio::test]
async fn concurrent_edits_without_if_match_are_all_kept() {
    let server = Server::start().await;
    let created = server.create(contact(1)).await;
    let id = created["messaging_id"].as_str().expect("id").to_owned();
    let edits = [
        json!({"first_name": "F"}),
        json!({"last_name": "L"}),
        json!({"country": "FR"}),
        json!({"timezone": "Europe/Paris"}),
    ];
    let tasks: Vec<_> = edits
        .iter()
        .map(|edit| {
            send(
                server
                    .req(Method::PATCH, &format!("/v1/contacts/{id}"))
                    .json(edit),
            )
        })
        .collect();
    for (status, body) in futures_join(tasks).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, now) = server.get(&id).await;
    assert_eq!(
        (
            &now["first_name"],
            &now["last_name"],
            &now["country"],
            &now["timezone"],
            &now["version"]
        ),
        (
            &json!("F"),
            &json!("L"),
            &json!("FR"),
            &json!("Europe/Paris"),
            &json!(5)
        )
    );
}

async fn futures_join<F: Future<Output = T> + Send + 'static, T: Send + 'static>(
    futures: Vec<F>,
) -> Vec<T> {
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn delete_is_permanent() {
    let server = Server::start().await;
    let created = server.create(contact(1)).await;
    let id = created["messaging_id"].as_str().expect("id");
    let path = format!("/v1/contacts/{id}");
    let (status, body) = send(server.req(Method::DELETE, &path)).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    expect_problem(server.req(Method::GET, &path), StatusCode::NOT_FOUND).await;
    expect_problem(server.req(Method::DELETE, &path), StatusCode::NOT_FOUND).await;
    expect_problem(
        server
            .req(Method::PATCH, &path)
            .json(&json!({"first_name": "x"})),
        StatusCode::NOT_FOUND,
    )
    .await;
    let (_, usage) = send(server.req(Method::GET, "/v1/contacts/usage")).await;
    assert_eq!(usage["count"], 0);
    server.create(contact(1)).await;
}

#[tokio::test]
async fn usage_counts_contacts_and_the_limit_stops_creation() {
    let server = Server::start_with(Some(2), tempfile::TempDir::new().expect("dir")).await;
    server.create(contact(1)).await;
    server.create(contact(2)).await;
    let body = expect_problem(
        server.req(Method::POST, "/v1/contacts").json(&contact(3)),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(body["detail"].as_str().expect("detail").contains('2'));
    let (status, usage) = send(server.req(Method::GET, "/v1/contacts/usage")).await;
    assert_eq!(
        (status, usage),
        (StatusCode::OK, json!({"count": 2, "limit": 2}))
    );
}
