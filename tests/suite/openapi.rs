//! The OpenAPI document is served and covers every route.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::Server;

#[tokio::test]
async fn the_document_lists_every_operation_with_its_schemas() {
    let server = Server::start().await;
    let response = reqwest::get(server.url("/openapi.json"))
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let operations = [
        ("/v1/contacts", "post"),
        ("/v1/contacts", "get"),
        ("/v1/contacts/usage", "get"),
        ("/v1/contacts/{messaging_id}", "get"),
        ("/v1/contacts/{messaging_id}", "patch"),
        ("/v1/contacts/{messaging_id}", "delete"),
        ("/v1/contacts/{messaging_id}/consent", "put"),
        ("/v1/contacts/{messaging_id}/consent-history", "get"),
        ("/v1/contacts/{messaging_id}/lists", "get"),
        ("/v1/contacts/{messaging_id}/merge", "post"),
        ("/v1/duplicates", "get"),
        ("/v1/duplicates/dismiss", "post"),
        ("/v1/duplicates/scans", "post"),
        ("/v1/duplicates/scans", "get"),
        ("/v1/duplicates/scans/{scan_id}", "get"),
        ("/v1/contacts/{messaging_id}/erase", "post"),
        ("/v1/contacts/{messaging_id}/personal-data", "get"),
        ("/v1/suppressions", "post"),
        ("/v1/suppressions", "get"),
        ("/v1/suppressions/{suppression_id}", "delete"),
        ("/v1/audit", "get"),
        ("/v1/attributes", "get"),
        ("/v1/attributes", "post"),
        ("/v1/attributes/{name}", "patch"),
        ("/v1/attributes/{name}", "delete"),
        ("/v1/lists", "get"),
        ("/v1/lists", "post"),
        ("/v1/lists/{id}", "get"),
        ("/v1/lists/{id}", "patch"),
        ("/v1/lists/{id}", "delete"),
        ("/v1/lists/{id}/contacts", "get"),
        ("/v1/lists/{id}/contacts", "post"),
        ("/v1/lists/{id}/contacts/{messaging_id}", "delete"),
        ("/v1/settings/columns", "get"),
        ("/v1/settings/columns", "put"),
        ("/v1/imports", "post"),
        ("/v1/imports", "get"),
        ("/v1/imports/{import_id}", "get"),
        ("/v1/imports/preview", "post"),
        ("/v1/imports/template", "get"),
        ("/v1/exports", "post"),
        ("/v1/exports", "get"),
        ("/v1/exports/{export_id}", "get"),
    ];
    for (path, method) in operations {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is documented"
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|p| p.as_object().map_or(0, |o| o.len()))
        .sum();
    assert_eq!(
        documented,
        operations.len(),
        "no undocumented or stale operation"
    );
    for schema in [
        "ContactBody",
        "CreateContactRequest",
        "EditContactRequest",
        "ConsentRequest",
        "Problem",
        "ContactPage",
        "UsageBody",
        "ImportSettings",
        "ImportBody",
        "CreatedImport",
        "Preview",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

/// Every operation has an `operationId` (what a client generator names its
/// method after), unique in the document and shaped like a method name.
#[tokio::test]
async fn every_operation_has_its_own_operation_id() {
    let server = Server::start().await;
    let doc = document(&server).await;
    let mut ids = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(
                id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{method} {path}: {id:?} is not a method name"
            );
            ids.push(id.to_owned());
        }
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operationIds repeat: {ids:?}");
}

/// Each create response links to the operations that take the ID it
/// returns (what a stateful client or fuzzer follows), and every link names
/// an operation of the document and a path parameter that operation has.
#[tokio::test]
async fn create_responses_link_to_the_operations_that_take_their_ids() {
    let server = Server::start().await;
    let doc = document(&server).await;
    let mut operations = std::collections::HashMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let id = operation["operationId"].as_str().expect("operationId");
            operations.insert(
                id.to_owned(),
                (path.clone(), method.clone(), operation.clone()),
            );
        }
    }
    let expected = [
        (
            "createContact",
            "messaging_id",
            &[
                "getContact",
                "editContact",
                "deleteContact",
                "setConsent",
                "getConsentHistory",
                "getContactLists",
            ][..],
        ),
        (
            "createList",
            "id",
            &[
                "getList",
                "renameList",
                "deleteList",
                "listMembers",
                "addMembers",
                "removeMember",
            ][..],
        ),
        (
            "createAttribute",
            "name",
            &["editAttribute", "deleteAttribute"][..],
        ),
        ("createImport", "import_id", &["getImport"][..]),
    ];
    for (create, parameter, targets) in expected {
        let (_, _, operation) = &operations[create];
        let links = operation["responses"]["201"]["links"]
            .as_object()
            .unwrap_or_else(|| panic!("{create}'s 201 has no links"));
        let mut linked: Vec<&str> = links
            .values()
            .map(|link| link["operationId"].as_str().expect("operationId"))
            .collect();
        linked.sort_unstable();
        let mut wanted = targets.to_vec();
        wanted.sort_unstable();
        assert_eq!(linked, wanted, "{create}");
        for link in links.values() {
            let target = link["operationId"].as_str().expect("operationId");
            let (path, method, _) = operations
                .get(target)
                .unwrap_or_else(|| panic!("{create} links to {target}, which is not an operation"));
            assert!(
                path.contains(&format!("{{{parameter}}}")),
                "{method} {path} takes no {parameter}"
            );
            assert_eq!(
                link["parameters"][parameter],
                format!("$response.body#/{parameter}"),
                "{create} → {target}"
            );
        }
    }
}

