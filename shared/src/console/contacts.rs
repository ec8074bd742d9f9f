//! All Contacts: usage, filters, the table with its columns and row
//! actions, paging, and the ways in (Add New) and out (Download CSV).

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};

use super::page::{self, COLUMNS_ICON, MORE_ICON, Section, csrf, icon};
use super::session::{Session, Submitted, redirect_with_notice};
use super::view::{self, heading};
use super::{Console, Failure};
use crate::catalog::{self, Catalog};
use crate::error::{Error, FieldError};
use crate::http::QueryPairs;
use crate::model::{AttributeType, Column, ConsentStatus};
use crate::query::{ColumnChoice, ListRequest, Page};

/// The filters shown before any is added.
const DEFAULT_FILTERS: [&str; 3] = ["full_name", "phone", "email"];

/// One filter of the form.
struct Filter {
    key: String,
    label: String,
    input: FilterInput,
}

enum FilterInput {
    Text,
    Consent,
    Country,
    List,
    Attribute(AttributeType),
}

/// Every filter the workspace offers, defaults first.
fn filters(catalog: &Catalog) -> Vec<Filter> {
    let generic = [
        ("full_name", "Full name", FilterInput::Text),
        ("phone", "Phone", FilterInput::Text),
        ("email", "Email", FilterInput::Text),
        ("first_name", "First name", FilterInput::Text),
        ("last_name", "Last name", FilterInput::Text),
        ("country", "Country", FilterInput::Country),
        ("sms_consent", "SMS consent", FilterInput::Consent),
        ("whatsapp_consent", "WhatsApp consent", FilterInput::Consent),
        ("email_consent", "Email consent", FilterInput::Consent),
        ("list", "List", FilterInput::List),
    ];
    generic
        .into_iter()
        .map(|(key, label, input)| Filter {
            key: key.to_owned(),
            label: label.to_owned(),
            input,
        })
        .chain(catalog.attributes.iter().map(|d| Filter {
            key: format!("attr.{}", d.name),
            label: d.label.to_string(),
            input: FilterInput::Attribute(d.kind),
        }))
        .collect()
}

/// The page's query without empty fields (a filter form sends every input).
fn asked(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .collect()
}

/// The All Contacts page (and a list's members, with `list=`).
pub async fn page(
    State(console): State<Console>,
    session: Session,
    QueryPairs(pairs): QueryPairs,
) -> Result<Response, Failure> {
    let state = &console.app;
    let workspace = &session.workspace;
    let pairs = asked(pairs);
    let (catalog, columns, usage) = tokio::try_join!(
        Catalog::load(state, workspace),
        catalog::columns(state, workspace),
        state.contacts.count(workspace),
    )?;
    let request = ListRequest::from_pairs(&pairs, &catalog.attributes).and_then(|request| {
        match request.query.filters.iter().find_map(|f| match f {
            crate::query::ContactFilter::InList(id) if catalog.list(id).is_none() => Some(id),
            _ => None,
        }) {
            Some(id) => Err(Error::invalid("list", format!("no list has ID {id}"))),
            None => Ok(request),
        }
    });
    let (contacts, problems) = match request {
        Ok(request) => (
            Some(
                state
                    .contacts
                    .list(workspace, &request.query, &request.page)
                    .await?,
            ),
            Vec::new(),
        ),
        Err(Error::Validation(errors)) => (None, errors),
        Err(other) => return Err(other.into()),
    };
    let filters: Vec<(String, String)> = pairs
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "cursor" | "limit" | "columns"))
        .cloned()
        .collect();
    let body = html! {
        div.heading {
            div {
                h1 { "All Contacts" }
                (usage_meter(usage, state.usage_limit))
            }
            div.actions {
                (download_form(&session, &filters, &columns))
                details.menu.add-new {
                    summary.button.primary { "Add New" }
                    ul role="menu" {
                        li { a role="menuitem" href="/contacts/new" { "Create Contact" } }
                        li { a role="menuitem" href="/upload" { "Upload CSV" } }
                    }
                }
            }
        }
        (filter_form(&catalog, &filters, &problems))
        @if let Some(contacts) = &contacts {
            (table(&catalog, &columns, contacts, &filters, pairs.iter().any(|(k, _)| k == "cursor")))
        }
        (columns_dialog(&session, &catalog, &columns))
    };
    Ok(page::page(
        &session,
        Section::Contacts,
        "All Contacts",
        body,
    ))
}

