//! The headers other tools write, as data: the attribute each fills, and how
//! good a source it is when a file has several for one attribute. Learnt
//! from the exports of Mailchimp, Google Contacts, Outlook, HubSpot and
//! Brevo (`tests/fixtures/exporters/SOURCES.md`) and from hand-made sheets.

use crate::model::Column;

/// A header some tool writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alias {
    pub header: &'static str,
    pub column: Column,
    /// Lower is better for messaging (a mobile number before a home
    /// phone); a file's other candidates for the attribute stay unmapped.
    /// A header naming the attribute itself ranks [`EXACT`].
    pub rank: u8,
    /// What the column holds, for the preview: "Outlook's mobile phone".
    pub what: &'static str,
    /// Its numbers are international digits without the `+`.
    pub international: bool,
}

/// The rank of a header that names a generic attribute as this product does.
pub const EXACT: u8 = 1;

const fn alias(header: &'static str, column: Column, rank: u8, what: &'static str) -> Alias {
    Alias {
        header,
        column,
        rank,
        what,
        international: false,
    }
}

/// Every known header, matched ignoring case, spaces, `_` and `-`.
pub const ALIASES: &[Alias] = &[
    // Identifiers.
    alias("id", Column::ExternalId, EXACT, "an ID"),
    alias("EXT_ID", Column::ExternalId, 0, "Brevo's external ID"),
    alias("Record ID", Column::ExternalId, 2, "HubSpot's record ID"),
    // Names.
    alias("Given Name", Column::FirstName, EXACT, "a given name"),
    alias("FNAME", Column::FirstName, EXACT, "a first name"),
    alias("Family Name", Column::LastName, EXACT, "a family name"),
    alias("Surname", Column::LastName, EXACT, "a surname"),
    alias("LNAME", Column::LastName, EXACT, "a last name"),
    alias("Name", Column::FullName, EXACT, "a full name"),
    alias("Contact Name", Column::FullName, EXACT, "a full name"),
    alias("Display Name", Column::FullName, 2, "a display name"),
    // Email.
    alias(
        "Email Address",
        Column::Email,
        EXACT,
        "an email address (Mailchimp, Outlook)",
    ),
    alias(
        "E-mail 1 - Value",
        Column::Email,
        EXACT,
        "Google Contacts' first email",
    ),
    alias("Mail", Column::Email, EXACT, "an email address"),
    alias("Primary Email", Column::Email, EXACT, "the primary email"),
    alias("Work Email", Column::Email, 2, "a work email"),
    alias(
        "E-mail 2 Address",
        Column::Email,
        3,
        "Outlook's second email",
    ),
    alias(
        "E-mail 3 Address",
        Column::Email,
        4,
        "Outlook's third email",
    ),
    alias(
        "E-mail 2 - Value",
        Column::Email,
        3,
        "Google Contacts' second email",
    ),
    // Phones: a mobile number first, as messages go to mobiles.
    alias("Mobile", Column::Phone, 0, "a mobile number"),
    alias("Mobile Phone", Column::Phone, 0, "Outlook's mobile phone"),
    alias(
        "Mobile Phone Number",
        Column::Phone,
        0,
        "HubSpot's mobile phone number",
    ),
    alias("Mobile Number", Column::Phone, 0, "a mobile number"),
    alias("Cell", Column::Phone, 0, "a cell phone"),
    alias("Cell Phone", Column::Phone, 0, "a cell phone"),
    Alias {
        international: true,
        ..alias("SMS", Column::Phone, 0, "Brevo's SMS number")
    },
    alias("Telephone", Column::Phone, EXACT, "a phone number"),
    alias(
        "Primary Phone",
        Column::Phone,
        EXACT,
        "Outlook's primary phone",
    ),
    alias(
        "Phone 1 - Value",
        Column::Phone,
        EXACT,
        "Google Contacts' first phone",
    ),
    alias(
        "WhatsApp Phone Number",
        Column::Phone,
        2,
        "HubSpot's WhatsApp number",
    ),
    Alias {
        international: true,
        ..alias("WHATSAPP", Column::Phone, 2, "Brevo's WhatsApp number")
    },
    alias("Home Phone", Column::Phone, 3, "Outlook's home phone"),
    alias(
        "Business Phone",
        Column::Phone,
        3,
        "Outlook's business phone",
    ),
    alias("Work Phone", Column::Phone, 3, "a work phone"),
    alias("Other Phone", Column::Phone, 4, "Outlook's other phone"),
    alias(
        "Home Phone 2",
        Column::Phone,
        4,
        "Outlook's second home phone",
    ),
    alias(
        "Business Phone 2",
        Column::Phone,
        4,
        "Outlook's second business phone",
    ),
    alias(
        "Company Main Phone",
        Column::Phone,
        5,
        "a company's switchboard",
    ),
    alias("Car Phone", Column::Phone, 5, "Outlook's car phone"),
    alias(
        "Phone 2 - Value",
        Column::Phone,
        3,
        "Google Contacts' second phone",
    ),
    alias(
        "Phone 3 - Value",
        Column::Phone,
        4,
        "Google Contacts' third phone",
    ),
    alias(
        "LANDLINE_NUMBER",
        Column::Phone,
        5,
        "Brevo's landline number",
    ),
    // Country.
    alias(
        "Country/Region",
        Column::Country,
        EXACT,
        "HubSpot's country",
    ),
    alias("Country Code", Column::Country, EXACT, "a country code"),
    alias(
        "CC",
        Column::Country,
        2,
        "Mailchimp's country (from the location)",
    ),
    alias(
        "Address 1 - Country",
        Column::Country,
        2,
        "Google Contacts' address country",
    ),
    alias(
        "Home Country/Region",
        Column::Country,
        2,
        "Outlook's home country",
    ),
    alias(
        "Business Country/Region",
        Column::Country,
        3,
        "Outlook's business country",
    ),
    alias(
        "Other Country/Region",
        Column::Country,
        4,
        "Outlook's other country",
    ),
    alias(
        "IP Country",
        Column::Country,
        5,
        "HubSpot's country from the IP address",
    ),
    // Time zone.
    alias(
        "CONTACT_TIMEZONE",
        Column::Timezone,
        EXACT,
        "Brevo's time zone",
    ),
    alias(
        "IP Timezone",
        Column::Timezone,
        3,
        "HubSpot's time zone from the IP address",
    ),
    // Lists.
    alias("list", Column::Lists, EXACT, "list names"),
];

#[cfg(test)]
mod tests {
    use super::*;

    use crate::import::mapping::folded;

    #[test]
    fn no_header_is_known_twice() {
        let mut seen = std::collections::HashSet::new();
        for alias in ALIASES {
            assert!(seen.insert(folded(alias.header)), "{}", alias.header);
            assert!(
                !Column::ALL
                    .iter()
                    .any(|c| folded(c.name()) == folded(alias.header)
                        || folded(c.header()) == folded(alias.header)),
                "{} is a generic column's own name",
                alias.header
            );
        }
    }
}
