//! Download CSV (or as Excel): an export of the table's filter and columns, followed
//! until its file is ready, then handed to the browser.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::page::{self, Section};
use super::session::{Session, Submitted};
use super::{Console, Failure};
use crate::export::ExportStatus;
use crate::export::job::ExportFormat;
use crate::export::request::ExportRequest;
use crate::export::service::{self, DEFAULT_LINK};
use crate::http::extract::PathParams;

/// Starts an export of the submitted filter (`filter.<key>` fields) and
/// columns (`column` fields).
pub async fn start(State(console): State<Console>, form: Submitted) -> Result<Response, Failure> {
    let request = ExportRequest {
        filter: form
            .fields
            .iter()
            .filter_map(|(key, value)| {
                Some((key.strip_prefix("filter.")?.to_owned(), value.clone()))
            })
            .collect(),
        columns: Some(form.values("column").map(str::to_owned).collect())
            .filter(|columns: &Vec<String>| !columns.is_empty()),
        format: match form.value("format") {
            Some("xlsx") => ExportFormat::Xlsx,
            _ => ExportFormat::Csv,
        },
    };
    let job = service::create(&console.app, &form.session.workspace, request).await?;
    Ok(Redirect::to(&format!("/downloads/{}", job.id)).into_response())
}

/// The export's progress; once its file is ready, the link (which the
/// script follows at once).
pub async fn page(
    State(console): State<Console>,
    session: Session,
    PathParams(raw): PathParams<String>,
) -> Result<Response, Failure> {
    let job = service::get(&console.app, &session.workspace, &raw).await?;
    let link = service::download_link(&console.app, &job, DEFAULT_LINK).await?;
    let body = html! {
        nav.crumbs aria-label="Breadcrumb" { a href="/" { "All Contacts" } " / Download CSV" }
        h1 { "Download CSV" }
        section.card aria-live="polite" {
            @match (job.status, &link) {
                (ExportStatus::Completed, Some(link)) => {
                    p { "Your file is ready: " (super::view::count(job.rows)) " contacts." }
                    p { a.button.primary #download href=(link.url) data-auto download=(job.file_name()) { "Download " (job.file_name()) } }
                    p.hint { "The link works until " (super::view::time(link.expires_at)) "." }
                }
                (ExportStatus::Completed, None) => {
                    p { "This file is no longer kept. Download again from All Contacts." }
                }
                (ExportStatus::Failed, _) => {
                    p.error { "The export failed: " (job.failure.as_deref().unwrap_or("no reason was recorded")) }
                }
                _ => {
                    p data-refresh="1000" { "Preparing your file… " (super::view::count(job.rows)) " contacts so far." }
                    noscript { p { "Reload this page to see when it is ready." } }
                }
            }
            p { a href="/" { "Back to All Contacts" } }
        }
    };
    Ok(page::page(
        &session,
        Section::Contacts,
        "Download CSV",
        body,
    ))
}
