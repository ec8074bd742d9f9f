//! The Contact Attributes page: the generic attributes, and the custom ones
//! to define, relabel, retype and delete.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};

use super::page::{self, Section, csrf, field, select, text_input};
use super::session::{Session, Submitted, redirect_with_notice};
use super::{Console, Failure};
use crate::catalog;
use crate::error::{Error, FieldError};
use crate::http::dto::{CreateAttributeRequest, EditAttributeRequest};
use crate::http::extract::PathParams;
use crate::model::{AttributeDefinition, AttributeType, Column};

const TYPES: [(&str, &str); 5] = [
    ("text", "Text"),
    ("number", "Number"),
    ("boolean", "Boolean"),
    ("date", "Date"),
    ("datetime", "Date and time"),
];

fn type_label(kind: AttributeType) -> &'static str {
    TYPES
        .iter()
        .find(|(value, _)| *value == kind.as_str())
        .map_or("", |(_, label)| label)
}

/// The Contact Attributes page.
pub async fn page(State(console): State<Console>, session: Session) -> Result<Response, Failure> {
    render(&console, &session, &[], &[]).await
}

async fn render(
    console: &Console,
    session: &Session,
    typed: &[(String, String)],
    errors: &[FieldError],
) -> Result<Response, Failure> {
    let custom = console.app.schema.attributes(&session.workspace).await?;
    let typed = |name: &str| {
        typed
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let body = html! {
        h1 { "Contact Attributes" }
        section.card aria-labelledby="define-title" {
            h2 #define-title { "Define a custom attribute" }
            (page::form_errors(errors, &["name", "label", "type"]))
            form.grid method="post" action="/attributes" novalidate {
                (csrf(session))
                (field("Name", "name", Some("lower-case letters, digits and _; used in CSV headers and the API"), errors, text_input("name", "text", typed("name"), errors)))
                (field("Label", "label", Some("what people see; the name if left empty"), errors, text_input("label", "text", typed("label"), errors)))
                (field("Type", "type", None, errors, select("type", None, TYPES, typed("type"))))
                div.field { span.label aria-hidden="true" { " " } button.primary type="submit" { "Define attribute" } }
            }
        }
        h2 { "Custom attributes" }
        div.table-wrap {
            table #custom-attributes {
                thead { tr { th scope="col" { "Label" } th scope="col" { "Name" } th scope="col" { "Type" } th.tools scope="col" { span.visually-hidden { "Actions" } } } }
                tbody {
                    @for definition in &custom { (row(definition)) }
                    @if custom.is_empty() { tr.empty { td colspan="4" { "No custom attributes yet." } } }
                }
            }
        }
        h2 { "Generic attributes" }
        p.muted { "Every contact has these; they can't be changed." }
        div.table-wrap {
            table {
                thead { tr { th scope="col" { "Label" } th scope="col" { "Name" } } }
                tbody {
                    @for column in Column::ALL { tr { td { (column.header()) } td { code { (column.name()) } } } }
                }
            }
        }
    };
    let response = page::page(session, Section::Attributes, "Contact Attributes", body);
    Ok(if errors.is_empty() {
        response
    } else {
        page::unprocessable(response)
    })
}

fn row(definition: &AttributeDefinition) -> Markup {
    let name = definition.name.as_ref();
    html! {
        tr {
            td { (definition.label.as_ref()) }
            td { code { (name) } }
            td { (type_label(definition.kind)) }
            td.tools {
                div.row-actions {
                    a.button href=(format!("/attributes/{name}/edit")) data-dialog aria-label=(format!("Edit {}", definition.label.as_ref())) { "Edit" }
                    a.button.danger href=(format!("/attributes/{name}/delete")) data-dialog aria-label=(format!("Delete {}", definition.label.as_ref())) { "Delete" }
                }
            }
        }
    }
}

/// What a form's problem shows as, or the failure a page shows.
fn form_errors(error: Error) -> Result<Vec<FieldError>, Failure> {
    match error {
        Error::Validation(errors) => Ok(errors),
        taken @ Error::NameTaken { .. } => Ok(vec![FieldError::new("name", taken.to_string())]),
        held @ Error::AttributeHasValues(_) => Ok(vec![FieldError::new("type", held.to_string())]),
        other => Err(other.into()),
    }
}

