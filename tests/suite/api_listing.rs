//! The contact table over HTTP: filters, columns, paging.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Server, contact, expect_problem, external_ids, problem_fields};

async fn seed(server: &Server) {
    let people = [
        json!({"external_id": "a", "first_name": "Alice", "last_name": "Smith", "email": "alice@alpha.example", "country": "DE", "consent": {"sms": "subscribed"}}),
        json!({"external_id": "b", "first_name": "Bob", "last_name": "O'Brien", "phone": "+447911123456", "country": "GB", "consent": {"whatsapp": "subscribed", "email": "unsubscribed"}}),
        json!({"external_id": "c", "first_name": "Carla", "last_name": "Großmann", "email": "carla@beta.example", "country": "DE", "consent": {"sms": "unsubscribed"}}),
        json!({"external_id": "d", "first_name": "Dan", "phone": "+12345678902", "email": "dan@alpha.example"}),
    ];
    for person in people {
        server.create(person).await;
    }
}

#[tokio::test]
async fn filters_combine_with_and() {
    let server = Server::start().await;
    seed(&server).await;
    let cases = [
        ("", vec!["d", "c", "b", "a"]),
        ("full_name=ice%20smi", vec![]),
        ("full_name%5Bcontains%5D=ice%20smi", vec!["a"]),
        ("full_name=al%20smi", vec!["a"]),
        ("full_name=smi%20al", vec!["a"]),
        ("last_name=gross", vec![]),
        ("first_name=CARL", vec!["c"]),
        ("first_name=AL", vec!["a"]),
        ("last_name=gro%C3%9F", vec!["c"]),
        ("last_name=o%27b", vec!["b"]),
        ("email=alpha", vec!["d", "a"]),
        ("phone=7911", vec!["b"]),
        ("phone=%2B44%207911", vec!["b"]),
        ("phone=07911", vec!["b"]),
        ("phone=3456", vec!["b"]),
        ("phone%5Bcontains%5D=1123", vec!["b"]),
        ("email=alpha.example", vec!["d", "a"]),
        ("email=lpha", vec![]),
        ("email%5Bcontains%5D=lpha", vec!["d", "a"]),
        ("country=de", vec!["c", "a"]),
        ("sms_consent=subscribed", vec!["a"]),
        ("sms_consent=not_subscribed", vec!["d", "b"]),
        ("whatsapp_consent=subscribed", vec!["b"]),
        ("email_consent=unsubscribed", vec!["b"]),
        ("country=DE&sms_consent=unsubscribed", vec!["c"]),
        ("email=example&country=DE&first_name=car", vec!["c"]),
        ("email=nobody", vec![]),
        ("email%5Beq%5D=DAN@Alpha.example", vec!["d"]),
        ("email[eq]=dan@alpha.exampl", vec![]),
        ("phone[eq]=%2B447911123456", vec!["b"]),
        ("phone[eq]=%2B447911123456&country=DE", vec![]),
    ];
    for (query, expected) in cases {
        let (status, page) = server.list(query).await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert_eq!(external_ids(&page), expected, "{query}");
    }
}

/// A name, a phone ending and an email domain that few contacts have are
/// all on the first page, however many newer contacts there are.
#[tokio::test]
async fn a_search_finds_the_few_on_the_first_page() {
    let server = Server::start().await;
    for i in 0..10 {
        server
            .create(
                json!({"external_id": format!("w{i}"), "first_name": "Wilhelmina",
                "last_name": "Quaresma", "email": format!("w{i}@quaresma-family.example"),
                "phone": format!("+1202555{:04}", 143 + i)}),
            )
            .await;
    }
    for i in 0..150 {
        server
            .create(json!({"external_id": format!("n{i}"), "first_name": "Ann",
                "last_name": format!("Lee{i}"), "email": format!("ann{i}@example.com")}))
            .await;
    }
    let quaresmas: Vec<String> = (0..10).rev().map(|i| format!("w{i}")).collect();
    for query in [
        "full_name=wilhelmina%20quaresma",
        "last_name=quaresma",
        "full_name=qua",
        "email=quaresma-family.example",
        "email=quaresma",
    ] {
        let (status, page) = server.list(&format!("{query}&limit=50")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert_eq!(external_ids(&page), quaresmas, "{query}");
    }
    let (_, page) = server.list("phone=0145").await;
    assert_eq!(external_ids(&page), ["w2"]);
    let (_, page) = server.list("full_name=ann%20lee1&limit=50").await;
    assert_eq!(
        external_ids(&page).len(),
        50,
        "a common name fills its page"
    );
}

#[tokio::test]
async fn columns_choose_fields_and_keep_the_messaging_id() {
    let server = Server::start().await;
    seed(&server).await;
    let (_, page) = server
        .list("columns=full_name,sms_consent,country&country=GB")
        .await;
    let item = &page["items"][0];
    let mut keys: Vec<&str> = item
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["consent", "country", "full_name", "messaging_id"]);
    assert_eq!(item["consent"], json!({"sms": "not_subscribed"}));
    assert_eq!(item["full_name"], "Bob O'Brien");
}

#[tokio::test]
async fn unknown_or_bad_parameters_are_named() {
    let server = Server::start().await;
    let cases = [
        ("nickname=x", vec!["nickname"]),
        ("columns=full_name,shoe_size", vec!["columns"]),
        ("columns=", vec!["columns"]),
        ("full_name=ab%00cd", vec!["full_name"]),
        ("email=ab%0Acd", vec!["email"]),
        ("limit=0", vec!["limit"]),
        ("limit=501", vec!["limit"]),
        ("limit=ten", vec!["limit"]),
        ("sms_consent=yes", vec!["sms_consent"]),
        ("country=Germany", vec!["country"]),
        ("cursor=not-a-cursor", vec!["cursor"]),
        ("email=a&email=b", vec!["email"]),
        ("email[eq]=not-an-email", vec!["email[eq]"]),
        ("phone[lt]=1", vec!["phone[lt]"]),
    ];
    for (query, fields) in cases {
        let body = expect_problem(
            server.req(Method::GET, &format!("/v1/contacts?{query}")),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(problem_fields(&body), fields, "{query}");
    }
}

#[tokio::test]
async fn pages_follow_cursors_to_the_end() {
    let server = Server::start().await;
    for n in 0..120 {
        server.create(contact(n)).await;
    }
    let (_, first) = server.list("").await;
    assert_eq!(
        first["items"].as_array().expect("items").len(),
        50,
        "the default limit is 50"
    );
    let mut seen = Vec::new();
    let mut query = "limit=7".to_owned();
    loop {
        let (status, page) = server.list(&query).await;
        assert_eq!(status, StatusCode::OK);
        seen.extend(external_ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("limit=7&cursor={cursor}"),
            None => break,
        }
    }
    let expected: Vec<String> = (0..120).rev().map(|n| format!("crm-{n}")).collect();
    assert_eq!(seen, expected);
    let (_, all) = server.list("limit=500").await;
    assert_eq!(all["items"].as_array().expect("items").len(), 120);
    assert_eq!(all["next_cursor"], Value::Null);
}
