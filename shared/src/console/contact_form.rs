//! The New Contact and Edit forms: generic attributes, lists and the
//! workspace's custom attributes, read through the API's own request types
//! so that a form and a JSON body are checked by the same rules.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde_json::{Map, Value, json};

use super::page::{self, Section, csrf, field, select, text_input};
use super::path::PathContact;
use super::session::{Session, Submitted, redirect_with_notice};
use super::{Console, Failure};
use crate::catalog::Catalog;
use crate::error::{Error, FieldError};
use crate::http::dto::{CreateContactRequest, EditContactRequest};
use crate::model::{AttributeDefinition, AttributeType, ConsentSource, Contact};
use crate::service;

/// Every country as `(ISO code, name)`, by name.
pub fn countries() -> &'static [(&'static str, &'static str)] {
    static COUNTRIES: OnceLock<Vec<(&str, &str)>> = OnceLock::new();
    COUNTRIES.get_or_init(|| {
        let mut all: Vec<(&str, &str)> = isocountry::CountryCode::iter()
            .map(|c| (c.alpha2(), c.name()))
            .collect();
        all.sort_by_key(|(_, name)| *name);
        all
    })
}

/// The generic fields, in form order: name, label, input type, hint.
const GENERIC: [(&str, &str, &str, Option<&str>); 5] = [
    ("first_name", "First name", "text", None),
    ("last_name", "Last name", "text", None),
    (
        "phone",
        "Phone number",
        "tel",
        Some("E.164, e.g. +12345678902"),
    ),
    ("email", "Email", "email", None),
    (
        "external_id",
        "External ID",
        "text",
        Some("Required: your own key for this contact"),
    ),
];

/// What a form shows: each field's value(s).
#[derive(Debug, Default)]
struct Values(BTreeMap<String, Vec<String>>);

impl Values {
    fn of(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }

    fn from_form(form: &Submitted) -> Self {
        let mut values = Self::default();
        for (key, value) in &form.fields {
            values.0.entry(key.clone()).or_default().push(value.clone());
        }
        values
    }

    fn from_contact(contact: &Contact, catalog: &Catalog) -> Self {
        let body = crate::http::dto::ContactBody::new(contact, catalog);
        let mut values = Self::default();
        let mut set = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                values.0.insert(key.to_owned(), vec![value]);
            }
        };
        set("external_id", body.external_id);
        set("first_name", body.first_name);
        set("last_name", body.last_name);
        set("phone", body.phone);
        set("email", body.email);
        set("country", body.country);
        set("timezone", body.timezone);
        for (name, value) in &body.attributes {
            let text = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let kind = catalog.attribute(name).map(|d| d.kind);
            set(&format!("attributes.{name}"), Some(form_value(kind, text)));
        }
        values.0.insert("lists".into(), body.lists);
        values
    }
}

/// A stored value as its input shows it (datetimes in `datetime-local`'s
/// form, in UTC).
fn form_value(kind: Option<AttributeType>, text: String) -> String {
    match kind {
        Some(AttributeType::Datetime) => chrono::DateTime::parse_from_rfc3339(&text)
            .map(|t| {
                t.with_timezone(&chrono::Utc)
                    .format("%Y-%m-%dT%H:%M:%S")
                    .to_string()
            })
            .unwrap_or(text),
        _ => text,
    }
}

/// An input's value as the API reads it (`datetime-local` has no zone: UTC).
fn api_value(kind: AttributeType, text: &str) -> Value {
    let text = text.trim();
    match kind {
        AttributeType::Datetime if !text.is_empty() && !text.contains(['Z', '+']) => {
            let seconds = if text.len() == 16 { ":00" } else { "" };
            Value::String(format!("{text}{seconds}Z"))
        }
        _ => Value::String(text.to_owned()),
    }
}

/// The form as the API's JSON body. For an edit (of `editing`), an empty
/// field clears its value; for a new contact it is left out.
fn body(form: &Submitted, catalog: &Catalog, editing: Option<&Contact>) -> Value {
    let edit = editing.is_some();
    let mut body = Map::new();
    let blank = |value: Option<&str>| -> Option<Value> {
        match value {
            Some(value) => Some(Value::String(value.trim().to_owned())),
            None if edit => Some(Value::Null),
            None => None,
        }
    };
    for key in FORM_FIELDS
        .into_iter()
        .filter(|key| !matches!(*key, "lists" | "attributes"))
    {
        if let Some(value) = blank(form.value(key)) {
            body.insert(key.to_owned(), value);
        }
    }
    if let Some(contact) = editing
        && form.value("external_id").is_none()
    {
        if contact.external_id.is_some() {
            // Cleared by mistake: the API explains that it can't be.
            body.insert("external_id".into(), Value::String(String::new()));
        } else {
            // Still none: nothing to change.
            body.remove("external_id");
        }
    }
    body.insert(
        "lists".into(),
        form.values("lists").map(|id| json!(id)).collect(),
    );
    let attributes: Map<String, Value> = catalog
        .attributes
        .iter()
        .filter_map(|d| {
            let key = format!("attributes.{}", d.name);
            let value = match form.value(&key) {
                Some(text) => api_value(d.kind, text),
                None if edit => Value::Null,
                None => return None,
            };
            Some((d.name.to_string(), value))
        })
        .collect();
    body.insert("attributes".into(), Value::Object(attributes));
    Value::Object(body)
}

