//! Privacy requests over HTTP: erase a contact and keep it erased,
//! suppress and lift.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Server, contact, expect_problem, problem_fields, send};

/// Erases `id`; the erasure's body.
async fn erase(server: &Server, id: &str) -> Value {
    let (status, body) = send(server.req(Method::POST, &format!("/v1/contacts/{id}/erase"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// A create of `body` refused as suppressed: the fields the problem names.
async fn refused(server: &Server, body: Value) -> (Vec<String>, Value) {
    let problem = expect_problem(
        server.req(Method::POST, "/v1/contacts").json(&body),
        StatusCode::CONFLICT,
    )
    .await;
    (problem_fields(&problem), problem)
}

#[tokio::test]
async fn an_erased_contact_stays_erased_until_its_suppression_is_lifted() {
    let server = Server::start().await;
    let mut ann = contact(1);
    ann["email"] = json!("Ann.Lee@Example.com");
    ann["phone"] = json!("+14155550101");
    let id = server.create(ann.clone()).await["messaging_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let erased = erase(&server, &id).await;
    assert_eq!(erased["messaging_id"], id.as_str());
    let fields: Vec<&str> = erased["suppression"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("field"))
        .collect();
    assert_eq!(fields, ["email", "phone", "external_id"]);
    assert_eq!(erased["suppression"]["reason"], "erased");
    assert!(erased["exports_expire_by"].is_string());
    assert!(
        !erased.to_string().to_lowercase().contains("ann.lee"),
        "no identifier is kept or shown: {erased}"
    );
    let (status, _) = send(server.req(Method::GET, &format!("/v1/contacts/{id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Erasing it again answers the same suppression.
    let again = erase(&server, &id).await;
    assert_eq!(
        again["suppression"]["suppression_id"],
        erased["suppression"]["suppression_id"]
    );

    // Each identifier alone brings the person back: refused, naming it.
    let mut by_email = contact(2);
    by_email["email"] = json!("ann.lee@example.COM");
    let (fields, problem) = refused(&server, by_email).await;
    assert_eq!(fields, ["email"]);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("erased on 2")),
        "{problem}"
    );
    let mut by_phone = contact(3);
    by_phone["phone"] = json!("+14155550101");
    assert_eq!(refused(&server, by_phone).await.0, ["phone"]);
    let mut by_external_id = contact(4);
    by_external_id["external_id"] = ann["external_id"].clone();
    assert_eq!(refused(&server, by_external_id).await.0, ["external_id"]);
    let other = server.create(contact(5)).await["messaging_id"]
        .as_str()
        .expect("id")
        .to_owned();
    // An edit bringing the erased email back is refused the same way.
    let problem = expect_problem(
        server
            .req(Method::PATCH, &format!("/v1/contacts/{other}"))
            .json(&json!({"email": "ANN.LEE@example.com"})),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(problem_fields(&problem), ["email"]);

    // Lifted: the person may come back.
    let suppression = erased["suppression"]["suppression_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _) =
        send(server.req(Method::DELETE, &format!("/v1/suppressions/{suppression}"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    server.create(ann).await;
    expect_problem(
        server.req(Method::DELETE, &format!("/v1/suppressions/{suppression}")),
        StatusCode::NOT_FOUND,
    )
    .await;
    expect_problem(
        server.req(Method::POST, &format!("/v1/contacts/{id}/erase")),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn identifiers_of_no_contact_are_suppressed_and_listed_without_them() {
    let server = Server::start().await;
    let (status, first) = send(
        server
            .req(Method::POST, "/v1/suppressions")
            .json(&json!({"email": "complaint@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["reason"], "requested");
    assert_eq!(
        first["fields"][0]["hash_prefix"].as_str().map(str::len),
        Some(8)
    );
    let (_, second) = send(
        server
            .req(Method::POST, "/v1/suppressions")
            .json(&json!({"phone": "+14155550199", "external_id": "crm-9"})),
    )
    .await;
    let mut body = contact(1);
    body["email"] = json!("Complaint@example.com");
    assert_eq!(refused(&server, body).await.0, ["email"]);

    let (status, page) = send(server.req(Method::GET, "/v1/suppressions?limit=1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"][0]["suppression_id"], second["suppression_id"]);
    let cursor = page["next_cursor"].as_str().expect("cursor").to_owned();
    let (_, rest) =
        send(server.req(Method::GET, &format!("/v1/suppressions?cursor={cursor}"))).await;
    assert_eq!(rest["items"][0]["suppression_id"], first["suppression_id"]);
    assert!(!page.to_string().contains("complaint"), "{page}");

    let problem = expect_problem(
        server
            .req(Method::POST, "/v1/suppressions")
            .json(&json!({"email": "not an email", "phone": "555"})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&problem), ["email", "phone"]);
    let problem = expect_problem(
        server
            .req(Method::POST, "/v1/suppressions")
            .json(&json!({})),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&problem), ["email"]);
}

#[tokio::test]
async fn an_import_refuses_rows_bringing_back_an_erased_person_into_its_error_csv() {
    let server = Server::start().await;
    let mut ann = contact(1);
    ann["email"] = json!("ann.lee@example.com");
    ann["phone"] = json!("+14155550101");
    let id = server.create(ann).await["messaging_id"]
        .as_str()
        .expect("id")
        .to_owned();
    erase(&server, &id).await;
    let csv = "External ID,Email,Phone Number,First Name\n\
        crm-9,ANN.LEE@example.com,,By email\n\
        crm-10,,+14155550101,By phone\n\
        crm-1,someone@example.com,,By External ID\n\
        crm-11,new@example.com,,New\n";
    let body = crate::api_imports::import(&server, json!({}), csv.as_bytes()).await;
    assert_eq!(body["status"], "completed", "{body}");
    assert_eq!(body["counts"]["created"], 1, "{body}");
    assert_eq!(body["counts"]["rejected"], 3, "{body}");
    assert_eq!(body["counts"]["suppressed"], 3, "{body}");
    let errors = crate::api_imports::error_csv(&body).await;
    let reasons: Vec<&str> = errors
        .lines()
        .skip(1)
        .map(|line| line.rsplit("\",\"").next().unwrap_or_default())
        .collect();
    assert_eq!(reasons.len(), 3, "{errors}");
    for (reason, field) in reasons.iter().zip(["email", "phone", "external_id"]) {
        assert!(
            reason.starts_with(&format!("{field}: erased on 2")),
            "{reason} names {field}: {errors}"
        );
    }
}

#[tokio::test]
async fn an_erasure_removes_the_person_s_rows_from_stored_error_csvs() {
    let server = Server::start().await;
    let csv = "External ID,Email,First Name\n\
        crm-1,ann@example.com,Ann\n\
        crm-2,ANN@example.com,Ann again\n\
        crm-3,bo@example.com,Bo\n\
        crm-4,bo@example.com,Bo again\n";
    let body = crate::api_imports::import(&server, json!({}), csv.as_bytes()).await;
    assert_eq!(body["counts"]["rejected"], 2, "{body}");
    let before = crate::api_imports::error_csv(&body).await;
    assert_eq!(before.lines().count(), 3, "{before}");
    let (_, page) = server.list("email=ann%40example.com").await;
    let id = page["items"][0]["messaging_id"]
        .as_str()
        .expect("Ann")
        .to_owned();
    let erased = erase(&server, &id).await;
    assert_eq!(erased["error_rows_removed"], 1, "{erased}");
    let (_, body) = send(server.req(
        Method::GET,
        &format!("/v1/imports/{}", body["import_id"].as_str().expect("id")),
    ))
    .await;
    let after = crate::api_imports::error_csv(&body).await;
    assert_eq!(after.lines().count(), 2, "{after}");
    assert!(!after.to_lowercase().contains("ann@example.com"), "{after}");
    assert!(after.contains("bo@example.com"), "{after}");
    assert_eq!(
        after.lines().next(),
        before.lines().next(),
        "the header stays"
    );
    // Erasing again finds nothing more to remove.
    assert_eq!(erase(&server, &id).await["error_rows_removed"], 0);
}

#[tokio::test]
async fn the_personal_data_document_holds_everything_on_the_contact() {
    let server = Server::start().await;
    let (_, list) = send(
        server
            .req(Method::POST, "/v1/lists")
            .json(&json!({"name": "VIP"})),
    )
    .await;
    let mut ann = contact(1);
    ann["lists"] = json!([list["id"]]);
    ann["consent"] = json!({"sms": "subscribed"});
    let id = server.create(ann).await["messaging_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _) = send(
        server
            .req(Method::PUT, &format!("/v1/contacts/{id}/consent"))
            .json(&json!({"email": "subscribed"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let csv = "External ID,Email,WhatsApp Consent\ncrm-1,ann1@example.com,unsubscribed\n";
    let imported = crate::api_imports::import(
        &server,
        json!({"update_existing": {"match_by": "external_id", "missing_attributes": "keep"}}),
        csv.as_bytes(),
    )
    .await;
    assert_eq!(imported["counts"]["updated"], 1, "{imported}");

    let response = server
        .req(Method::GET, &format!("/v1/contacts/{id}/personal-data"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"personal-data-{id}.json\"").as_str()
    );
    let document: Value = response.json().await.expect("JSON");
    assert_eq!(document["contact"]["messaging_id"], id.as_str());
    assert_eq!(document["contact"]["email"], "ann1@example.com");
    assert_eq!(document["lists"][0]["name"], "VIP");
    let sources: Vec<&str> = document["consent_history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|c| c["source"].as_str().expect("source"))
        .collect();
    let import = format!("import:{}", imported["import_id"].as_str().expect("id"));
    assert_eq!(sources, [import.as_str(), "api", "api"]);
    assert_eq!(document["imports"][0]["import_id"], imported["import_id"]);
    expect_problem(
        server.req(
            Method::GET,
            "/v1/contacts/01JDQ3V6Y8M6F3XG2W5T9K0ABC/personal-data",
        ),
        StatusCode::NOT_FOUND,
    )
    .await;
}