/// The document the server serves.
async fn document(server: &Server) -> Value {
    reqwest::get(server.url("/openapi.json"))
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

/// Every string field of a request body states what its validator checks,
/// and the document's limits are the validators' own: a value at a
/// documented `maxLength` is accepted and one past it refused, every
/// documented enum value is accepted, the names an attribute may not take
/// are refused.
#[tokio::test]
async fn the_documented_constraints_are_the_validators() {
    use contacts::model::{
        AttributeLabel, AttributeName, AttributeType, Country, Email, ExternalId, ListName, Name,
        Timezone,
    };
    let server = Server::start().await;
    let doc = document(&server).await;
    let schemas = &doc["components"]["schemas"];
    let rule = |schema: &str, field: &str| schemas[schema]["properties"][field].clone();

    type Parse = fn(&str) -> bool;
    let texts: [(&str, &str, Parse); 9] = [
        ("CreateContactRequest", "external_id", |s| {
            ExternalId::parse(s).is_ok()
        }),
        ("CreateContactRequest", "first_name", |s| {
            Name::parse(s).is_ok()
        }),
        ("CreateContactRequest", "last_name", |s| {
            Name::parse(s).is_ok()
        }),
        ("EditContactRequest", "external_id", |s| {
            ExternalId::parse(s).is_ok()
        }),
        ("EditContactRequest", "first_name", |s| {
            Name::parse(s).is_ok()
        }),
        ("EditContactRequest", "last_name", |s| {
            Name::parse(s).is_ok()
        }),
        ("CreateAttributeRequest", "label", |s| {
            AttributeLabel::parse(s).is_ok()
        }),
        ("EditAttributeRequest", "label", |s| {
            AttributeLabel::parse(s).is_ok()
        }),
        ("ListNameRequest", "name", |s| ListName::parse(s).is_ok()),
    ];
    for (schema, field, parse) in texts {
        let rule = rule(schema, field);
        let max = rule["maxLength"]
            .as_u64()
            .unwrap_or_else(|| panic!("{schema}.{field} states no maxLength"))
            as usize;
        assert!(
            rule["pattern"].is_string(),
            "{schema}.{field} states no pattern"
        );
        assert!(
            parse(&"a".repeat(max)),
            "{schema}.{field}: {max} characters"
        );
        assert!(
            !parse(&"a".repeat(max + 1)),
            "{schema}.{field}: {} characters",
            max + 1
        );
    }

    let kinds = |schema: &str| -> Vec<String> {
        rule(schema, "type")["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema}.type states no enum"))
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    for schema in ["CreateAttributeRequest", "EditAttributeRequest"] {
        let documented = kinds(schema);
        assert_eq!(documented.len(), 5, "{schema}: every attribute type");
        for kind in &documented {
            assert!(AttributeType::parse(kind).is_ok(), "{kind}");
        }
    }
    let name = rule("CreateAttributeRequest", "name");
    assert_eq!(name["pattern"], AttributeName::PATTERN);
    for taken in name["not"]["enum"].as_array().expect("names not allowed") {
        let taken = taken.as_str().expect("a name");
        assert!(AttributeName::parse(taken).is_err(), "{taken} is refused");
    }
    assert!(AttributeName::parse("loyalty_tier").is_ok());

    for (field, list, parse) in [
        ("country", "enum", (|s| Country::parse(s).is_ok()) as Parse),
        ("timezone", "x-timezones", |s| Timezone::parse(s).is_ok()),
    ] {
        let values = rule("CreateContactRequest", field)[list].clone();
        let values = values.as_array().expect("a list");
        assert!(values.len() > 200, "{field}: {} values", values.len());
        for value in values.iter().filter_map(|v| v.as_str()) {
            assert!(parse(value), "{field} {value:?}");
        }
    }
    let timezone = rule("CreateContactRequest", "timezone");
    assert_eq!(timezone["pattern"], Timezone::PATTERN);
    let zone = regex_lite::Regex::new(Timezone::PATTERN).expect("a pattern");
    for name in timezone["x-timezones"].as_array().expect("names") {
        let name = name.as_str().expect("a name");
        assert!(zone.is_match(name), "{name} fits the documented pattern");
    }
    assert!(rule("CreateContactRequest", "phone")["pattern"].is_string());
    let email = rule("CreateContactRequest", "email");
    let max = email["maxLength"].as_u64().expect("email maxLength") as usize;
    // A 64-character local part, then labels of at most 61 up to `total`.
    let address = |total: usize| {
        let labels: String = "b"
            .repeat(60)
            .chars()
            .chain(['.'])
            .cycle()
            .take(total - 69)
            .collect();
        let labels = match labels.strip_suffix('.') {
            Some(rest) => format!("{rest}b"),
            None => labels,
        };
        format!("{}@{labels}.com", "a".repeat(64))
    };
    assert_eq!(address(max).chars().count(), max);
    assert!(
        Email::parse(&address(max)).is_ok(),
        "at the documented length"
    );
    assert!(
        Email::parse(&address(max + 1)).is_err(),
        "past the documented length"
    );
    assert_eq!(
        (
            &schemas["CreateContactRequest"]["if"],
            &schemas["CreateContactRequest"]["then"]
        ),
        (
            &serde_json::json!({"not": {"required": ["phone"]}}),
            &serde_json::json!({"required": ["email"]})
        ),
        "without a phone, an email"
    );

    // Every string property of a request body states a rule, but free text
    // with no limit of its own.
    let free = ["ImportSettings.timezone", "PreviewRequest.import_id"];
    for schema in [
        "CreateContactRequest",
        "EditContactRequest",
        "CreateAttributeRequest",
        "EditAttributeRequest",
        "ListNameRequest",
    ] {
        assert_eq!(
            schemas[schema]["additionalProperties"], false,
            "{schema} is closed"
        );
        for (field, property) in schemas[schema]["properties"].as_object().expect("fields") {
            let text = property["type"] == "string"
                || property["type"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "string"));
            let stated = ["maxLength", "pattern", "enum"]
                .iter()
                .any(|k| property.get(*k).is_some());
            assert!(
                !text || stated || free.contains(&format!("{schema}.{field}").as_str()),
                "{schema}.{field} is validated but states no rule"
            );
        }
    }
}

