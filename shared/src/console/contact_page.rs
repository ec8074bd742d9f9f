//! One contact: Details (Overview and Lists tabs), and the Update Consent
//! and Delete dialogs.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::duplicates::{merge_link, reason_label};
use super::page::{self, Section, csrf};
use super::path::PathContact;
use super::session::{Session, Submitted, redirect_with_notice};
use super::view::{self, consent};
use super::{Console, Failure};
use crate::audit::{AuditEntry, AuditQuery, Operation};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::model::{Channel, ConsentChoice, ConsentSource, Contact, MessagingId};
use crate::query::{Cursor, Page, PageRequest};
use crate::service::{self, duplicates, duplicates::DuplicateGroup};

/// The channels with their labels.
const CHANNELS: [(Channel, &str); 3] = [
    (Channel::Sms, "SMS"),
    (Channel::Whatsapp, "WhatsApp"),
    (Channel::Email, "Email"),
];

/// Which tab of Details to show.
#[derive(Debug, Default, Deserialize)]
pub struct Tab {
    tab: Option<String>,
    /// Where the Activity tab's page starts (older entries).
    cursor: Option<String>,
}

/// A contact's Details.
pub async fn details(
    State(console): State<Console>,
    session: Session,
    PathContact(id): PathContact,
    Query(tab): Query<Tab>,
) -> Result<Response, Failure> {
    let state = &console.app;
    let workspace = &session.workspace;
    let recent = PageRequest::first(20);
    let (contact, catalog, history) = match tokio::try_join!(
        service::get(state.contacts.as_ref(), workspace, &id),
        Catalog::load(state, workspace),
        state.contacts.consent_history(workspace, &id, &recent),
    ) {
        Ok(found) => found,
        // A merged-away contact's page is the contact it became.
        Err(Error::ContactMerged { into, .. }) => {
            return Ok(Redirect::to(&format!("/contacts/{into}")).into_response());
        }
        Err(other) => return Err(other.into()),
    };
    let groups = duplicates::groups_of(
        state.contacts.as_ref(),
        state.duplicates.as_ref(),
        workspace,
        &contact,
    )
    .await?;
    let name = view::contact_name(&contact);
    let shown = tab.tab.as_deref().unwrap_or("overview");
    let base = format!("/contacts/{id}");
    let activity_page = match shown {
        "activity" => {
            let page = PageRequest {
                limit: ACTIVITY_PAGE,
                cursor: tab.cursor.map(Cursor),
            };
            let of_contact = AuditQuery {
                contact: Some(id.clone()),
                since: None,
            };
            Some(state.audit.audit(workspace, &of_contact, &page).await?)
        }
        _ => None,
    };
    let body = html! {
        nav.crumbs aria-label="Breadcrumb" { a href="/" { "All Contacts" } " / " (name) }
        div.heading {
            div {
                h1 { (name) }
                p.muted { "Messaging ID " code { (contact.messaging_id.as_ref()) } }
            }
            div.actions {
                a.button href=(format!("{base}/edit")) { "Edit" }
                a.button href=(format!("{base}/consent")) data-dialog { "Update Consent" }
                a.button.danger href=(format!("{base}/delete")) data-dialog { "Delete" }
                a.button href=(format!("{base}/personal-data")) download { "Download personal data" }
                a.button.danger href=(format!("{base}/erase")) data-dialog { "Erase personal data" }
            }
        }
        @for group in &groups { (possible_duplicate(&contact, group)) }
        nav.tabs aria-label="Details" {
            @for (tab, label, href) in [("overview", "Overview", base.clone()), ("lists", "Lists", format!("{base}?tab=lists")), ("activity", "Activity", format!("{base}?tab=activity"))] {
                a href=(href) aria-current=[(shown == tab).then_some("page")] { (label) }
            }
        }
        @match (shown, &activity_page) {
            ("lists", _) => (lists(&contact, &catalog)),
            (_, Some(entries)) => (activity(&base, entries, &catalog)),
            _ => (overview(&contact, &catalog, &history.items)),
        }
    };
    Ok(page::page(&session, Section::Contacts, &name, body))
}