fn usage_meter(count: u64, limit: Option<u64>) -> Markup {
    html! {
        p.usage {
            span.label { "Contacts Usage" }
            " "
            strong #usage-count { (view::count(count)) }
            @if let Some(limit) = limit {
                " of " (view::count(limit))
                meter min="0" max=(limit) value=(count) high=(limit * 9 / 10) aria-label="Contacts used of the limit" {}
            } @else {
                " contacts"
            }
        }
    }
}

fn filter_form(catalog: &Catalog, active: &[(String, String)], problems: &[FieldError]) -> Markup {
    let value = |key: &str| {
        active
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let all = filters(catalog);
    let shown = |filter: &Filter| {
        DEFAULT_FILTERS.contains(&filter.key.as_str()) || value(&filter.key).is_some()
    };
    html! {
        form.filters method="get" action="/" role="search" aria-label="Filter contacts" {
            div.filter-fields {
                @for filter in &all {
                    div.filter data-filter=(filter.key) hidden[!shown(filter)] {
                        (page::field(&filter.label, &filter.key, None, problems, filter_input(catalog, filter, value(&filter.key))))
                        @if !DEFAULT_FILTERS.contains(&filter.key.as_str()) {
                            button.remove-filter.link type="button" aria-label=(format!("Remove the {} filter", filter.label)) { "×" }
                        }
                    }
                }
            }
            div.filter-actions {
                label.visually-hidden for="add-filter" { "Add filter" }
                select #add-filter {
                    option value="" { "+ Add Filter" }
                    @for filter in all.iter().filter(|f| !shown(f)) {
                        option value=(filter.key) { (filter.label) }
                    }
                }
                button.primary type="submit" { "Filter" }
                @if !active.is_empty() { a.button href="/" { "Clear" } }
            }
            @if !problems.is_empty() {
                div.alert role="alert" {
                    @for problem in problems {
                        p { (problem.field) ": " (problem.message) }
                    }
                }
            }
        }
    }
}

fn filter_input(catalog: &Catalog, filter: &Filter, value: Option<&str>) -> Markup {
    let name = filter.key.as_str();
    let consent = [
        (ConsentStatus::Subscribed.as_str(), "Subscribed"),
        (ConsentStatus::Unsubscribed.as_str(), "Unsubscribed"),
        (ConsentStatus::NotSubscribed.as_str(), "Not Subscribed"),
    ];
    match filter.input {
        FilterInput::Text => page::text_input(name, "search", value, &[]),
        FilterInput::Consent => page::select(name, Some("Any"), consent, value),
        FilterInput::Country => page::select(
            name,
            Some("Any"),
            super::contact_form::countries()
                .iter()
                .map(|(c, n)| (*c, *n)),
            value,
        ),
        FilterInput::List => page::select(
            name,
            Some("Any"),
            catalog
                .lists
                .iter()
                .map(|l| (l.id.as_ref(), l.name.as_ref())),
            value,
        ),
        FilterInput::Attribute(AttributeType::Boolean) => {
            page::select(name, Some("Any"), [("true", "Yes"), ("false", "No")], value)
        }
        FilterInput::Attribute(AttributeType::Number) => {
            page::text_input(name, "number", value, &[])
        }
        FilterInput::Attribute(AttributeType::Date) => page::text_input(name, "date", value, &[]),
        FilterInput::Attribute(_) => page::text_input(name, "search", value, &[]),
    }
}