/// The form's fields and their errors.
fn form_fields(catalog: &Catalog, values: &Values, errors: &[FieldError]) -> Markup {
    let timezones = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| (tz.name(), tz.name()));
    html! {
        fieldset {
            legend { "Generic Attributes" }
            div.grid {
                @for (name, label, kind, hint) in GENERIC {
                    (field(label, name, hint, errors, text_input(name, kind, values.of(name), errors)))
                }
                (field("Timezone", "timezone", None, errors, select("timezone", Some("None"), timezones, values.of("timezone"))))
                (field("Country", "country", None, errors, select("country", Some("None"), countries().iter().map(|(c, n)| (*c, *n)), values.of("country"))))
            }
            div.field {
                span.label #lists-label { "Lists" }
                @if catalog.lists.is_empty() {
                    p.hint { "No lists yet. " a href="/lists" { "Create one" } "." }
                } @else {
                    div.checks role="group" aria-labelledby="lists-label" {
                        @for list in &catalog.lists {
                            label.check {
                                input type="checkbox" name="lists" value=(list.id.as_ref())
                                    checked[values.all("lists").iter().any(|v| v == list.id.as_ref())];
                                (list.name.as_ref())
                            }
                        }
                    }
                }
                @for message in page::errors_of(errors, "lists") { p.error { (super::failure::sentence(message)) } }
            }
        }
        fieldset {
            legend { "Custom Attributes" }
            @if catalog.attributes.is_empty() {
                p.hint { "No custom attributes yet. " a href="/attributes" { "Define one" } "." }
            } @else {
                div.grid {
                    @for definition in &catalog.attributes {
                        (custom_field(definition, values, errors))
                    }
                }
            }
        }
    }
}

fn custom_field(
    definition: &AttributeDefinition,
    values: &Values,
    errors: &[FieldError],
) -> Markup {
    let name = format!("attributes.{}", definition.name);
    let value = values.of(&name);
    let input = match definition.kind {
        AttributeType::Text => text_input(&name, "text", value, errors),
        AttributeType::Number => html! {
            input id=(page::id_of(&name)) name=(name) type="number" step="any" value=[value];
        },
        AttributeType::Boolean => {
            select(&name, Some("—"), [("true", "Yes"), ("false", "No")], value)
        }
        AttributeType::Date => text_input(&name, "date", value, errors),
        AttributeType::Datetime => html! {
            input id=(page::id_of(&name)) name=(name) type="datetime-local" step="1" value=[value];
        },
    };
    let hint = (definition.kind == AttributeType::Datetime).then_some("UTC");
    field(definition.label.as_ref(), &name, hint, errors, input)
}

/// The New Contact form.
pub async fn new_form(
    State(console): State<Console>,
    session: Session,
) -> Result<Response, Failure> {
    let catalog = Catalog::load(&console.app, &session.workspace).await?;
    Ok(render_new(&session, &catalog, &Values::default(), &[]))
}

fn render_new(
    session: &Session,
    catalog: &Catalog,
    values: &Values,
    errors: &[FieldError],
) -> Response {
    let body = html! {
        nav.crumbs aria-label="Breadcrumb" { a href="/" { "All Contacts" } " / New Contact" }
        h1 { "New Contact" }
        (page::form_errors(errors, &FORM_FIELDS))
        form.card method="post" action="/contacts/new" novalidate {
            (csrf(session))
            (form_fields(catalog, values, errors))
            div.form-actions {
                a.button href="/" { "Cancel" }
                button.primary type="submit" { "Submit" }
            }
        }
    };
    with_status(
        errors,
        page::page(session, Section::Contacts, "New Contact", body),
    )
}

/// Field names the form shows errors next to.
const FORM_FIELDS: [&str; 9] = [
    "external_id",
    "first_name",
    "last_name",
    "phone",
    "email",
    "country",
    "timezone",
    "lists",
    "attributes",
];

fn with_status(errors: &[FieldError], response: Response) -> Response {
    if errors.is_empty() {
        response
    } else {
        page::unprocessable(response)
    }
}

