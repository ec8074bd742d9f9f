//! The audit trail over HTTP: every change, by whom, which fields; one
//! entry per import; a contact's entries in its personal-data document.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api_imports::import;
use crate::support::{ALPHA, Server, contact, expect_problem, problem_fields, send};

/// Sends and expects a 2xx; the body.
async fn ok(server: &Server, method: Method, path: &str, body: Option<Value>) -> Value {
    let mut request = server.req(method, path);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let (status, body) = send(request).await;
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

/// The contact's personal-data document.
async fn personal_data(server: &Server, id: &str) -> Value {
    let path = format!("/v1/contacts/{id}/personal-data");
    ok(server, Method::GET, &path, None).await
}

/// Every entry `query` finds, `limit` at a time, oldest first.
async fn entries(server: &Server, query: &str, limit: usize) -> Vec<Value> {
    let mut found = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = ok(
            server,
            Method::GET,
            &format!("/v1/audit?limit={limit}{query}{cursor}"),
            None,
        )
        .await;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= limit);
        found.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    found.reverse();
    found
}

/// Each entry as `operation [fields]`.
fn summary(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| {
            let fields: Vec<&str> = e["fields"]
                .as_array()
                .expect("fields")
                .iter()
                .map(|f| f.as_str().expect("field"))
                .collect();
            format!("{} {fields:?}", e["operation"].as_str().expect("operation"))
        })
        .collect()
}

#[tokio::test]
async fn every_change_is_in_the_audit_trail_with_its_actor() {
    let server = Server::start().await;
    let id = server.create(contact(1)).await["messaging_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/v1/contacts/{id}");
    ok(
        &server,
        Method::PATCH,
        &path,
        Some(json!({"first_name": "Anna"})),
    )
    .await;
    let consent = json!({"sms": "subscribed"});
    ok(
        &server,
        Method::PUT,
        &format!("{path}/consent"),
        Some(consent),
    )
    .await;
    let list = ok(
        &server,
        Method::POST,
        "/v1/lists",
        Some(json!({"name": "VIP"})),
    )
    .await;
    let list = list["id"].as_str().expect("list id").to_owned();
    let members = json!({"messaging_ids": [id]});
    ok(
        &server,
        Method::POST,
        &format!("/v1/lists/{list}/contacts"),
        Some(members),
    )
    .await;
    let member = format!("/v1/lists/{list}/contacts/{id}");
    ok(&server, Method::DELETE, &member, None).await;
    let renamed = json!({"name": "Gold"});
    ok(
        &server,
        Method::PATCH,
        &format!("/v1/lists/{list}"),
        Some(renamed),
    )
    .await;
    ok(&server, Method::DELETE, &format!("/v1/lists/{list}"), None).await;
    let plan = json!({"name": "plan", "label": "Plan", "type": "text"});
    ok(&server, Method::POST, "/v1/attributes", Some(plan)).await;
    let relabel = json!({"label": "Pricing plan"});
    ok(&server, Method::PATCH, "/v1/attributes/plan", Some(relabel)).await;
    let edit = json!({"attributes": {"plan": "pro"}});
    ok(&server, Method::PATCH, &path, Some(edit)).await;
    let columns = json!({"columns": ["first_name", "email"]});
    ok(&server, Method::PUT, "/v1/settings/columns", Some(columns)).await;
    let complaint = json!({"email": "complaint@example.com"});
    let suppression = ok(&server, Method::POST, "/v1/suppressions", Some(complaint)).await;
    let suppression = suppression["suppression_id"].as_str().expect("id");
    let lift = format!("/v1/suppressions/{suppression}");
    ok(&server, Method::DELETE, &lift, None).await;
    let csv = "Email,First Name\r\nbo@example.com,Bo\r\ncy@example.com,Cy\r\n";
    let imported = import(&server, json!({}), csv.as_bytes()).await;
    assert_eq!(imported["status"], "completed", "{imported}");
    ok(&server, Method::POST, &format!("{path}/erase"), None).await;

    let all = entries(&server, "", 4).await;
    assert_eq!(
        summary(&all),
        [
            r#"contact_created ["email", "external_id", "first_name", "last_name", "phone"]"#,
            r#"contact_updated ["first_name"]"#,
            r#"consent_changed ["consent.sms"]"#,
            r#"list_created ["name"]"#,
            r#"contact_updated ["lists"]"#,
            r#"contact_updated ["lists"]"#,
            r#"list_renamed ["name"]"#,
            r#"list_deleted []"#,
            r#"attribute_created ["name", "label", "type"]"#,
            r#"attribute_updated ["label"]"#,
            r#"contact_updated ["attributes.plan"]"#,
            r#"columns_saved ["columns"]"#,
            r#"suppression_created ["email"]"#,
            r#"suppression_lifted []"#,
            r#"import_finished []"#,
            r#"contact_erased ["attributes.plan", "consent.sms", "email", "external_id", "first_name", "last_name", "phone"]"#,
        ]
    );
    let actor = contacts::http::auth::token_actor(ALPHA);
    for entry in &all {
        assert_eq!(entry["actor"], actor.as_str(), "{entry}");
        assert!(entry["expires_at"].as_str() > entry["at"].as_str());
    }
    assert_eq!(all[3]["target"], list.as_str());
    assert_eq!(all[8]["target"], "plan");
    assert_eq!(all[12]["target"], suppression);
    let import_entry = &all[14];
    assert_eq!(import_entry["target"], imported["import_id"]);
    assert_eq!(import_entry["counts"]["created"], 2, "{import_entry}");
    assert!(
        !all.iter()
            .any(|e| e.to_string().contains("Anna") || e.to_string().contains("ann1@example.com")),
        "names of fields only, never values"
    );

    let of_contact = entries(&server, &format!("&contact={id}"), 50).await;
    assert_eq!(of_contact.len(), 7, "{of_contact:?}");
    assert!(of_contact.iter().all(|e| e["messaging_id"] == id.as_str()));

    let future = "&since=2099-01-01T00:00:00Z";
    assert!(entries(&server, future, 50).await.is_empty());
    let first_at = all[0]["at"].as_str().expect("at");
    let since = entries(&server, &format!("&since={first_at}"), 50).await;
    assert_eq!(since.len(), all.len());
}

