//! An import's progress and result: status, rows and bytes done, the
//! counts, and the error CSV's link. The wizard shows it live; it is also a
//! page of its own.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::page::{self, Section};
use super::session::Session;
use super::view::count;
use super::{Console, Failure};
use crate::http::extract::PathParams;
use crate::import::ImportJob;
use crate::import::job::ImportStatus;
use crate::import::service;

/// The import's progress (alone when the script asks for it).
pub async fn page(
    State(console): State<Console>,
    session: Session,
    headers: HeaderMap,
    PathParams(raw): PathParams<String>,
) -> Result<Response, Failure> {
    let job = service::get(&console.app, &session.workspace, &raw).await?;
    let errors = service::errors_link(&console.app, &job).await?;
    let report = report(&job, errors.as_ref().map(|link| link.url.as_str()));
    if headers.contains_key("x-fragment") {
        return Ok(report.into_response());
    }
    let body = html! {
        nav.crumbs aria-label="Breadcrumb" { a href="/" { "All Contacts" } " / Import " (job.file.name) }
        h1 { "Import of " (job.file.name) }
        section.card aria-live="polite" { (report) }
    };
    Ok(page::page(&session, Section::Contacts, "Import", body))
}

fn status_text(status: ImportStatus) -> &'static str {
    match status {
        ImportStatus::WaitingForUpload => "Waiting for the file",
        ImportStatus::Queued => "Queued behind another import of this workspace",
        ImportStatus::Running => "Importing",
        ImportStatus::Completed => "Completed",
        ImportStatus::Failed => "Failed",
    }
}

fn report(job: &ImportJob, errors_url: Option<&str>) -> Markup {
    let finished = job.status.is_finished();
    let progress = &job.progress;
    let dry = job.settings.dry_run;
    let counts = &job.counts;
    let mut rows = vec![
        ("Rows read", counts.rows),
        (
            if dry { "Would be created" } else { "Created" },
            counts.created,
        ),
        (
            if dry { "Would be updated" } else { "Updated" },
            counts.updated,
        ),
        ("Unchanged", counts.unchanged),
        ("Skipped (already exist)", counts.skipped_existing),
        ("Rejected", counts.rejected),
        ("Invalid values replaced", counts.replaced_values),
        (
            if dry { "Would be removed" } else { "Removed" },
            counts.removed,
        ),
    ];
    if counts.suppressed > 0 {
        // Right under Rejected, of which they are part.
        rows.insert(6, ("Of those, erased or suppressed", counts.suppressed));
    }
    html! {
        div.import-report data-status=(serde_json::to_value(job.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
            data-finished=(finished) data-dry-run=(dry) {
            p.status { strong { (status_text(job.status)) } @if dry { " — dry run: no contact is changed" } }
            @if !finished && progress.bytes_total > 0 {
                progress max=(progress.bytes_total) value=(progress.bytes_done) aria-label="Import progress" {}
                p.muted { (count(progress.rows_done)) " rows so far" }
            }
            @if let Some(failure) = &job.failure {
                div.alert role="alert" { p { (super::failure::sentence(failure)) } }
            }
            @if finished {
                table.counts {
                    tbody { @for (label, n) in rows { tr { th scope="row" { (label) } td { (count(n)) } } } }
                }
                @if let Some(url) = errors_url {
                    p { a.button #errors-csv href=(url) download { "Download the rejected rows (CSV)" } }
                    p.hint { "The rejected rows exactly as uploaded, with error_row and error columns: fix them and upload the file again." }
                }
                @if !dry { p { a href="/" { "See All Contacts" } } }
            }
        }
    }
}