fn table(
    catalog: &Catalog,
    columns: &[ColumnChoice],
    contacts: &Page<crate::model::Contact>,
    filters: &[(String, String)],
    paged: bool,
) -> Markup {
    let next = contacts.next_cursor.as_ref().map(|cursor| {
        let mut query = filters.to_vec();
        query.push(("cursor".into(), cursor.0.clone()));
        format!(
            "/?{}",
            serde_urlencoded::to_string(&query).unwrap_or_default()
        )
    });
    let first = format!(
        "/?{}",
        serde_urlencoded::to_string(filters).unwrap_or_default()
    );
    html! {
        div.table-wrap {
            table.contacts {
                caption.visually-hidden { "Contacts" }
                thead {
                    tr {
                        th.tools scope="col" {
                            button.icon-button type="button" data-open="columns-dialog" aria-label="Customize columns" title="Customize columns" {
                                (icon(COLUMNS_ICON))
                            }
                        }
                        @for column in columns { th scope="col" { (heading(column, catalog)) } }
                        th.tools scope="col" { span.visually-hidden { "Actions" } }
                    }
                }
                tbody {
                    @for contact in &contacts.items {
                        @let name = view::contact_name(contact);
                        tr {
                            td.tools {
                                a.open href=(format!("/contacts/{}", contact.messaging_id)) aria-label=(format!("Open {name}")) { "›" }
                            }
                            @for column in columns { td { (view::cell(contact, column, catalog)) } }
                            td.tools { (row_menu(contact.messaging_id.as_ref(), &name)) }
                        }
                    }
                    @if contacts.items.is_empty() {
                        tr.empty { td colspan=(columns.len() + 2) {
                            @if filters.is_empty() && !paged { "No contacts yet. Use Add New to create one or upload a CSV." }
                            @else { "No contacts match these filters." }
                        } }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if paged { a.button href=(first) { "« First page" } }
            @if let Some(next) = next {
                a.button #next-page href=(next) rel="next" { "More »" }
            }
        }
    }
}

/// The actions of one row.
fn row_menu(id: &str, name: &str) -> Markup {
    html! {
        details.menu.row-menu {
            summary.icon-button aria-label=(format!("Actions for {name}")) { (icon(MORE_ICON)) }
            ul role="menu" {
                li { a role="menuitem" href=(format!("/contacts/{id}")) { "Details" } }
                li { a role="menuitem" href=(format!("/contacts/{id}/edit")) { "Edit" } }
                li { a role="menuitem" href=(format!("/contacts/{id}/consent")) data-dialog { "Update Consent" } }
                li { a.danger role="menuitem" href=(format!("/contacts/{id}/delete")) data-dialog { "Delete" } }
                li { a.danger role="menuitem" href=(format!("/contacts/{id}/erase")) data-dialog { "Erase personal data" } }
            }
        }
    }
}

fn download_form(
    session: &Session,
    filters: &[(String, String)],
    columns: &[ColumnChoice],
) -> Markup {
    html! {
        form method="post" action="/downloads" {
            (csrf(session))
            @for (key, value) in filters {
                input type="hidden" name=(format!("filter.{key}")) value=(value);
            }
            @for column in columns {
                input type="hidden" name="column" value=(column.name());
            }
            button.button type="submit" name="format" value="csv" { "Download CSV" }
            button.button type="submit" name="format" value="xlsx" { "Download as Excel (.xlsx)" }
        }
    }
}

fn columns_dialog(session: &Session, catalog: &Catalog, shown: &[ColumnChoice]) -> Markup {
    let generic = Column::ALL.map(ColumnChoice::Generic);
    let custom = catalog
        .attributes
        .iter()
        .map(|d| ColumnChoice::Custom(d.name.clone()));
    html! {
        dialog #columns-dialog aria-labelledby="columns-title" {
            form method="post" action="/columns" {
                h2 #columns-title { "Customize columns" }
                (csrf(session))
                fieldset {
                    legend { "Generic attributes" }
                    @for column in &generic { (column_choice(column, catalog, shown)) }
                }
                @if !catalog.attributes.is_empty() {
                    fieldset {
                        legend { "Custom attributes" }
                        @for column in custom { (column_choice(&column, catalog, shown)) }
                    }
                }
                div.dialog-actions {
                    button.button type="button" data-close { "Cancel" }
                    button.primary type="submit" { "Save" }
                }
            }
        }
    }
}

fn column_choice(column: &ColumnChoice, catalog: &Catalog, shown: &[ColumnChoice]) -> Markup {
    html! {
        label.check {
            input type="checkbox" name="column" value=(column.name()) checked[shown.contains(column)];
            (heading(column, catalog))
        }
    }
}

/// Saves the chosen columns and shows the table again.
pub async fn save_columns(
    State(console): State<Console>,
    form: Submitted,
) -> Result<Response, Failure> {
    let names: Vec<String> = form.values("column").map(str::to_owned).collect();
    match catalog::save_columns(&console.app, &form.session.audit(&console.app), &names).await {
        Ok(_) => Ok(redirect_with_notice("/", "Columns saved.")),
        Err(Error::Validation(errors)) => Ok(redirect_with_notice(
            "/",
            &errors
                .first()
                .map_or("Choose at least one column.".to_owned(), |e| {
                    super::failure::sentence(&e.message)
                }),
        )),
        Err(other) => Err(other.into()),
    }
}
