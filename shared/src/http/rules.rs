//! What the validators check, stated on the OpenAPI document's request
//! schemas and path parameters: one table fed by the model's own limits and
//! patterns, so the document and the checks agree
//! (`tests/suite/openapi.rs` compares them field by field).

use serde_json::{Value, json};

use crate::model::{
    AttributeLabel, AttributeName, AttributeType, Column, DuplicateReason, Email, ExternalId,
    ListName, MAX_GROUP, MAX_LISTS_PER_CONTACT, MAX_MERGED, MergeField, Name, PhoneNumber,
    TEXT_PATTERN, Timezone, ULID_PATTERN,
};

/// Text as `clean_text` takes it: at most `max` characters as sent, not
/// blank, no control characters.
fn text(max: usize) -> Value {
    json!({"minLength": 1, "maxLength": max, "pattern": TEXT_PATTERN})
}

fn ulid() -> Value {
    json!({"pattern": ULID_PATTERN})
}

fn ulids(max: Option<usize>) -> Value {
    let mut rule = json!({"items": {"type": "string", "pattern": ULID_PATTERN}});
    if let Some(max) = max {
        rule["maxItems"] = json!(max);
    }
    rule
}

fn attribute_name() -> Value {
    let taken: Vec<&str> = Column::ALL
        .iter()
        .map(|c| c.name())
        .chain(AttributeName::RESERVED)
        .collect();
    json!({"pattern": AttributeName::PATTERN, "not": {"enum": taken}})
}

/// ISO 3166-1 alpha-2 codes (any case is accepted; these are the
/// canonical spelling).
fn countries() -> Value {
    let codes: Vec<&str> = isocountry::CountryCode::iter()
        .map(|code| code.alpha2())
        .collect();
    json!({"enum": codes})
}

/// IANA time zone names (any case is accepted): the format
/// `iana-timezone` and a pattern, with the names listed in `x-timezones`
/// rather than as an enum, whose values would make clashing identifiers in
/// generated clients (`GMT0`, `GMT+0`, `GMT-0`).
fn timezones() -> Value {
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    json!({"format": "iana-timezone", "pattern": Timezone::PATTERN, "x-timezones": names})
}

fn attribute_type() -> Value {
    json!({"enum": AttributeType::ALL.map(AttributeType::as_str)})
}

/// A column name: a generic column, or (the shape of) a custom attribute's.
fn column_names() -> Value {
    json!({"minItems": 1, "items": {"type": "string", "anyOf": [
        {"enum": Column::ALL.map(Column::name)},
        {"pattern": AttributeName::PATTERN},
    ]}})
}

/// The contacts a merge names: 1 to 9 distinct Messaging IDs.
fn merge_ids() -> Value {
    let mut rule = ulids(Some(MAX_MERGED));
    rule["minItems"] = json!(1);
    rule["uniqueItems"] = json!(true);
    rule
}

/// A dismissed group: 2 to 50 distinct Messaging IDs.
fn dismissed_ids() -> Value {
    let mut rule = ulids(Some(MAX_GROUP));
    rule["minItems"] = json!(2);
    rule["uniqueItems"] = json!(true);
    rule
}

/// A merge's choices: a field (generic, or a custom attribute's name) to
/// the Messaging ID of the contact it comes from.
fn merge_fields() -> Value {
    let generic: Vec<&str> = MergeField::GENERIC.iter().map(|(name, _)| *name).collect();
    json!({
        "propertyNames": {"type": "string", "anyOf": [
            {"enum": generic},
            {"pattern": AttributeName::PATTERN},
        ]},
        "additionalProperties": {"type": "string", "pattern": ULID_PATTERN},
    })
}

