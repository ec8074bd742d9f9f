//! The merge screen: the contacts side by side with a choice per field,
//! what consent, lists and External IDs become spelled out, then the merge.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::page::{self, Section, csrf};
use super::session::{Session, Submitted, redirect_with_notice};
use super::view::{self, consent};
use super::{Console, Failure};
use crate::catalog::Catalog;
use crate::error::Error;
use crate::export::cells;
use crate::http::merge::MergeContactsRequest;
use crate::model::{Channel, Contact, MergeField, MergeRequest, MessagingId};
use crate::service;

/// The contacts to merge, the one kept first.
#[derive(Debug, Deserialize)]
pub struct Chosen {
    ids: String,
}

const CHANNELS: [(Channel, &str); 3] = [
    (Channel::Sms, "SMS consent"),
    (Channel::Whatsapp, "WhatsApp consent"),
    (Channel::Email, "Email consent"),
];

/// The merge screen.
pub async fn screen(
    State(console): State<Console>,
    session: Session,
    Query(chosen): Query<Chosen>,
) -> Result<Response, Failure> {
    let state = &console.app;
    let ids = chosen
        .ids
        .split(',')
        .map(MessagingId::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::invalid("ids", e.0))?;
    let Some((survivor, merge)) = ids.split_first() else {
        return Err(Error::invalid("ids", "name the contacts to merge").into());
    };
    let request = MergeRequest {
        survivor: survivor.clone(),
        merge: merge.to_vec(),
        fields: BTreeMap::new(),
        versions: BTreeMap::new(),
    };
    let (preview, catalog) = tokio::try_join!(
        service::merge_preview(state.contacts.as_ref(), &session.workspace, &request),
        Catalog::load(state, &session.workspace)
    )?;
    let (contacts, plan) = (&preview.contacts, &preview.plan);
    let Some((kept, others)) = contacts.split_first() else {
        return Err(Error::invalid("ids", "name the contacts to merge").into());
    };
    let keep_instead = |contact: &Contact| {
        let mut reordered = vec![contact.clone()];
        reordered.extend(
            contacts
                .iter()
                .filter(|c| c.messaging_id != contact.messaging_id)
                .cloned(),
        );
        let ids: Vec<&str> = reordered.iter().map(|c| c.messaging_id.as_ref()).collect();
        format!("/duplicates/merge?ids={}", ids.join(","))
    };
    let fields = MergeField::every(contacts);
    let freed: Vec<&str> = others
        .iter()
        .filter_map(|c| c.external_id.as_ref().map(AsRef::as_ref))
        .collect();
    let list_names = |contact: &Contact| {
        let names: Vec<String> = catalog
            .existing_lists(&contact.lists)
            .map(|l| l.name.to_string())
            .collect();
        if names.is_empty() {
            "—".to_owned()
        } else {
            names.join(", ")
        }
    };
    let body = html! {
        nav.crumbs aria-label="Breadcrumb" { a href="/duplicates" { "Duplicates" } " / Merge" }
        h1 { "Merge " (contacts.len()) " contacts" }
        p.muted {
            "One contact is kept; the others are merged into it and deleted. Their Messaging IDs keep working: they lead to the contact kept."
        }
        form method="post" action="/duplicates/merge" {
            (csrf(&session))
            @for contact in contacts {
                input type="hidden" name="id" value=(contact.messaging_id.as_ref());
                input type="hidden" name=(format!("version.{}", contact.messaging_id)) value=(contact.version);
            }
            div.table-wrap {
                table.merge {
                    thead { tr {
                        th scope="col" { "Field" }
                        @for contact in contacts {
                            th scope="col" {
                                a href=(format!("/contacts/{}", contact.messaging_id)) { (view::contact_name(contact)) }
                                br;
                                @if contact.messaging_id == kept.messaging_id {
                                    span.badge.kept { "Kept" }
                                } @else {
                                    a.small href=(keep_instead(contact)) { "Keep this one instead" }
                                }
                            }
                        }
                        th scope="col" { "After merge" }
                    } }
                    tbody {
                        @for field in &fields {
                            @let key = field_key(field, &catalog);
                            @let source = field.default_source(kept, others).map(|c| c.messaging_id.clone());
                            tr {
                                th scope="row" { (field_label(field, &catalog)) }
                                @for contact in contacts {
                                    td {
                                        label.radio {
                                            input type="radio" name=(format!("field.{key}")) value=(contact.messaging_id.as_ref())
                                                checked[source.as_ref() == Some(&contact.messaging_id)];
                                            (field_value(field, contact))
                                        }
                                    }
                                }
                                td.after { (source_value(field, kept, others)) }
                            }
                        }
                        tr {
                            th scope="row" { "External ID" }
                            @for contact in contacts { td { (contact.external_id.as_ref().map_or("—", AsRef::as_ref)) } }
                            td.after {
                                (kept.external_id.as_ref().map_or("—", AsRef::as_ref))
                                @if !freed.is_empty() { br; span.small { "freed: " (freed.join(", ")) } }
                            }
                        }
                        tr {
                            th scope="row" { "Lists" }
                            @for contact in contacts { td { (list_names(contact)) } }
                            td.after { (list_names(&plan.survivor)) }
                        }
                        @for (channel, label) in CHANNELS {
                            tr {
                                th scope="row" { (label) }
                                @for contact in contacts { td { (consent(contact.consent.get(channel))) } }
                                td.after { (consent(plan.survivor.consent.get(channel))) }
                            }
                        }
                    }
                }
            }
            p.hint {
                "Consent: on each channel the merged contact keeps the answer recorded last among them, so an unsubscribe recorded after a subscribe is never lost. Every consent history moves to the contact kept, with one entry per channel for this merge."
            }
            div.actions {
                a.button href="/duplicates" { "Cancel" }
                button.primary type="submit" { "Merge " (contacts.len()) " contacts" }
            }
        }
    };
    Ok(page::page(
        &session,
        Section::Duplicates,
        "Merge contacts",
        body,
    ))
}

