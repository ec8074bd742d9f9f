//! The Upload CSV wizard: file and settings, column mapping from a preview
//! of the file's start, default consent, then the upload and the import's
//! live progress. The steps run in the browser (the file never leaves it
//! before Submit); the server previews, checks the settings with the API's
//! rules and starts the import.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::page::{self, Section, select};
use super::session::{ScriptCall, Session};
use super::{Console, Failure};
use crate::catalog::Catalog;
use crate::error::{Error, FieldError};
use crate::import::csvfile::MAX_BYTES;
use crate::import::preview::{self, Preview};
use crate::import::service;
use crate::import::settings::{ImportSettings, importable, parse_settings};
use crate::model::Column;

/// The wizard.
pub async fn page(State(console): State<Console>, session: Session) -> Result<Response, Failure> {
    let catalog = Catalog::load(&console.app, &session.workspace).await?;
    let timezones = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| (tz.name(), tz.name()));
    let consent = [
        ("not_subscribed", "Not Subscribed"),
        ("subscribed", "Subscribed"),
        ("unsubscribed", "Unsubscribed"),
    ];
    let body = html! {
        nav.crumbs aria-label="Breadcrumb" { a href="/" { "All Contacts" } " / Upload CSV" }
        h1 { "Upload CSV" }
        ol.steps aria-label="Steps" {
            li data-step-label="1" aria-current="step" { "File and settings" }
            li data-step-label="2" { "Map columns" }
            li data-step-label="3" { "Consent" }
            li data-step-label="4" { "Import" }
        }
        form #upload .card data-max-bytes=(MAX_BYTES) novalidate {
            section data-step="1" aria-labelledby="step1-title" {
                h2 #step1-title { "File and settings" }
                p.hint {
                    "Use the provided CSV template: it has every column, and rows that show how to fill them. "
                    a #example-csv href="/upload/template" download=(crate::import::template::FILE_NAME) { "Download example CSV" }
                }
                label.drop {
                    strong { "Drop a CSV or Excel file here" } " or " span.pick { "choose a file" }
                    small.hint { "CSV (comma, semicolon or tab separated; UTF-8, or as Excel saves it) or .xlsx (its first sheet), with a header row; 50 MB at most. Exports of Mailchimp, Google Contacts, Outlook, HubSpot and Brevo map by themselves." }
                    input #file .visually-hidden type="file" accept=".csv,text/csv,.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
                }
                p #file-chosen .muted aria-live="polite" {}
                p #file-error .error role="alert" {}
                fieldset {
                    legend { "Add to list(s)" }
                    @if catalog.lists.is_empty() {
                        p.hint { "No lists yet. " a href="/lists" { "Create one" } " first to add the imported contacts to it." }
                    } @else {
                        div.checks {
                            @for list in &catalog.lists {
                                label.check { input type="checkbox" name="lists" value=(list.id.as_ref()); (list.name.as_ref()) }
                            }
                        }
                    }
                }
                div.field {
                    label for="timezone" { "Set timezone for all contacts" }
                    (select("timezone", Some("Keep each contact's timezone from the file"), timezones, None))
                }
                fieldset {
                    legend { "Action for existing contacts" }
                    label.radio { input type="radio" name="existing_contacts" value="retain" checked; "Retain: keep contacts that are not in the file" }
                    label.radio { input type="radio" name="existing_contacts" value="remove"; "Remove: delete contacts that are not in the file" }
                    p #remove-warning .alert role="alert" hidden {
                        strong { "Permanent deletion. " }
                        "Every contact that existed before this import and that no row of the file identifies will be deleted, with its consent history, once all rows are processed. This can't be undone."
                    }
                }
                fieldset {
                    legend { "Existing contacts in the file" }
                    label.check { input #update-existing type="checkbox" name="update_existing"; "Update existing contacts" }
                    p.hint { "Off: rows matching a contact (by External ID, email or phone) are skipped." }
                    div #update-options hidden {
                        div.choice {
                            span.label { "Recognize contacts by" }
                            label.radio { input type="radio" name="match_by" value="external_id" checked; "External ID" }
                            label.radio { input type="radio" name="match_by" value="messaging_id"; "Messaging ID" }
                        }
                        div.choice {
                            span.label { "Attributes missing from the file" }
                            label.radio { input type="radio" name="missing_attributes" value="keep" checked; "Keep their values" }
                            label.radio { input type="radio" name="missing_attributes" value="delete"; "Delete their values" }
                        }
                    }
                }
                div.form-actions { a.button href="/" { "Cancel" } button.primary type="button" data-next { "Next" } }
            }
            section data-step="2" aria-labelledby="step2-title" hidden {
                h2 #step2-title { "Map columns" }
                div #mapping aria-live="polite" {}
                label.check { input type="checkbox" name="replace_invalid_values"; "Replace Invalid Values: import rows with invalid values, leaving those values empty" }
                p.hint { "Off: a row with an invalid value is not imported and is listed in the error file. A row with neither a valid phone nor a valid email is never imported." }
                div.form-actions { button.button type="button" data-back { "Back" } button.primary type="button" data-next { "Next" } }
            }
            section data-step="3" aria-labelledby="step3-title" hidden {
                h2 #step3-title { "Consent" }
                p { "Default consent for contacts whose row gives none for a channel. It applies to new contacts and to channels never recorded; it never changes consent a contact already gave or refused." }
                div.grid {
                    @for (channel, label) in [("sms", "SMS"), ("whatsapp", "WhatsApp"), ("email", "Email")] {
                        div.field {
                            label for=(format!("consent-{channel}")) { (label) }
                            select id=(format!("consent-{channel}")) name=(format!("consent.{channel}")) {
                                @for (value, text) in consent { option value=(value) { (text) } }
                            }
                        }
                    }
                }
                label.check.confirm { input type="checkbox" name="consent_confirmed"; "I confirm that the contacts set to Subscribed agreed to receive messages on those channels, as data-protection law requires." }
                label.check { input type="checkbox" name="dry_run"; "Dry run: show what would happen without changing any contact" }
                div #start-errors .alert role="alert" hidden {}
                div.form-actions { button.button type="button" data-back { "Back" } button.primary type="submit" { "Submit" } }
            }
            section data-step="4" aria-labelledby="step4-title" hidden {
                h2 #step4-title { "Import" }
                div #upload-progress {
                    label for="upload-bar" { "Uploading " span #upload-name {} }
                    progress #upload-bar max="100" value="0" {}
                }
                div #import-progress aria-live="polite" {}
                div.form-actions #after-dry-run hidden {
                    button.primary type="button" #run-for-real { "Import for real" }
                }
            }
        }
    };
    Ok(page::page(&session, Section::Contacts, "Upload CSV", body))
}

