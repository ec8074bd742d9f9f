//! The Duplicates page: groups of contacts that are probably one person,
//! each with Merge and Not the same person.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::page::{self, Section, csrf};
use super::session::{Session, Submitted, redirect_with_notice};
use super::view::{self, consent};
use super::{Console, Failure};
use crate::duplicate_scan::{ScanJob, ScanStatus, service as scan_service};
use crate::error::Error;
use crate::model::{Contact, DuplicateReason, MessagingId};
use crate::query::{Cursor, PageRequest};
use crate::service::duplicates::{self, DuplicateGroup};

/// Groups on one page.
const PAGE: usize = 20;

/// Which groups to show.
#[derive(Debug, Default, Deserialize)]
pub struct Showing {
    reason: Option<String>,
    cursor: Option<String>,
}

/// What a group's reason says to a person.
pub fn reason_label(reason: DuplicateReason) -> &'static str {
    match reason {
        DuplicateReason::SameEmail => "Same email",
        DuplicateReason::SamePhone => "Same phone",
        DuplicateReason::SimilarName => "Similar name",
    }
}

/// The merge screen for `contacts`, keeping the oldest.
pub fn merge_link(contacts: &[Contact]) -> String {
    let mut oldest_first: Vec<&Contact> = contacts.iter().collect();
    oldest_first.sort_by_key(|c| (c.created_at, c.messaging_id.clone()));
    let ids: Vec<&str> = oldest_first
        .iter()
        .map(|c| c.messaging_id.as_ref())
        .collect();
    format!("/duplicates/merge?ids={}", ids.join(","))
}

/// The Duplicates page.
pub async fn page(
    State(console): State<Console>,
    session: Session,
    Query(showing): Query<Showing>,
) -> Result<Response, Failure> {
    let state = &console.app;
    let reason = showing
        .reason
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(DuplicateReason::parse)
        .transpose()
        .map_err(|e| Error::invalid("reason", e.0))?;
    let request = PageRequest {
        limit: PAGE,
        cursor: showing.cursor.map(Cursor),
    };
    // The scan first: a scan read as finished wrote its groups before
    // saying so, so the groups read after it are its own.
    let last_scan = match state.scans {
        Some(_) => Some(
            scan_service::list(state, &session.workspace, &PageRequest::first(1))
                .await?
                .items
                .into_iter()
                .next(),
        ),
        None => None,
    };
    let found = duplicates::page(
        state.contacts.as_ref(),
        state.duplicates.as_ref(),
        &session.workspace,
        reason,
        &request,
    )
    .await?;
    let filters = std::iter::once((None, "All"))
        .chain(DuplicateReason::ALL.map(|r| (Some(r), reason_label(r))));
    let body = html! {
        h1 { "Duplicates" }
        p.muted { "Contacts that are probably one person: the same email address (ignoring case), the same phone number, or a similar name with a country, email domain or phone ending in common. Merge them into one, or mark them as not the same person." }
        @if let Some(last) = &last_scan { (scan_panel(&session, last.as_ref())) }
        nav.tabs aria-label="Reason" {
            @for (each, label) in filters {
                a href=(each.map_or("/duplicates".to_owned(), |r| format!("/duplicates?reason={}", r.as_str())))
                    aria-current=[(each == reason).then_some("page")] { (label) }
            }
        }
        @for group in &found.items { (group_card(&session, group)) }
        @if found.items.is_empty() {
            p.empty { @if found.next_cursor.is_some() { "No duplicates on this page." } @else { "No duplicates found." } }
        }
        @if let Some(next) = &found.next_cursor {
            p.pager {
                a.button href=(format!("/duplicates?{}cursor={}", reason.map_or(String::new(), |r| format!("reason={}&", r.as_str())), next.0)) { "Next page" }
            }
        }
    };
    Ok(page::page(
        &session,
        Section::Duplicates,
        "Duplicates",
        body,
    ))
}