/// "Possible duplicate of …" for one group `contact` is in.
fn possible_duplicate(contact: &Contact, group: &DuplicateGroup) -> Markup {
    let others: Vec<&Contact> = group
        .contacts
        .iter()
        .filter(|c| c.messaging_id != contact.messaging_id)
        .collect();
    html! {
        div.notice.duplicate role="note" {
            "Possible duplicate of "
            @for (n, other) in others.iter().enumerate() {
                @if n > 0 { ", " }
                a href=(format!("/contacts/{}", other.messaging_id)) { (view::contact_name(other)) }
            }
            " (" (reason_label(group.reason).to_lowercase()) "). "
            a href=(merge_link(&group.contacts)) { "Review and merge" }
        }
    }
}

fn overview(
    contact: &Contact,
    catalog: &Catalog,
    history: &[crate::model::ConsentChange],
) -> Markup {
    let or_dash = |value: Option<&str>| value.unwrap_or("—").to_owned();
    let generic = [
        (
            "External ID",
            or_dash(contact.external_id.as_ref().map(AsRef::as_ref)),
        ),
        (
            "First name",
            or_dash(contact.first_name.as_ref().map(AsRef::as_ref)),
        ),
        (
            "Last name",
            or_dash(contact.last_name.as_ref().map(AsRef::as_ref)),
        ),
        (
            "Phone number",
            or_dash(contact.reach.phone().map(AsRef::as_ref)),
        ),
        ("Email", or_dash(contact.reach.email().map(AsRef::as_ref))),
        (
            "Country",
            or_dash(contact.country.as_ref().map(AsRef::as_ref)),
        ),
        (
            "Timezone",
            or_dash(contact.timezone.as_ref().map(AsRef::as_ref)),
        ),
    ];
    html! {
        div.panels {
            section.card aria-labelledby="generic-title" {
                h2 #generic-title { "Generic Attributes" }
                dl.pairs {
                    @for (label, value) in &generic { dt { (label) } dd { (value) } }
                    dt { "Created" } dd { (view::time(contact.created_at)) }
                    dt { "Updated" } dd { (view::time(contact.updated_at)) }
                }
            }
            section.card aria-labelledby="custom-title" {
                h2 #custom-title { "Custom Attributes" }
                @if catalog.attributes.is_empty() {
                    p.muted { "No custom attributes are defined." }
                } @else {
                    dl.pairs {
                        @for definition in &catalog.attributes {
                            dt { (definition.label.as_ref()) }
                            dd { @match contact.attributes.get(&definition.id) {
                                Some(value) => (crate::export::cells::text(value)),
                                None => "—",
                            } }
                        }
                    }
                }
            }
            section.card aria-labelledby="consent-title" {
                h2 #consent-title { "Consent" }
                dl.pairs {
                    @for (channel, label) in CHANNELS {
                        dt { (label) } dd { (consent(contact.consent.get(channel))) }
                    }
                }
                h3 { "History" }
                @if history.is_empty() {
                    p.muted { "No consent has been recorded." }
                } @else {
                    table.history {
                        thead { tr { th scope="col" { "When" } th scope="col" { "Channel" } th scope="col" { "Change" } th scope="col" { "Source" } } }
                        tbody {
                            @for change in history {
                                tr {
                                    td { (view::time(change.at)) }
                                    td { (channel_label(change.channel)) }
                                    td { (consent(change.old)) " → " (consent(change.new)) }
                                    td.source {
                                        (source(&change.source))
                                        @if let Some(note) = &change.note { br; span.small { (note) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Who recorded a change; a merge by how many contacts it merged, with
/// their IDs on hover.
fn source(source: &ConsentSource) -> Markup {
    match source.as_ref().strip_prefix("merge:") {
        Some(ids) => {
            let count = ids.split(',').count();
            let plural = if count == 1 { "" } else { "s" };
            html! { span title=(source.as_ref()) { "Merge of " (count) " contact" (plural) } }
        }
        None => html! { (source.as_ref()) },
    }
}

fn channel_label(channel: Channel) -> &'static str {
    CHANNELS
        .iter()
        .find(|(c, _)| *c == channel)
        .map_or("", |(_, label)| label)
}

fn lists(contact: &Contact, catalog: &Catalog) -> Markup {
    let lists: Vec<_> = catalog.existing_lists(&contact.lists).collect();
    html! {
        section.card aria-label="Lists" {
            @if lists.is_empty() {
                p.empty { "No data" }
            } @else {
                ul.links {
                    @for list in lists {
                        li { a href=(format!("/?list={}", list.id)) { (list.name.as_ref()) } }
                    }
                }
            }
        }
    }
}

/// Audit entries the Activity tab shows at a time.
const ACTIVITY_PAGE: usize = 50;

/// The Activity tab: who changed the contact, when, and which fields.
fn activity(base: &str, entries: &Page<AuditEntry>, catalog: &Catalog) -> Markup {
    html! {
        section.card aria-label="Activity" {
            @if entries.items.is_empty() {
                p.empty { "No changes are recorded." }
            } @else {
                table.history {
                    thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Change" } th scope="col" { "Fields" } } }
                    tbody {
                        @for entry in &entries.items {
                            tr {
                                td { (view::time(entry.at)) }
                                td { code { (entry.actor) } }
                                td { (change_label(entry)) }
                                td { (field_labels(&entry.fields, catalog)) }
                            }
                        }
                    }
                }
                @if let Some(next) = &entries.next_cursor {
                    p { a href=(format!("{base}?tab=activity&cursor={}", next.0)) { "Older changes" } }
                }
            }
        }
    }
}

/// What an entry about a contact did, in words.
fn change_label(entry: &AuditEntry) -> Markup {
    let target = entry.target.as_deref().unwrap_or_default();
    match entry.operation {
        Operation::ContactCreated => html! { "Created" },
        Operation::ContactUpdated => html! { "Edited" },
        Operation::ConsentChanged => html! { "Consent changed" },
        Operation::ContactDeleted => html! { "Deleted" },
        Operation::ContactErased => html! { "Erased" },
        Operation::ContactMerged => {
            let count = target.split(',').filter(|id| !id.is_empty()).count();
            let plural = if count == 1 { "" } else { "s" };
            html! { span title=(target) { "Merged with " (count) " contact" (plural) } }
        }
        Operation::ContactMergedAway => {
            html! { "Merged into " a href=(format!("/contacts/{target}")) { code { (target) } } }
        }
        other => html! { (format!("{other:?}")) },
    }
}

/// The fields an entry names, custom attributes by their labels.
fn field_labels(fields: &[String], catalog: &Catalog) -> String {
    if fields.is_empty() {
        return "—".to_owned();
    }
    let label = |field: &String| match catalog.attribute_of_field(field) {
        Some(definition) => definition.label.to_string(),
        None => field.replace('_', " ").replace("consent.", "consent: "),
    };
    fields.iter().map(label).collect::<Vec<_>>().join(", ")
}

async fn contact(console: &Console, session: &Session, id: &MessagingId) -> Result<Contact> {
    service::get(console.app.contacts.as_ref(), &session.workspace, id).await
}

/// The Update Consent dialog.
pub async fn consent_dialog(
    State(console): State<Console>,
    session: Session,
    headers: HeaderMap,
    PathContact(id): PathContact,
) -> Result<Response, Failure> {
    let contact = contact(&console, &session, &id).await?;
    let name = view::contact_name(&contact);
    let content = html! {
        form method="post" action=(format!("/contacts/{id}/consent")) {
            (csrf(&session))
            input type="hidden" name="version" value=(contact.version);
            p { "Record " (name) "'s consent per channel." }
            @for (channel, label) in CHANNELS {
                fieldset.choice {
                    legend { (label) " " span.now { "now " (consent(contact.consent.get(channel))) } }
                    @for (value, text) in [("", "Keep"), ("subscribed", "Subscribed"), ("unsubscribed", "Unsubscribed")] {
                        label.radio {
                            input type="radio" name=(channel.as_str()) value=(value) checked[value.is_empty()];
                            (text)
                        }
                    }
                }
            }
            p.hint #not-subscribed-why {
                "Not Subscribed can't be chosen: it means consent was never recorded, so once a channel has a recorded answer it stays Subscribed or Unsubscribed."
            }
            div.dialog-actions {
                a.button href=(format!("/contacts/{id}")) data-close { "Cancel" }
                button.primary type="submit" { "Update" }
            }
        }
    };
    Ok(page::dialog(
        &session,
        &headers,
        Section::Contacts,
        "Update Consent",
        content,
    ))
}

/// Records the consent the dialog chose.
pub async fn update_consent(
    State(console): State<Console>,
    PathContact(id): PathContact,
    form: Submitted,
) -> Result<Response, Failure> {
    let mut choices = Vec::new();
    for (channel, _) in CHANNELS {
        if let Some(raw) = form.value(channel.as_str()) {
            let choice = ConsentChoice::parse(raw)
                .map_err(|e| Error::invalid(channel.as_str(), e.to_string()))?;
            choices.push((channel, choice));
        }
    }
    let back = format!("/contacts/{id}");
    if choices.is_empty() {
        return Ok(redirect_with_notice(
            &back,
            "Consent unchanged: every channel was kept.",
        ));
    }
    let version = form.value("version").and_then(|v| v.parse().ok());
    match service::record_consent(
        console.app.contacts.as_ref(),
        &form.session.audit(&console.app),
        &id,
        &choices,
        &ConsentSource::console(),
        version,
    )
    .await
    {
        Ok(_) => Ok(redirect_with_notice(&back, "Consent updated.")),
        Err(Error::PreconditionFailed { .. }) => Ok(redirect_with_notice(
            &back,
            "The contact changed while the dialog was open, so nothing was recorded. Check its consent and try again.",
        )),
        Err(other) => Err(other.into()),
    }
}

/// The Delete confirmation.
pub async fn delete_dialog(
    State(console): State<Console>,
    session: Session,
    headers: HeaderMap,
    PathContact(id): PathContact,
) -> Result<Response, Failure> {
    let contact = contact(&console, &session, &id).await?;
    Ok(page::Confirm {
        title: "Delete contact",
        confirm: "Delete",
        action: format!("/contacts/{id}/delete"),
        cancel: &format!("/contacts/{id}"),
        question: html! { "Delete " strong { (view::contact_name(&contact)) } " permanently? Their consent history and list memberships go with them. This can't be undone." },
    }
    .render(&session, &headers, Section::Contacts))
}

/// The contact's personal-data document, as a download.
pub async fn personal_data(
    State(console): State<Console>,
    session: Session,
    PathContact(id): PathContact,
) -> Result<Response, Failure> {
    Ok(
        crate::http::privacy::personal_data_response(&console.app, &session.workspace, &id)
            .await?
            .into_response(),
    )
}

/// The Erase personal data confirmation.
pub async fn erase_dialog(
    State(console): State<Console>,
    session: Session,
    headers: HeaderMap,
    PathContact(id): PathContact,
) -> Result<Response, Failure> {
    let contact = contact(&console, &session, &id).await?;
    Ok(page::Confirm {
        title: "Erase personal data",
        confirm: "Erase",
        action: format!("/contacts/{id}/erase"),
        cancel: &format!("/contacts/{id}"),
        question: html! {
            "Erase " strong { (view::contact_name(&contact)) } "? The contact is deleted with its consent history and list memberships, and its email, phone and External ID are kept out: a form, the API or an import bringing any of them back is refused until the suppression is lifted. Only a keyed hash of each is kept, never the values. Export files made before now are deleted within 7 days. This can't be undone."
        },
    }
    .render(&session, &headers, Section::Contacts))
}

/// Erases the contact.
pub async fn erase(
    State(console): State<Console>,
    PathContact(id): PathContact,
    form: Submitted,
) -> Result<Response, Failure> {
    let audit = form.session.audit(&console.app);
    crate::privacy::service::erase(&console.app, &audit, &id).await?;
    Ok(redirect_with_notice(
        "/",
        "Personal data erased: the contact is deleted and its email, phone and External ID are kept out.",
    ))
}

/// Deletes the contact.
pub async fn delete(
    State(console): State<Console>,
    PathContact(id): PathContact,
    form: Submitted,
) -> Result<Response, Failure> {
    let audit = form.session.audit(&console.app);
    service::delete(console.app.contacts.as_ref(), &audit, &id).await?;
    Ok(redirect_with_notice("/", "Contact deleted."))
}
