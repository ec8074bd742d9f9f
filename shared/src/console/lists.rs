//! The Lists page: create, rename, delete, and open a list's members.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};

use super::page::{self, Section, csrf, field, text_input};
use super::session::{Session, Submitted, redirect_with_notice};
use super::{Console, Failure};
use crate::catalog;
use crate::error::{Error, FieldError};
use crate::http::dto::ListNameRequest;
use crate::http::extract::PathParams;
use crate::model::{ContactList, ListId};

/// The Lists page.
pub async fn page(State(console): State<Console>, session: Session) -> Result<Response, Failure> {
    render(&console, &session, None, &[]).await
}

async fn render(
    console: &Console,
    session: &Session,
    typed: Option<&str>,
    errors: &[FieldError],
) -> Result<Response, Failure> {
    let state = &console.app;
    let lists = state.lists.lists(&session.workspace).await?;
    let mut rows = Vec::with_capacity(lists.len());
    for list in lists {
        let members = state
            .lists
            .member_count(&session.workspace, &list.id)
            .await?;
        rows.push((list, members));
    }
    let body = html! {
        h1 { "Lists" }
        form.card.inline-form method="post" action="/lists" {
            (csrf(session))
            (field("New list", "name", None, errors, text_input("name", "text", typed, errors)))
            button.primary type="submit" { "Create list" }
        }
        div.table-wrap {
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Members" } th scope="col" { "Created" } th.tools scope="col" { span.visually-hidden { "Actions" } } } }
                tbody {
                    @for (list, members) in &rows { (row(list, *members)) }
                    @if rows.is_empty() { tr.empty { td colspan="4" { "No lists yet." } } }
                }
            }
        }
    };
    let response = page::page(session, Section::Lists, "Lists", body);
    Ok(if errors.is_empty() {
        response
    } else {
        page::unprocessable(response)
    })
}

fn row(list: &ContactList, members: u64) -> Markup {
    let id = list.id.as_ref();
    html! {
        tr {
            td { a href=(format!("/?list={id}")) { (list.name.as_ref()) } }
            td { (super::view::count(members)) }
            td { (super::view::time(list.created_at)) }
            td.tools {
                div.row-actions {
                    a.button href=(format!("/lists/{id}/rename")) data-dialog aria-label=(format!("Rename {}", list.name.as_ref())) { "Rename" }
                    a.button.danger href=(format!("/lists/{id}/delete")) data-dialog aria-label=(format!("Delete {}", list.name.as_ref())) { "Delete" }
                }
            }
        }
    }
}

fn name_request(form: &Submitted) -> ListNameRequest {
    ListNameRequest {
        name: Some(form.value("name").unwrap_or_default().trim().to_owned()),
    }
}

/// The name's problem as a field error, or the failure a page shows.
fn name_errors(error: Error) -> Result<Vec<FieldError>, Failure> {
    match error {
        Error::Validation(errors) => Ok(errors),
        taken @ Error::NameTaken { .. } => Ok(vec![FieldError::new("name", taken.to_string())]),
        other => Err(other.into()),
    }
}

/// Creates a list.
pub async fn create(State(console): State<Console>, form: Submitted) -> Result<Response, Failure> {
    let created = async {
        let name = name_request(&form).parse()?;
        catalog::create_list(&console.app, &form.session.audit(&console.app), name).await
    }
    .await;
    match created {
        Ok(list) => Ok(redirect_with_notice(
            "/lists",
            &format!("List “{}” created.", list.name.as_ref()),
        )),
        Err(error) => {
            let errors = name_errors(error)?;
            render(&console, &form.session, form.value("name"), &errors).await
        }
    }
}

async fn load(console: &Console, session: &Session, raw: &str) -> Result<ContactList, Failure> {
    let id = ListId::parse(raw).map_err(|_| Error::ListNotFound(raw.to_owned()))?;
    Ok(catalog::get_list(&console.app, &session.workspace, &id).await?)
}

fn rename_dialog(
    session: &Session,
    headers: &HeaderMap,
    list: &ContactList,
    typed: &str,
    errors: &[FieldError],
) -> Response {
    let content = html! {
        form method="post" action=(format!("/lists/{}/rename", list.id)) {
            (csrf(session))
            (field("Name", "name", None, errors, text_input("name", "text", Some(typed), errors)))
            div.dialog-actions {
                a.button href="/lists" data-close { "Cancel" }
                button.primary type="submit" { "Rename" }
            }
        }
    };
    page::dialog(session, headers, Section::Lists, "Rename list", content)
}

/// The Rename dialog.
pub async fn rename_form(
    State(console): State<Console>,
    session: Session,
    headers: HeaderMap,
    PathParams(raw): PathParams<String>,
) -> Result<Response, Failure> {
    let list = load(&console, &session, &raw).await?;
    Ok(rename_dialog(
        &session,
        &headers,
        &list,
        list.name.as_ref(),
        &[],
    ))
}

/// Renames a list.
pub async fn rename(
    State(console): State<Console>,
    PathParams(raw): PathParams<String>,
    form: Submitted,
) -> Result<Response, Failure> {
    let list = load(&console, &form.session, &raw).await?;
    let renamed = async {
        let name = name_request(&form).parse()?;
        let audit = form.session.audit(&console.app);
        catalog::rename_list(&console.app, &audit, &list.id, &name)
            .await
            .map(|()| name)
    }
    .await;
    match renamed {
        Ok(name) => Ok(redirect_with_notice(
            "/lists",
            &format!("List renamed to “{}”.", name.as_ref()),
        )),
        Err(error) => {
            let errors = name_errors(error)?;
            let typed = form.value("name").unwrap_or_default();
            let response = rename_dialog(&form.session, &HeaderMap::new(), &list, typed, &errors);
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
    let list = load(&console, &session, &raw).await?;
    Ok(page::Confirm {
        title: "Delete list",
        confirm: "Delete",
        action: format!("/lists/{}/delete", list.id),
        cancel: "/lists",
        question: html! { "Delete the list " strong { (list.name.as_ref()) } "? Its contacts stay; only their membership of this list goes." },
    }
    .render(&session, &headers, Section::Lists))
}

/// Deletes a list.
pub async fn delete(
    State(console): State<Console>,
    PathParams(raw): PathParams<String>,
    form: Submitted,
) -> Result<Response, Failure> {
    let list = load(&console, &form.session, &raw).await?;
    let audit = form.session.audit(&console.app);
    catalog::delete_list(&console.app, &audit, &list.id).await?;
    Ok(redirect_with_notice(
        "/lists",
        &format!("List “{}” deleted.", list.name.as_ref()),
    ))
}
