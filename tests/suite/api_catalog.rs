//! Custom attributes, contact lists and saved columns over HTTP.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{BETA, Server, contact, expect_problem, external_ids, problem_fields, send};

async fn ok(server: &Server, method: Method, path: &str, body: Option<Value>) -> Value {
    let mut request = server.req(method.clone(), path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let (status, body) = send(request).await;
    assert!(status.is_success(), "{method} {path}: {status} {body}");
    body
}

async fn define(server: &Server, name: &str, kind: &str) {
    ok(
        server,
        Method::POST,
        "/v1/attributes",
        Some(json!({"name": name, "label": name, "type": kind})),
    )
    .await;
}

async fn new_list(server: &Server, name: &str) -> String {
    let body = ok(
        server,
        Method::POST,
        "/v1/lists",
        Some(json!({"name": name})),
    )
    .await;
    body["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn attributes_are_defined_typed_and_validated() {
    let server = Server::start().await;
    let created = ok(
        &server,
        Method::POST,
        "/v1/attributes",
        Some(json!({"name": "tier", "label": "Loyalty tier", "type": "text"})),
    )
    .await;
    assert_eq!(
        created,
        json!({"name": "tier", "label": "Loyalty tier", "type": "text", "read_only": false})
    );
    define(&server, "score", "number").await;
    let all = ok(&server, Method::GET, "/v1/attributes", None).await;
    let all = all.as_array().expect("array");
    assert!(
        all.iter()
            .any(|a| a["name"] == "email" && a["read_only"] == true)
    );
    assert!(
        all.iter()
            .any(|a| a["name"] == "score" && a["type"] == "number" && a["read_only"] == false)
    );

    let cases = [
        (
            json!({"name": "tier", "type": "text"}),
            StatusCode::CONFLICT,
            vec![],
        ),
        (
            json!({"name": "email", "type": "text"}),
            StatusCode::BAD_REQUEST,
            vec!["name"],
        ),
        (
            json!({"name": "Shoe Size", "type": "number"}),
            StatusCode::BAD_REQUEST,
            vec!["name"],
        ),
        (
            json!({"name": "shoe"}),
            StatusCode::BAD_REQUEST,
            vec!["type"],
        ),
        (
            json!({"name": "shoe", "type": "integer"}),
            StatusCode::BAD_REQUEST,
            vec!["type"],
        ),
        (
            json!({"type": "text"}),
            StatusCode::BAD_REQUEST,
            vec!["name"],
        ),
    ];
    for (body, status, fields) in cases {
        let problem = expect_problem(
            server.req(Method::POST, "/v1/attributes").json(&body),
            status,
        )
        .await;
        assert_eq!(problem_fields(&problem), fields, "{body}");
    }
    let relabelled = ok(
        &server,
        Method::PATCH,
        "/v1/attributes/tier",
        Some(json!({"label": "Tier"})),
    )
    .await;
    assert_eq!(relabelled["label"], "Tier");
    expect_problem(
        server
            .req(Method::PATCH, "/v1/attributes/nope")
            .json(&json!({"label": "x"})),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_problem(
        server
            .req(Method::PATCH, "/v1/attributes/email")
            .json(&json!({"label": "x"})),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn contacts_carry_typed_custom_values() {
    let server = Server::start().await;
    define(&server, "tier", "text").await;
    define(&server, "score", "number").await;
    define(&server, "vip", "boolean").await;
    define(&server, "since", "date").await;
    define(&server, "seen_at", "datetime").await;
    let mut body = contact(1);
    body["attributes"] = json!({"tier": "Gold", "score": 12.5, "vip": true, "since": "2026-01-31", "seen_at": "2026-11-25T09:00:00+01:00"});
    let created = server.create(body).await;
    assert_eq!(
        created["attributes"],
        json!({"tier": "Gold", "score": 12.5, "vip": true, "since": "2026-01-31", "seen_at": "2026-11-25T08:00:00.000000Z"})
    );
    let id = created["messaging_id"].as_str().expect("id");

    let mut bad = contact(2);
    bad["attributes"] = json!({"score": "lots", "vip": "yes", "since": "31/01/2026", "shoe": 42});
    let problem = expect_problem(
        server.req(Method::POST, "/v1/contacts").json(&bad),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let mut fields = problem_fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        [
            "attributes.score",
            "attributes.shoe",
            "attributes.since",
            "attributes.vip"
        ]
    );

    let edited = ok(
        &server,
        Method::PATCH,
        &format!("/v1/contacts/{id}"),
        Some(json!({"attributes": {"score": null, "tier": "Silver"}})),
    )
    .await;
    assert_eq!(
        edited["attributes"],
        json!({"tier": "Silver", "vip": true, "since": "2026-01-31", "seen_at": "2026-11-25T08:00:00.000000Z"})
    );

    // A type change is refused while values exist, allowed when none do.
    expect_problem(
        server
            .req(Method::PATCH, "/v1/attributes/tier")
            .json(&json!({"type": "number"})),
        StatusCode::CONFLICT,
    )
    .await;
    let changed = ok(
        &server,
        Method::PATCH,
        "/v1/attributes/score",
        Some(json!({"type": "date"})),
    )
    .await;
    assert_eq!(changed["type"], "date");

    // A deleted attribute disappears from contacts; a new one of the same name starts empty.
    let (status, _) = send(server.req(Method::DELETE, "/v1/attributes/tier")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    expect_problem(
        server.req(Method::DELETE, "/v1/attributes/tier"),
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(server.get(id).await.1["attributes"].get("tier").is_none());
    define(&server, "tier", "number").await;
    assert!(server.get(id).await.1["attributes"].get("tier").is_none());
    let (_, page) = server.list("attr.tier[gt]=0").await;
    assert_eq!(external_ids(&page), Vec::<String>::new());
}

#[tokio::test]
async fn custom_attributes_filter_and_choose_columns() {
    let server = Server::start().await;
    define(&server, "tier", "text").await;
    define(&server, "score", "number").await;
    define(&server, "vip", "boolean").await;
    define(&server, "since", "date").await;
    for (n, tier, score, vip, since) in [
        (1, "Gold", 5, true, "2025-06-01"),
        (2, "silver", 10, false, "2026-01-01"),
        (3, "Golden", 50, true, "2026-03-01"),
    ] {
        let mut body = contact(n);
        body["attributes"] = json!({"tier": tier, "score": score, "vip": vip, "since": since});
        server.create(body).await;
    }
    server.create(contact(4)).await;
    let cases = [
        ("attr.score[gt]=9", vec!["crm-3", "crm-2"]),
        ("attr.score[lt]=10", vec!["crm-1"]),
        ("attr.score=10", vec!["crm-2"]),
        ("attr.score[eq]=50", vec!["crm-3"]),
        ("attr.tier=GOL", vec!["crm-3", "crm-1"]),
        ("attr.vip=true", vec!["crm-3", "crm-1"]),
        ("attr.since[gt]=2025-12-31&attr.vip=false", vec!["crm-2"]),
    ];
    for (query, expected) in cases {
        let (status, page) = server.list(query).await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert_eq!(external_ids(&page), expected, "{query}");
    }
    let (_, page) = server.list("columns=tier,phone&attr.score[gt]=40").await;
    let item = &page["items"][0];
    assert_eq!(item["attributes"], json!({"tier": "Golden"}));
    assert!(item.get("email").is_none());
    for (query, field) in [
        ("attr.score[gt]=many", "attr.score[gt]"),
        ("attr.vip[gt]=true", "attr.vip[gt]"),
        ("attr.tier[lt]=b", "attr.tier[lt]"),
        ("attr.shoe=1", "attr.shoe"),
        ("columns=shoe", "columns"),
    ] {
        let problem = expect_problem(
            server.req(Method::GET, &format!("/v1/contacts?{query}")),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(problem_fields(&problem), [field], "{query}");
    }
}

#[tokio::test]
async fn lists_hold_members_without_owning_them() {
    let server = Server::start().await;
    let vip = new_list(&server, "VIP").await;
    let news = new_list(&server, "Newsletter").await;
    expect_problem(
        server
            .req(Method::POST, "/v1/lists")
            .json(&json!({"name": "vip"})),
        StatusCode::CONFLICT,
    )
    .await;
    let problem = expect_problem(
        server
            .req(Method::POST, "/v1/lists")
            .json(&json!({"name": " "})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&problem), ["name"]);

    let mut first = contact(1);
    first["lists"] = json!([vip]);
    let a = server.create(first).await;
    assert_eq!(a["lists"], json!([vip]));
    let b = server.create(contact(2)).await;
    let c = server.create(contact(3)).await;
    let id = |v: &Value| v["messaging_id"].as_str().expect("id").to_owned();

    let added = ok(
        &server,
        Method::POST,
        &format!("/v1/lists/{vip}/contacts"),
        Some(json!({"messaging_ids": [id(&b), id(&a), "01ARZ3NDEKTSV4RRFFQ69G5FAV", "bogus"]})),
    )
    .await;
    assert_eq!(added["added"], json!([id(&b), id(&a)]));
    assert_eq!(
        added["not_found"],
        json!(["01ARZ3NDEKTSV4RRFFQ69G5FAV", "bogus"])
    );
    ok(
        &server,
        Method::POST,
        &format!("/v1/lists/{news}/contacts"),
        Some(json!({"messaging_ids": [id(&c)]})),
    )
    .await;

    let listed = ok(&server, Method::GET, &format!("/v1/lists/{vip}"), None).await;
    assert_eq!(
        (listed["name"].clone(), listed["member_count"].clone()),
        (json!("VIP"), json!(2))
    );
    let members = ok(
        &server,
        Method::GET,
        &format!("/v1/lists/{vip}/contacts?limit=1"),
        None,
    )
    .await;
    assert_eq!(external_ids(&members), ["crm-2"]);
    assert!(members["next_cursor"].is_string());
    let filtered = ok(
        &server,
        Method::GET,
        &format!("/v1/lists/{vip}/contacts?last_name=lee1"),
        None,
    )
    .await;
    assert_eq!(external_ids(&filtered), ["crm-1"]);
    let (_, page) = server.list(&format!("list={vip}")).await;
    assert_eq!(external_ids(&page), ["crm-2", "crm-1"]);
    let tab = ok(
        &server,
        Method::GET,
        &format!("/v1/contacts/{}/lists", id(&a)),
        None,
    )
    .await;
    assert_eq!(tab, json!([{"id": vip, "name": "VIP"}]));
    let none = ok(
        &server,
        Method::GET,
        &format!("/v1/contacts/{}/lists", id(&c)),
        None,
    )
    .await;
    assert_eq!(none, json!([{"id": news, "name": "Newsletter"}]));

    let (status, _) = send(server.req(
        Method::DELETE,
        &format!("/v1/lists/{vip}/contacts/{}", id(&a)),
    ))
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(server.get(&id(&a)).await.1["lists"], json!([]));
    let empty = ok(
        &server,
        Method::GET,
        &format!("/v1/contacts/{}/lists", id(&a)),
        None,
    )
    .await;
    assert_eq!(empty, json!([]));
    let renamed = ok(
        &server,
        Method::PATCH,
        &format!("/v1/lists/{vip}"),
        Some(json!({"name": "Very important"})),
    )
    .await;
    assert_eq!(renamed["member_count"], 1);
    let all = ok(&server, Method::GET, "/v1/lists", None).await;
    assert_eq!(
        all.as_array()
            .map(|a| a.iter().map(|l| l["name"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("Newsletter"), json!("Very important")])
    );

    // Deleting a list keeps its contacts; deleting a contact leaves the list.
    let (status, _) = send(server.req(Method::DELETE, &format!("/v1/lists/{vip}"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(server.get(&id(&b)).await.1["lists"], json!([]));
    let problem = expect_problem(
        server.req(Method::GET, &format!("/v1/contacts?list={vip}")),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&problem), ["list"]);
    let (_, usage) = send(server.req(Method::GET, "/v1/contacts/usage")).await;
    assert_eq!(usage["count"], 3);
    send(server.req(Method::DELETE, &format!("/v1/contacts/{}", id(&c)))).await;
    assert_eq!(
        ok(&server, Method::GET, &format!("/v1/lists/{news}"), None).await["member_count"],
        0
    );

    for (method, path) in [
        (Method::GET, format!("/v1/lists/{vip}")),
        (Method::PATCH, format!("/v1/lists/{vip}")),
        (Method::DELETE, format!("/v1/lists/{vip}")),
        (Method::GET, format!("/v1/lists/{vip}/contacts")),
        (Method::POST, format!("/v1/lists/{vip}/contacts")),
        (Method::GET, "/v1/lists/not-a-list".to_owned()),
    ] {
        let body = match method {
            Method::PATCH => json!({"name": "x"}),
            _ => json!({"messaging_ids": []}),
        };
        expect_problem(server.req(method, &path).json(&body), StatusCode::NOT_FOUND).await;
    }
    let mut unknown = contact(9);
    unknown["lists"] = json!([vip]);
    let problem = expect_problem(
        server.req(Method::POST, "/v1/contacts").json(&unknown),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&problem), ["lists[0]"]);
}

#[tokio::test]
async fn workspaces_keep_their_own_catalog() {
    let server = Server::start().await;
    let list = new_list(&server, "VIP").await;
    define(&server, "tier", "text").await;
    let beta = |method: Method, path: &str| server.as_token(BETA, method, path);
    expect_problem(
        beta(Method::GET, &format!("/v1/lists/{list}")),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_problem(
        beta(Method::DELETE, &format!("/v1/lists/{list}")),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_problem(
        beta(Method::PATCH, "/v1/attributes/tier").json(&json!({"label": "x"})),
        StatusCode::NOT_FOUND,
    )
    .await;
    let (status, lists) = send(beta(Method::GET, "/v1/lists")).await;
    assert_eq!((status, lists), (StatusCode::OK, json!([])));
    let mut body = contact(1);
    body["lists"] = json!([list]);
    let problem = expect_problem(
        beta(Method::POST, "/v1/contacts").json(&body),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&problem), ["lists[0]"]);
    let (status, _) = send(beta(Method::POST, "/v1/lists").json(&json!({"name": "VIP"}))).await;
    assert_eq!(status, StatusCode::CREATED, "names are per workspace");
}

#[tokio::test]
async fn table_columns_are_saved_and_validated() {
    let server = Server::start().await;
    let defaults = ok(&server, Method::GET, "/v1/settings/columns", None).await;
    assert_eq!(
        defaults["columns"],
        json!([
            "full_name",
            "phone",
            "email",
            "country",
            "sms_consent",
            "whatsapp_consent",
            "email_consent",
            "created_at"
        ])
    );
    define(&server, "tier", "text").await;
    let saved = ok(
        &server,
        Method::PUT,
        "/v1/settings/columns",
        Some(json!({"columns": ["email", "tier", "full_name"]})),
    )
    .await;
    assert_eq!(saved["columns"], json!(["email", "tier", "full_name"]));
    assert_eq!(
        ok(&server, Method::GET, "/v1/settings/columns", None).await,
        saved
    );
    for (columns, fields) in [
        (json!(["email", "shoe"]), vec!["columns[1]"]),
        (json!(["email", "email"]), vec!["columns[1]"]),
        (json!([]), vec!["columns"]),
    ] {
        let problem = expect_problem(
            server
                .req(Method::PUT, "/v1/settings/columns")
                .json(&json!({"columns": columns})),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(problem_fields(&problem), fields, "{columns}");
    }
    send(server.req(Method::DELETE, "/v1/attributes/tier")).await;
    let after = ok(&server, Method::GET, "/v1/settings/columns", None).await;
    assert_eq!(after["columns"], json!(["email", "full_name"]));
    let (_, other) = send(server.as_token(BETA, Method::GET, "/v1/settings/columns")).await;
    assert_eq!(other, defaults);
}
