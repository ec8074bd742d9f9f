//! The page shell (header, navigation, notices) and the form parts every
//! screen uses.

use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::session::{CSRF_FIELD, Session, clear_notice};
use crate::error::FieldError;

/// The console's sections, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Contacts,
    Duplicates,
    Lists,
    Attributes,
}

impl Section {
    const ALL: [(Section, &'static str, &'static str); 4] = [
        (Section::Contacts, "/", "All Contacts"),
        (Section::Duplicates, "/duplicates", "Duplicates"),
        (Section::Lists, "/lists", "Lists"),
        (Section::Attributes, "/attributes", "Contact Attributes"),
    ];
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Contacts" }
            link rel="stylesheet" href=(super::assets::STYLESHEET);
            script src=(super::assets::SCRIPT) defer {}
        }
    }
}

/// A signed-in page of `section`: the shell around `body`, showing (and
/// clearing) the session's notice.
pub fn page(session: &Session, section: Section, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { span.logo aria-hidden="true" { "◎" } " Contacts" }
                    nav aria-label="Sections" {
                        @for (each, href, label) in Section::ALL {
                            a href=(href) aria-current=[(each == section).then_some("page")] { (label) }
                        }
                    }
                    form.signout method="post" action="/sign-out" {
                        span.workspace title="Workspace" { (session.workspace.as_ref()) }
                        (csrf(session))
                        button.link type="submit" { "Sign out" }
                    }
                }
                main #main {
                    @if let Some(notice) = &session.notice {
                        div.notice role="status" { (notice) }
                    }
                    (body)
                }
                meta name="csrf-token" content=(session.csrf);
            }
        }
    };
    let mut response = no_store(markup.into_response());
    if session.notice.is_some() {
        clear_notice(&mut response);
    }
    response
}

/// A dialog: alone when the script asks for it (to show over the page),
/// else as a page of its own.
pub fn dialog(
    session: &Session,
    headers: &axum::http::HeaderMap,
    section: Section,
    title: &str,
    content: Markup,
) -> Response {
    let dialog = html! {
        dialog.dialog aria-labelledby="dialog-title" open {
            h2 #dialog-title { (title) }
            (content)
        }
    };
    if headers.contains_key("x-fragment") {
        no_store(dialog.into_response())
    } else {
        page(
            session,
            section,
            title,
            html! { div.dialog-page { (dialog) } },
        )
    }
}

/// A deletion's confirmation: `question`, then Cancel (back to `cancel`)
/// or the `confirm` button (Delete, Erase), which posts to `action`.
pub struct Confirm<'a> {
    pub title: &'a str,
    pub confirm: &'a str,
    pub action: String,
    pub cancel: &'a str,
    pub question: Markup,
}

impl Confirm<'_> {
    /// The dialog for `session`'s page of `section`.
    pub fn render(
        self,
        session: &Session,
        headers: &axum::http::HeaderMap,
        section: Section,
    ) -> Response {
        let content = html! {
            form method="post" action=(self.action) {
                (csrf(session))
                p { (self.question) }
                div.dialog-actions {
                    a.button href=(self.cancel) data-close { "Cancel" }
                    button.danger type="submit" { (self.confirm) }
                }
            }
        };
        dialog(session, headers, section, self.title, content)
    }
}

/// `response` as a refused form: 422, shown as it is.
pub fn unprocessable(response: Response) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, response).into_response()
}

/// A page without the signed-in shell (sign-in, errors).
pub fn bare(status: StatusCode, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.bare {
                main #main .card.narrow {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    no_store((status, markup).into_response())
}

/// Pages show personal data: never cached.
fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

/// The hidden CSRF field every form that changes data carries.
pub fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(session.csrf); }
}

/// The errors reported for one field.
pub fn errors_of<'a>(errors: &'a [FieldError], field: &str) -> Vec<&'a str> {
    errors
        .iter()
        .filter(|e| e.field == field || e.field.starts_with(&format!("{field}[")))
        .map(|e| e.message.as_str())
        .collect()
}

/// A labelled form field: `input` with its hint and the field's errors
/// (linked to the input for screen readers).
pub fn field(
    label: &str,
    name: &str,
    hint: Option<&str>,
    errors: &[FieldError],
    input: Markup,
) -> Markup {
    let messages = errors_of(errors, name);
    html! {
        div.field .invalid[!messages.is_empty()] {
            label for=(id_of(name)) { (label) }
            (input)
            @if let Some(hint) = hint { small.hint { (hint) } }
            @for message in messages {
                p.error id=(format!("{}-error", id_of(name))) { (super::failure::sentence(message)) }
            }
        }
    }
}

/// A text input named `name` holding `value`.
pub fn text_input(name: &str, kind: &str, value: Option<&str>, errors: &[FieldError]) -> Markup {
    let invalid = !errors_of(errors, name).is_empty();
    html! {
        input id=(id_of(name)) name=(name) type=(kind) value=[value]
            aria-invalid=[invalid.then_some("true")]
            aria-describedby=[invalid.then(|| format!("{}-error", id_of(name)))];
    }
}

/// A select named `name` of `(value, label)` options with `selected` chosen
/// and an empty first option labelled `none`.
pub fn select<'a>(
    name: &str,
    none: Option<&str>,
    options: impl IntoIterator<Item = (&'a str, &'a str)>,
    selected: Option<&str>,
) -> Markup {
    html! {
        select id=(id_of(name)) name=(name) {
            @if let Some(none) = none { option value="" { (none) } }
            @for (value, label) in options {
                option value=(value) selected[Some(value) == selected] { (label) }
            }
        }
    }
}

/// An element ID for a field name.
pub fn id_of(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The form-level errors (those naming no field of the form).
pub fn form_errors(errors: &[FieldError], fields: &[&str]) -> Markup {
    let other: Vec<&FieldError> = errors
        .iter()
        .filter(|e| {
            !fields
                .iter()
                .any(|f| e.field == *f || e.field.starts_with(&format!("{f}[")))
        })
        .collect();
    html! {
        @if !errors.is_empty() {
            div.alert role="alert" {
                p { strong { "Please correct the highlighted fields." } }
                @for error in other {
                    p { (super::failure::sentence(&if error.field.is_empty() { error.message.clone() } else { format!("{}: {}", error.field, error.message) })) }
                }
            }
        }
    }
}

/// An icon from the inline set, hidden from screen readers.
pub fn icon(path: &'static str) -> Markup {
    html! {
        svg.icon viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false" {
            path d=(PreEscaped(path)) {}
        }
    }
}

/// The "columns" icon.
pub const COLUMNS_ICON: &str = "M4 4h4v16H4zM10 4h4v16h-4zM16 4h4v16h-4z";
/// The "more" icon (three dots).
pub const MORE_ICON: &str = "M5 10a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm7 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm7 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4z";
