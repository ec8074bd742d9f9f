//! How contact values look on a page: cells, consent badges, times.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use crate::catalog::Catalog;
use crate::export::cells;
use crate::model::{Column, ConsentStatus, Contact};
use crate::query::ColumnChoice;

/// A column's heading: generic columns by their CSV header, custom
/// attributes by label.
pub fn heading(column: &ColumnChoice, catalog: &Catalog) -> String {
    match column {
        ColumnChoice::Generic(column) => column.header().to_owned(),
        ColumnChoice::Custom(name) => catalog
            .attribute(name.as_ref())
            .map_or_else(|| name.to_string(), |d| d.label.to_string()),
    }
}

/// A contact's value in `column`.
pub fn cell(contact: &Contact, column: &ColumnChoice, catalog: &Catalog) -> Markup {
    match column {
        ColumnChoice::Generic(Column::SmsConsent) => consent(contact.consent.sms),
        ColumnChoice::Generic(Column::WhatsappConsent) => consent(contact.consent.whatsapp),
        ColumnChoice::Generic(Column::EmailConsent) => consent(contact.consent.email),
        ColumnChoice::Generic(Column::CreatedAt) => time(contact.created_at),
        ColumnChoice::Generic(Column::UpdatedAt) => time(contact.updated_at),
        ColumnChoice::Generic(Column::Lists) => {
            let names: Vec<&str> = catalog
                .existing_lists(&contact.lists)
                .map(|l| l.name.as_ref())
                .collect();
            html! { (names.join(", ")) }
        }
        ColumnChoice::Generic(generic) => html! { (cells::generic(contact, *generic, catalog)) },
        ColumnChoice::Custom(name) => html! {
            @if let Some(value) = catalog.attribute(name.as_ref()).and_then(|d| contact.attributes.get(&d.id)) {
                (cells::text(value))
            }
        },
    }
}

/// A consent status as a badge.
pub fn consent(status: ConsentStatus) -> Markup {
    let label = match status {
        ConsentStatus::Subscribed => "Subscribed",
        ConsentStatus::Unsubscribed => "Unsubscribed",
        ConsentStatus::NotSubscribed => "Not Subscribed",
    };
    html! { span.badge.(status.as_str()) { (label) } }
}

/// A time, readable, with the exact value on hover.
pub fn time(at: DateTime<Utc>) -> Markup {
    html! {
        time datetime=(at.to_rfc3339()) title=(format!("{} UTC", at.format("%Y-%m-%d %H:%M:%S"))) { (at.format("%Y-%m-%d %H:%M")) }
    }
}

/// A count with thousands separators.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What to call a contact: their name, else their email or phone, else
/// their External ID.
pub fn contact_name(contact: &Contact) -> String {
    contact
        .full_name()
        .or_else(|| contact.reach.email().map(|e| e.to_string()))
        .or_else(|| contact.reach.phone().map(|p| p.to_string()))
        .unwrap_or_else(|| contact.messaging_id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }
}