/// A field's name in the form: the API's.
fn field_key(field: &MergeField, catalog: &Catalog) -> String {
    match field {
        MergeField::Attribute(id) => catalog
            .attribute_by_id(id)
            .map_or_else(|| id.to_string(), |d| d.name.to_string()),
        generic => generic.name().unwrap_or_default().to_owned(),
    }
}

fn field_label(field: &MergeField, catalog: &Catalog) -> String {
    match field {
        MergeField::FirstName => "First name".to_owned(),
        MergeField::LastName => "Last name".to_owned(),
        MergeField::Phone => "Phone number".to_owned(),
        MergeField::Email => "Email".to_owned(),
        MergeField::Country => "Country".to_owned(),
        MergeField::Timezone => "Timezone".to_owned(),
        MergeField::Attribute(id) => catalog
            .attribute_by_id(id)
            .map_or_else(|| id.to_string(), |d| d.label.to_string()),
    }
}

/// The value a field takes when none is chosen.
fn source_value(field: &MergeField, kept: &Contact, others: &[Contact]) -> String {
    field
        .default_source(kept, others)
        .map_or_else(|| "—".to_owned(), |from| field_value(field, from))
}

fn field_value(field: &MergeField, contact: &Contact) -> String {
    let text = |value: Option<&str>| value.unwrap_or("—").to_owned();
    match field {
        MergeField::FirstName => text(contact.first_name.as_ref().map(AsRef::as_ref)),
        MergeField::LastName => text(contact.last_name.as_ref().map(AsRef::as_ref)),
        MergeField::Phone => text(contact.reach.phone().map(AsRef::as_ref)),
        MergeField::Email => text(contact.reach.email().map(AsRef::as_ref)),
        MergeField::Country => text(contact.country.as_ref().map(AsRef::as_ref)),
        MergeField::Timezone => text(contact.timezone.as_ref().map(AsRef::as_ref)),
        MergeField::Attribute(id) => contact
            .attributes
            .get(id)
            .map_or_else(|| "—".to_owned(), cells::text),
    }
}

/// Merges what the screen chose, then shows the contact kept.
pub async fn merge(State(console): State<Console>, form: Submitted) -> Result<Response, Failure> {
    let state = &console.app;
    let workspace = &form.session.workspace;
    let ids: Vec<String> = form.values("id").map(str::to_owned).collect();
    let Some((survivor, merge)) = ids.split_first() else {
        return Err(Error::invalid("id", "name the contacts to merge").into());
    };
    let survivor = MessagingId::parse(survivor).map_err(|e| Error::invalid("id", e.0))?;
    let prefixed = |prefix: &'static str| {
        form.fields.iter().filter_map(move |(key, value)| {
            Some((key.strip_prefix(prefix)?.to_owned(), value.clone()))
        })
    };
    let body = MergeContactsRequest {
        merge: merge.to_vec(),
        fields: prefixed("field.").collect(),
        versions: prefixed("version.")
            .filter_map(|(id, version)| Some((id, version.parse().ok()?)))
            .collect(),
    };
    let catalog = Catalog::load(state, workspace).await?;
    let request = body.into_request(survivor.clone(), &catalog)?;
    match service::merge(
        state.contacts.as_ref(),
        &form.session.audit(state),
        &request,
    )
    .await
    {
        Ok(_) => Ok(redirect_with_notice(
            &format!("/contacts/{survivor}"),
            &format!("Merged {} contacts into this one.", merge.len() + 1),
        )),
        Err(Error::ContactChanged { id, .. }) => {
            let again: Vec<&str> = ids.iter().map(String::as_str).collect();
            Ok(redirect_with_notice(
                &format!("/duplicates/merge?ids={}", again.join(",")),
                &format!(
                    "Contact {id} changed since this screen was shown, so nothing was merged. Check the choices and merge again."
                ),
            ))
        }
        Err(other) => Err(other.into()),
    }
}