#[tokio::test]
async fn bad_audit_parameters_are_named() {
    let server = Server::start().await;
    let problem = expect_problem(
        server.req(
            Method::GET,
            "/v1/audit?contact=nope&since=yesterday&colour=red",
        ),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(problem_fields(&problem), ["contact", "since", "colour"]);
}

#[tokio::test]
async fn the_personal_data_document_holds_the_contacts_audit_entries() {
    let server = Server::start().await;
    let id = server.create(contact(1)).await["messaging_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let edit = json!({"last_name": "Lee-Park"});
    ok(
        &server,
        Method::PATCH,
        &format!("/v1/contacts/{id}"),
        Some(edit),
    )
    .await;
    let document = personal_data(&server, &id).await;
    let audit = document["audit"].as_array().expect("audit");
    let mut oldest_first = audit.clone();
    oldest_first.reverse();
    assert_eq!(
        summary(&oldest_first),
        [
            r#"contact_created ["email", "external_id", "first_name", "last_name", "phone"]"#,
            r#"contact_updated ["last_name"]"#,
        ]
    );
}

#[tokio::test]
async fn the_personal_data_document_names_the_imports_that_created_and_changed_the_contact() {
    let server = Server::start().await;
    let created = import(
        &server,
        json!({}),
        b"External ID,First Name,Email\r\ncrm-7,Ann,ann@example.com\r\n",
    )
    .await;
    assert_eq!(created["counts"]["created"], 1, "{created}");
    let settings = json!({"update_existing": {"match_by": "external_id"}});
    let changed = import(
        &server,
        settings,
        b"External ID,Last Name,Email\r\ncrm-7,Lee,ann@example.com\r\n",
    )
    .await;
    assert_eq!(changed["counts"]["updated"], 1, "{changed}");
    let listed = ok(&server, Method::GET, "/v1/contacts", None).await;
    let id = listed["items"][0]["messaging_id"].as_str().expect("id");
    let document = personal_data(&server, id).await;
    let imports: Vec<&Value> = document["imports"]
        .as_array()
        .expect("imports")
        .iter()
        .map(|i| &i["import_id"])
        .collect();
    assert_eq!(imports, [&created["import_id"], &changed["import_id"]]);
}