/// Defines an attribute.
pub async fn create(State(console): State<Console>, form: Submitted) -> Result<Response, Failure> {
    let request = CreateAttributeRequest {
        name: Some(form.value("name").unwrap_or_default().trim().to_owned()),
        label: form.value("label").map(|l| l.trim().to_owned()),
        kind: form.value("type").map(str::to_owned),
    };
    let created = async {
        let (name, label, kind) = request.parse()?;
        catalog::create_attribute(
            &console.app,
            &form.session.audit(&console.app),
            name,
            label,
            kind,
        )
        .await
    }
    .await;
    match created {
        Ok(definition) => Ok(redirect_with_notice(
            "/attributes",
            &format!("Attribute “{}” defined.", definition.label.as_ref()),
        )),
        Err(error) => {
            let errors = form_errors(error)?;
            render(&console, &form.session, &form.fields, &errors).await
        }
    }
}

async fn load(
    console: &Console,
    session: &Session,
    raw: &str,
) -> Result<AttributeDefinition, Failure> {
    let custom = console.app.schema.attributes(&session.workspace).await?;
    custom
        .into_iter()
        .find(|d| d.name.as_ref() == raw)
        .ok_or_else(|| Error::AttributeNotFound(raw.to_owned()).into())
}

fn edit_dialog(
    session: &Session,
    headers: &HeaderMap,
    definition: &AttributeDefinition,
    typed: (&str, &str),
    errors: &[FieldError],
) -> Response {
    let content = html! {
        form method="post" action=(format!("/attributes/{}/edit", definition.name)) {
            (csrf(session))
            p.muted { "Name " code { (definition.name.as_ref()) } " (can't change)" }
            (field("Label", "label", None, errors, text_input("label", "text", Some(typed.0), errors)))
            (field("Type", "type", Some("A type can change only while no contact holds a value."), errors, select("type", None, TYPES, Some(typed.1))))
            div.dialog-actions {
                a.button href="/attributes" data-close { "Cancel" }
                button.primary type="submit" { "Save" }
            }
        }
    };
    page::dialog(
        session,
        headers,
        Section::Attributes,
        "Edit attribute",
        content,
    )
}

/// The Edit dialog.
pub async fn edit_form(
    State(console): State<Console>,
    session: Session,
    headers: HeaderMap,
    PathParams(raw): PathParams<String>,
) -> Result<Response, Failure> {
    let definition = load(&console, &session, &raw).await?;
    let typed = (definition.label.as_ref(), definition.kind.as_str());
    Ok(edit_dialog(&session, &headers, &definition, typed, &[]))
}

/// Relabels or retypes an attribute.
pub async fn edit(
    State(console): State<Console>,
    PathParams(raw): PathParams<String>,
    form: Submitted,
) -> Result<Response, Failure> {
    let definition = load(&console, &form.session, &raw).await?;
    let request = EditAttributeRequest {
        label: Some(form.value("label").unwrap_or_default().trim().to_owned()),
        kind: form.value("type").map(str::to_owned),
    };
    let updated = async {
        let (label, kind) = request.parse()?;
        catalog::update_attribute(
            &console.app,
            &form.session.audit(&console.app),
            &definition.name,
            label,
            kind,
        )
        .await
    }
    .await;
    match updated {
        Ok(updated) => Ok(redirect_with_notice(
            "/attributes",
            &format!("Attribute “{}” saved.", updated.label.as_ref()),
        )),
        Err(error) => {
            let errors = form_errors(error)?;
            let typed = (
                form.value("label").unwrap_or_default(),
                form.value("type").unwrap_or(definition.kind.as_str()),
            );
            let response = edit_dialog(
                &form.session,
                &HeaderMap::new(),
                &definition,
                typed,
                &errors,
            );
            Ok(page::unprocessable(response))
        }
    }
}

/// The Delete confirmation.
pub async fn delete_form(
    State(console): State<Console>,
    session: Session,
    headers: HeaderMap,
    PathParams(raw): PathParams<String>,
) -> Result<Response, Failure> {
    let definition = load(&console, &session, &raw).await?;
    Ok(page::Confirm {
        title: "Delete attribute",
        confirm: "Delete",
        action: format!("/attributes/{}/delete", definition.name),
        cancel: "/attributes",
        question: html! { "Delete " strong { (definition.label.as_ref()) } "? Its values are no longer shown, filtered or exported, and an attribute defined later with the same name starts empty." },
    }
    .render(&session, &headers, Section::Attributes))
}

/// Deletes an attribute.
pub async fn delete(
    State(console): State<Console>,
    PathParams(raw): PathParams<String>,
    form: Submitted,
) -> Result<Response, Failure> {
    let definition = load(&console, &form.session, &raw).await?;
    let audit = form.session.audit(&console.app);
    catalog::delete_attribute(&console.app, &audit, &definition.name).await?;
    Ok(redirect_with_notice(
        "/attributes",
        &format!("Attribute “{}” deleted.", definition.label.as_ref()),
    ))
}