/// The constraints of each validated request field: schema, property,
/// constraints (merged into the property's schema).
pub fn fields() -> Vec<(&'static str, &'static str, Value)> {
    let contact = |schema: &'static str| {
        vec![
            (schema, "external_id", text(ExternalId::MAX_CHARS)),
            (schema, "first_name", text(Name::MAX_CHARS)),
            (schema, "last_name", text(Name::MAX_CHARS)),
            (schema, "phone", json!({"pattern": PhoneNumber::PATTERN})),
            (
                schema,
                "email",
                json!({"maxLength": Email::MAX_CHARS, "pattern": Email::PATTERN}),
            ),
            (schema, "country", countries()),
            (schema, "timezone", timezones()),
            (schema, "lists", ulids(Some(MAX_LISTS_PER_CONTACT))),
            (
                schema,
                "attributes",
                json!({"propertyNames": {"type": "string", "pattern": AttributeName::PATTERN}}),
            ),
        ]
    };
    let mut fields = contact("CreateContactRequest");
    fields.extend(contact("EditContactRequest"));
    fields.extend([
        ("CreateAttributeRequest", "name", attribute_name()),
        (
            "CreateAttributeRequest",
            "label",
            text(AttributeLabel::MAX_CHARS),
        ),
        ("CreateAttributeRequest", "type", attribute_type()),
        (
            "EditAttributeRequest",
            "label",
            text(AttributeLabel::MAX_CHARS),
        ),
        ("EditAttributeRequest", "type", attribute_type()),
        ("ListNameRequest", "name", text(ListName::MAX_CHARS)),
        // Any text: IDs that name no contact come back in `not_found`.
        (
            "MembersRequest",
            "messaging_ids",
            json!({"maxItems": super::lists::MAX_MEMBERS_PER_REQUEST}),
        ),
        ("MergeContactsRequest", "merge", merge_ids()),
        ("MergeContactsRequest", "fields", merge_fields()),
        (
            "MergeContactsRequest",
            "versions",
            json!({"propertyNames": {"type": "string", "pattern": ULID_PATTERN},
                "additionalProperties": {"type": "integer", "minimum": 1}}),
        ),
        ("DismissRequest", "messaging_ids", dismissed_ids()),
        (
            "SuppressRequest",
            "external_id",
            text(ExternalId::MAX_CHARS),
        ),
        (
            "SuppressRequest",
            "phone",
            json!({"pattern": PhoneNumber::PATTERN}),
        ),
        (
            "SuppressRequest",
            "email",
            json!({"maxLength": Email::MAX_CHARS, "pattern": Email::PATTERN}),
        ),
        ("ColumnsBody", "columns", column_names()),
        ("ImportSettings", "lists", ulids(None)),
        ("PreviewRequest", "import_id", ulid()),
        ("ExportRequest", "columns", column_names()),
    ]);
    fields
}

/// Fields that may be left out but not sent as `null`.
const NOT_NULL: [(&str, &str); 3] = [
    ("EditContactRequest", "external_id"),
    ("CreateContactRequest", "phone"),
    ("CreateContactRequest", "email"),
];

/// Fields a request must carry (beyond what the types already require).
const REQUIRED: [(&str, &[&str]); 3] = [
    ("CreateContactRequest", &["external_id"]),
    ("CreateAttributeRequest", &["name", "type"]),
    ("ListNameRequest", &["name"]),
];

/// Request bodies that refuse unknown fields.
const CLOSED: [&str; 15] = [
    "CreateContactRequest",
    "EditContactRequest",
    "ConsentRequest",
    "CreateAttributeRequest",
    "EditAttributeRequest",
    "ListNameRequest",
    "MembersRequest",
    "MergeContactsRequest",
    "DismissRequest",
    "SuppressRequest",
    "ColumnsBody",
    "ImportSettings",
    "PreviewRequest",
    "ExportRequest",
    "UpdateExisting",
];

/// Path and header parameters and their constraints.
fn parameter_rules() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("path", "messaging_id", ulid()),
        ("path", "id", ulid()),
        ("path", "import_id", ulid()),
        ("path", "export_id", ulid()),
        ("path", "scan_id", ulid()),
        ("path", "suppression_id", ulid()),
        ("path", "name", attribute_name()),
        (
            "query",
            "reason",
            json!({"enum": DuplicateReason::ALL.map(DuplicateReason::as_str)}),
        ),
        // An ETag this API returned (a version), weak or not, or `*`;
        // empty is as if left out.
        (
            "header",
            "If-Match",
            json!({"pattern": r#"^[ \t]*(\*|(W/)?"[0-9]{1,19}")?[ \t]*$"#}),
        ),
    ]
}