/// Download example CSV: the API's template for the session's workspace.
pub async fn template(
    State(console): State<Console>,
    session: Session,
) -> Result<Response, Failure> {
    let catalog = Catalog::load(&console.app, &session.workspace).await?;
    Ok(crate::http::imports::template_file(&catalog))
}

/// The settings a preview maps with (as JSON, in the query).
#[derive(Debug, Default, Deserialize)]
pub struct PreviewQuery {
    settings: Option<String>,
}

/// The mapping step for the first bytes of the chosen file.
pub async fn preview(
    State(console): State<Console>,
    ScriptCall(session): ScriptCall,
    Query(query): Query<PreviewQuery>,
    bytes: Bytes,
) -> Result<Response, Failure> {
    let catalog = Catalog::load(&console.app, &session.workspace).await?;
    let settings = match query.settings.as_deref() {
        Some(json) => parse_settings(json.as_bytes())?,
        None => ImportSettings::default(),
    };
    let rules = match settings.check(&catalog) {
        Ok(rules) => rules,
        Err(_) => ImportSettings::default().check(&catalog)?,
    };
    let complete = bytes.len() < preview::MAX_BYTES;
    let end = bytes.len().min(preview::MAX_BYTES);
    let preview = preview::preview(bytes.slice(..end), complete, rules, catalog.clone()).await?;
    Ok(mapping(&preview, &catalog).into_response())
}