/// The listing documents each text search twice, by word starts and as
/// `[contains]`, each with the lengths the API enforces.
#[tokio::test]
async fn the_listing_documents_both_searches_with_their_lengths() {
    let server = Server::start().await;
    let doc = document(&server).await;
    let parameters = doc["paths"]["/v1/contacts"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .clone();
    for field in ["full_name", "first_name", "last_name", "email", "phone"] {
        for name in [field.to_owned(), format!("{field}[contains]")] {
            let parameter = parameters
                .iter()
                .find(|p| p["name"] == name.as_str())
                .unwrap_or_else(|| panic!("{name} is documented"));
            let description = parameter["description"].as_str().unwrap_or_default();
            let meaning = if name.ends_with("[contains]") {
                "anywhere"
            } else if field == "phone" {
                "last digits"
            } else {
                "starts a word"
            };
            assert!(description.contains(meaning), "{name}: {description}");
            let min = parameter["schema"]["minLength"]
                .as_u64()
                .expect("minLength");
            let max = parameter["schema"]["maxLength"]
                .as_u64()
                .expect("maxLength");
            let key = name.replace('[', "%5B").replace(']', "%5D");
            for (length, accepted) in [(min, true), (max, true), (max + 1, false)] {
                let value = "7".repeat(usize::try_from(length).expect("length"));
                let (status, body) = server.list(&format!("{key}={value}")).await;
                assert_eq!(status.is_success(), accepted, "{name} of {length}: {body}");
            }
        }
    }
}