/// States every rule on `document` (a serialized OpenAPI document).
pub fn apply(document: &mut Value) {
    let schemas = &mut document["components"]["schemas"];
    for (schema, property, constraints) in fields() {
        let target = &mut schemas[schema]["properties"][property];
        merge(target, constraints);
    }
    for (schema, required) in REQUIRED {
        let target = &mut schemas[schema];
        let list = target["required"].as_array().cloned().unwrap_or_default();
        let mut list: Vec<Value> = list;
        for field in required {
            list.push(json!(field));
            // Required means a value, not `null`.
            if let Some(kind) = target["properties"][field].get_mut("type") {
                *kind = strip_null(kind);
            }
        }
        target["required"] = Value::Array(list);
    }
    for (schema, field) in NOT_NULL {
        if let Some(kind) = schemas[schema]["properties"][field].get_mut("type") {
            *kind = strip_null(kind);
        }
    }
    // A file to preview has at least its header.
    schemas["CsvBytes"]["minLength"] = json!(1);
    // A new contact needs a phone or an email: without a phone, an email
    // (`if`/`then`, which generators leave to the server, where `anyOf`
    // would turn the body into an untyped union).
    schemas["CreateContactRequest"]["if"] = json!({"not": {"required": ["phone"]}});
    schemas["CreateContactRequest"]["then"] = json!({"required": ["email"]});
    // A listed contact is a contact, of which `columns=` may keep some fields.
    let mut listed = schemas["ContactBody"].clone();
    if let Some(listed) = listed.as_object_mut() {
        listed.remove("required");
        listed.remove("example");
        listed.insert(
            "description".to_owned(),
            json!("A contact as listed: every field of `ContactBody`, or with `columns=` only those (and `messaging_id`)."),
        );
    }
    schemas["ListedContact"] = listed;
    schemas["ContactPage"]["properties"]["items"]["items"] =
        json!({"$ref": "#/components/schemas/ListedContact"});
    plain_references(schemas);
    for schema in CLOSED {
        if schemas[schema].is_object() {
            schemas[schema]["additionalProperties"] = json!(false);
        }
    }
    // A suppression names at least one identifier.
    schemas["SuppressRequest"]["minProperties"] = json!(1);
    // A consent update sets at least one channel.
    let update = &mut document["paths"]["/v1/contacts/{messaging_id}/consent"]["put"]["requestBody"]
        ["content"]["application/json"]["schema"];
    *update = json!({"allOf": [update.clone()], "minProperties": 1});
    let parameters = document["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|operation| operation.get_mut("parameters")?.as_array_mut())
        .flatten();
    let rules = parameter_rules();
    for parameter in parameters {
        let rule = rules
            .iter()
            .find(|(place, name, _)| parameter["in"] == *place && parameter["name"] == *name);
        if let Some((_, _, constraints)) = rule {
            let schema = &mut parameter["schema"];
            // An optional header is left out, never sent as `null`.
            if let Some(kind) = schema.get_mut("type") {
                *kind = strip_null(kind);
            }
            merge(schema, constraints.clone());
        }
    }
}

/// A property that is a `oneOf` of one reference with a `default` (how
/// `utoipa` writes a defaulted struct field) becomes the plain reference:
/// generators refuse a default on a model, and the referenced schema's own
/// fields carry their defaults.
fn plain_references(schemas: &mut Value) {
    let properties = schemas
        .as_object_mut()
        .into_iter()
        .flat_map(|schemas| schemas.values_mut())
        .filter_map(|schema| schema.get_mut("properties")?.as_object_mut())
        .flat_map(|properties| properties.values_mut());
    for property in properties {
        let reference = match property.get("oneOf").and_then(Value::as_array) {
            Some(one) if one.len() == 1 && one[0].get("$ref").is_some() => one[0].clone(),
            _ => continue,
        };
        let description = property.get("description").cloned();
        *property = reference;
        if let Some(description) = description {
            property["description"] = description;
        }
    }
}

/// Adds `constraints` to a property's schema (an `enum` of a nullable
/// property keeps `null`).
fn merge(target: &mut Value, mut constraints: Value) {
    let nullable = target["type"]
        .as_array()
        .is_some_and(|kinds| kinds.iter().any(|k| k == "null"));
    if nullable && let Some(values) = constraints.get_mut("enum").and_then(Value::as_array_mut) {
        values.push(Value::Null);
    }
    if let (Some(target), Value::Object(constraints)) = (target.as_object_mut(), constraints) {
        target.extend(constraints);
    }
}

/// `["string", "null"]` → `"string"`.
fn strip_null(kind: &Value) -> Value {
    match kind {
        Value::Array(kinds) => kinds
            .iter()
            .find(|k| *k != "null")
            .cloned()
            .unwrap_or_else(|| kind.clone()),
        other => other.clone(),
    }
}