/// Creates the contact, or shows the form again with what to fix.
pub async fn create(State(console): State<Console>, form: Submitted) -> Result<Response, Failure> {
    let state = &console.app;
    let catalog = Catalog::load(state, &form.session.workspace).await?;
    let created = async {
        let request: CreateContactRequest = serde_json::from_value(body(&form, &catalog, None))
            .map_err(|e| Error::MalformedBody(e.to_string()))?;
        crate::privacy::service::create(
            state,
            &form.session.audit(state),
            request.into_new_contact(&catalog)?,
            &ConsentSource::console(),
        )
        .await
    }
    .await;
    match created {
        Ok(contact) => Ok(redirect_with_notice(
            &format!("/contacts/{}", contact.messaging_id),
            "Contact created.",
        )),
        Err(error) => {
            let errors = field_errors(error)?;
            Ok(render_new(
                &form.session,
                &catalog,
                &Values::from_form(&form),
                &errors,
            ))
        }
    }
}

/// The errors a form shows, or the failure a page shows.
fn field_errors(error: Error) -> Result<Vec<FieldError>, Failure> {
    match error {
        Error::Validation(errors) => Ok(errors),
        error @ Error::DuplicateExternalId { .. } => {
            Ok(vec![FieldError::new("external_id", error.to_string())])
        }
        error @ Error::UsageLimitReached { .. } => Ok(vec![FieldError::new("", error.to_string())]),
        other => match other.suppressed_field() {
            Some(field) => Ok(vec![field]),
            None => Err(other.into()),
        },
    }
}

/// The Edit form of a contact.
pub async fn edit_form(
    State(console): State<Console>,
    session: Session,
    PathContact(id): PathContact,
) -> Result<Response, Failure> {
    let state = &console.app;
    let (contact, catalog) = tokio::try_join!(
        service::get(state.contacts.as_ref(), &session.workspace, &id),
        Catalog::load(state, &session.workspace)
    )?;
    let values = Values::from_contact(&contact, &catalog);
    Ok(render_edit(
        &session,
        &catalog,
        &contact,
        contact.version,
        &values,
        &[],
        false,
    ))
}

fn render_edit(
    session: &Session,
    catalog: &Catalog,
    contact: &Contact,
    version: u64,
    values: &Values,
    errors: &[FieldError],
    conflict: bool,
) -> Response {
    let id = contact.messaging_id.to_string();
    let name = super::view::contact_name(contact);
    let body = html! {
        nav.crumbs aria-label="Breadcrumb" { a href="/" { "All Contacts" } " / " a href=(format!("/contacts/{id}")) { (name) } " / Edit" }
        h1 { "Edit " (name) }
        @if conflict {
            div.alert.conflict role="alert" {
                p { strong { "Someone else changed this contact after you opened it." } }
                p { "Your changes were not saved, so that theirs are not lost. Reload to see the contact as it is now, then make your changes again." }
                p { a.button.primary href=(format!("/contacts/{id}/edit")) { "Reload" } }
            }
        } @else {
            (page::form_errors(errors, &FORM_FIELDS))
        }
        form.card method="post" action=(format!("/contacts/{id}/edit")) novalidate {
            (csrf(session))
            input type="hidden" name="version" value=(version);
            (form_fields(catalog, values, errors))
            div.form-actions {
                a.button href=(format!("/contacts/{id}")) { "Cancel" }
                button.primary type="submit" { "Save" }
            }
        }
    };
    let response = page::page(session, Section::Contacts, &format!("Edit {name}"), body);
    if conflict {
        (StatusCode::PRECONDITION_FAILED, response).into_response()
    } else {
        with_status(errors, response)
    }
}

/// Saves an edit if the contact is still at the version the form was read
/// at; otherwise explains the conflict.
pub async fn edit(
    State(console): State<Console>,
    PathContact(id): PathContact,
    form: Submitted,
) -> Result<Response, Failure> {
    let state = &console.app;
    let workspace = &form.session.workspace;
    let (contact, catalog) = tokio::try_join!(
        service::get(state.contacts.as_ref(), workspace, &id),
        Catalog::load(state, workspace)
    )?;
    let version = form
        .value("version")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(contact.version);
    let edited = async {
        let request: EditContactRequest =
            serde_json::from_value(body(&form, &catalog, Some(&contact)))
                .map_err(|e| Error::MalformedBody(e.to_string()))?;
        crate::privacy::service::edit(
            state,
            &form.session.audit(state),
            &id,
            request.into_changes(&catalog)?,
            Some(version),
        )
        .await
    }
    .await;
    let values = Values::from_form(&form);
    match edited {
        Ok(contact) => Ok(redirect_with_notice(
            &format!("/contacts/{}", contact.messaging_id),
            "Changes saved.",
        )),
        Err(Error::PreconditionFailed { .. }) => Ok(render_edit(
            &form.session,
            &catalog,
            &contact,
            version,
            &values,
            &[],
            true,
        )),
        Err(error) => {
            let errors = field_errors(error)?;
            Ok(render_edit(
                &form.session,
                &catalog,
                &contact,
                version,
                &values,
                &errors,
                false,
            ))
        }
    }
}