fn mapping(preview: &Preview, catalog: &Catalog) -> Markup {
    let samples = |i: usize| -> Vec<&str> {
        preview
            .sample_rows
            .iter()
            .filter_map(|row| row.get(i).map(String::as_str))
            .filter(|v| !v.is_empty())
            .take(3)
            .collect()
    };
    let targets: Vec<(String, String)> = Column::ALL
        .into_iter()
        .filter(|c| importable(*c))
        .map(|c| (c.name().to_owned(), c.header().to_owned()))
        .chain(
            catalog
                .attributes
                .iter()
                .map(|d| (d.name.to_string(), d.label.to_string())),
        )
        .collect();
    html! {
        @if let Some(problem) = &preview.problem {
            div.alert role="alert" { p { (super::failure::sentence(problem)) } }
        }
        @if !preview.columns.is_empty() {
            p.muted {
                "Detected: " (describe_delimiter(&preview.delimiter)) ", " (preview.encoding) "; "
                (super::view::count(preview.rows_read)) " rows read from the start of the file."
            }
            div.table-wrap {
                table #mapping-table {
                    thead { tr { th scope="col" { "Column in file" } th scope="col" { "Sample values" } th scope="col" { "Import as" } th scope="col" { "Invalid values" } } }
                    tbody {
                        @for (i, column) in preview.columns.iter().enumerate() {
                            @let id = format!("map-{i}");
                            tr data-header=(column.header) {
                                th scope="row" { label for=(id) { (column.header) } }
                                td.samples { (samples(i).join(", ")) }
                                td {
                                    select id=(id) .map {
                                        option value="" selected[column.attribute.is_none()] { "Skip this column" }
                                        optgroup label="Attributes" {
                                            @for (name, label) in &targets {
                                                option value=(name) selected[column.attribute.as_deref() == Some(name.as_str())] { (label) }
                                            }
                                        }
                                        option value="+create" { "Create new attribute…" }
                                    }
                                    small.hint { (super::failure::sentence(&column.reason)) }
                                    div.create hidden {
                                        input type="text" .create-label aria-label=(format!("Label of the new attribute for {}", column.header)) placeholder="Label" value=(column.header);
                                        input type="text" .create-name aria-label=(format!("Name of the new attribute for {}", column.header)) placeholder="name" value=(suggested_name(&column.header));
                                        select .create-type aria-label=(format!("Type of the new attribute for {}", column.header)) {
                                            @for kind in ["text", "number", "boolean", "date", "datetime"] { option value=(kind) { (kind) } }
                                        }
                                    }
                                }
                                td { @if column.invalid > 0 { span.badge.unsubscribed { (column.invalid) " invalid" } } @else { "—" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn describe_delimiter(delimiter: &str) -> String {
    match delimiter {
        "," => "comma separated".to_owned(),
        ";" => "semicolon separated".to_owned(),
        "tab" => "tab separated".to_owned(),
        other => format!("separated by {other}"),
    }
}

/// An attribute name from a header: lower case, `_` between words.
fn suggested_name(header: &str) -> String {
    let mut name = String::new();
    for c in header.trim().chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
    }
    let name = name.trim_end_matches('_');
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.to_owned()
    } else {
        format!("attr_{name}")
    }
}

/// What the wizard submits.
#[derive(Debug, Deserialize)]
pub struct StartRequest {
    settings: serde_json::Value,
    file_name: Option<String>,
    file_size: Option<u64>,
}

/// Checks the settings with the API's rules and records the import: its ID
/// and the link the script uploads the file to; or every bad field.
pub async fn start(
    State(console): State<Console>,
    ScriptCall(session): ScriptCall,
    Json(request): Json<StartRequest>,
) -> Result<Response, Failure> {
    let state = &console.app;
    let started = async {
        let json =
            serde_json::to_vec(&request.settings).map_err(|e| Error::Unexpected(e.into()))?;
        let settings = parse_settings(&json)?;
        let size = request.file_size.map(|size| size.to_string());
        let (file_name, file_size) =
            service::announced_file(request.file_name.as_deref(), size.as_deref())?;
        let job = service::create(state, &session.audit(state), settings, file_name).await?;
        let link = service::upload_link(state, &job, file_size).await?;
        Ok::<_, Error>((job, link))
    }
    .await;
    match started {
        Ok((job, link)) => Ok(Json(json!({
            "import_id": job.id.to_string(),
            "upload_url": link.url,
            "progress_url": format!("/imports/{}", job.id),
        }))
        .into_response()),
        Err(Error::Validation(errors)) => Ok(problems(&errors)),
        Err(other) => Err(other.into()),
    }
}

fn problems(errors: &[FieldError]) -> Response {
    let messages: Vec<String> = errors
        .iter()
        .map(|e| describe_field(&e.field, &e.message))
        .collect();
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "errors": messages })),
    )
        .into_response()
}

/// A settings error in the wizard's words.
fn describe_field(field: &str, message: &str) -> String {
    let place = match field.split(['.', '[']).next().unwrap_or_default() {
        "columns" => format!("Column {}", field.strip_prefix("columns.").unwrap_or(field)),
        "default_consent" | "consent_confirmed" => "Consent".to_owned(),
        "lists" => "Lists".to_owned(),
        "timezone" => "Timezone".to_owned(),
        "update_existing" => "Update existing contacts".to_owned(),
        "" => return super::failure::sentence(message),
        other => other.replace('_', " "),
    };
    format!("{place}: {}", super::failure::sentence(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_names_are_attribute_names() {
        assert_eq!(suggested_name("Loyalty Tier"), "loyalty_tier");
        assert_eq!(suggested_name(" Orders (2025) "), "orders_2025");
        assert_eq!(suggested_name("2nd phone"), "attr_2nd_phone");
    }
}