/// Where the scan for similar names stands, and a button to run one.
fn scan_panel(session: &Session, last: Option<&ScanJob>) -> Markup {
    let running = last.is_some_and(|scan| !scan.status.is_finished());
    html! {
        section.card.scan aria-label="Similar names" {
            h2 { "Similar names" }
            @match last {
                None => {
                    p { "Names are compared by a scan of every contact. None has run yet." }
                }
                Some(scan) if running => {
                    p data-refresh="2000" role="status" {
                        "Scanning… " (view::count(scan.contacts_read)) " of "
                        (view::count(scan.contacts_total)) " contacts read."
                    }
                }
                Some(scan) if scan.status == ScanStatus::Failed => {
                    p role="status" {
                        "The last scan failed: " (scan.failure.as_deref().unwrap_or("no reason given")) "."
                    }
                }
                Some(scan) => {
                    p role="status" {
                        "Last scan "
                        @if let Some(at) = scan.finished_at { (view::time(at)) }
                        ": " (view::count(scan.contacts_read)) " contacts read, "
                        (view::count(scan.groups)) @if scan.groups == 1 { " group" } @else { " groups" }
                        " of similar names found."
                        @if scan.too_common > 0 {
                            " " (view::count(scan.too_common)) " contacts have names too common to compare."
                        }
                    }
                }
            }
            @if !running {
                form.inline method="post" action="/duplicates/scans" {
                    (csrf(session))
                    button type="submit" { @if last.is_some() { "Scan again" } @else { "Scan for similar names" } }
                }
            }
        }
    }
}

/// Starts a scan for similar names.
pub async fn start_scan(
    State(console): State<Console>,
    form: Submitted,
) -> Result<Response, Failure> {
    let (_, new) = scan_service::start(&console.app, &form.session.workspace).await?;
    let notice = if new {
        "Scanning for similar names: this page shows how far it got."
    } else {
        "A scan is already running."
    };
    Ok(redirect_with_notice("/duplicates", notice))
}

fn group_card(session: &Session, group: &DuplicateGroup) -> Markup {
    let label = reason_label(group.reason);
    // A similar name's value is the IDs grouped: the newest one's name says more.
    let shown = match group.reason {
        DuplicateReason::SimilarName => group
            .contacts
            .first()
            .and_then(Contact::full_name)
            .unwrap_or_default(),
        _ => group.value.clone(),
    };
    html! {
        section.card.group aria-label=(format!("{label}: {shown}")) {
            h2 { (label) ": " code { (shown) } }
            div.table-wrap {
                table {
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { "External ID" } th scope="col" { "Email" }
                        th scope="col" { "Phone" } th scope="col" { "Country" } th scope="col" { "Created" } th scope="col" { "SMS" }
                        th scope="col" { "WhatsApp" } th scope="col" { "Email consent" }
                    } }
                    tbody {
                        @for contact in &group.contacts {
                            tr {
                                td { a href=(format!("/contacts/{}", contact.messaging_id)) { (view::contact_name(contact)) } }
                                td { (contact.external_id.as_ref().map_or("—", AsRef::as_ref)) }
                                td { (contact.reach.email().map_or("—", AsRef::as_ref)) }
                                td { (contact.reach.phone().map_or("—", AsRef::as_ref)) }
                                td { (contact.country.as_ref().map_or("—", AsRef::as_ref)) }
                                td { (view::time(contact.created_at)) }
                                td { (consent(contact.consent.sms)) }
                                td { (consent(contact.consent.whatsapp)) }
                                td { (consent(contact.consent.email)) }
                            }
                        }
                    }
                }
            }
            div.actions {
                a.button.primary href=(merge_link(&group.contacts)) { "Merge…" }
                form.inline method="post" action="/duplicates/dismiss" {
                    (csrf(session))
                    @for contact in &group.contacts {
                        input type="hidden" name="id" value=(contact.messaging_id.as_ref());
                    }
                    button type="submit" { "Not the same person" }
                }
            }
        }
    }
}

/// Marks a group as not one person.
pub async fn dismiss(State(console): State<Console>, form: Submitted) -> Result<Response, Failure> {
    let ids = form
        .values("id")
        .map(MessagingId::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid("id", e.0))?;
    duplicates::dismiss(
        console.app.duplicates.as_ref(),
        &form.session.workspace,
        ids,
    )
    .await?;
    Ok(redirect_with_notice(
        "/duplicates",
        "Marked as not the same person: the group stays hidden unless another contact joins it.",
    ))
}
