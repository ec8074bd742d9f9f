/// A column of the contact table: the one vocabulary for choosing visible
/// columns, and for CSV headers on import and export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    MessagingId,
    ExternalId,
    FirstName,
    LastName,
    FullName,
    Phone,
    Email,
    Country,
    Timezone,
    SmsConsent,
    WhatsappConsent,
    EmailConsent,
    Lists,
    CreatedAt,
    UpdatedAt,
}

impl Column {
    /// Every generic column, in table order.
    pub const ALL: [Column; 15] = [
        Column::MessagingId,
        Column::ExternalId,
        Column::FirstName,
        Column::LastName,
        Column::FullName,
        Column::Phone,
        Column::Email,
        Column::Country,
        Column::Timezone,
        Column::SmsConsent,
        Column::WhatsappConsent,
        Column::EmailConsent,
        Column::Lists,
        Column::CreatedAt,
        Column::UpdatedAt,
    ];

    /// The column's name in `columns=` and in CSV headers.
    pub fn name(self) -> &'static str {
        match self.json_path().0 {
            ["consent", "sms"] => "sms_consent",
            ["consent", "whatsapp"] => "whatsapp_consent",
            ["consent", "email"] => "email_consent",
            [key, ..] => key,
            [] => "",
        }
    }

    /// Where the column's value sits in the contact's JSON document.
    pub fn json_path(self) -> JsonPath {
        JsonPath(match self {
            Column::MessagingId => &["messaging_id"],
            Column::ExternalId => &["external_id"],
            Column::FirstName => &["first_name"],
            Column::LastName => &["last_name"],
            Column::FullName => &["full_name"],
            Column::Phone => &["phone"],
            Column::Email => &["email"],
            Column::Country => &["country"],
            Column::Timezone => &["timezone"],
            Column::SmsConsent => &["consent", "sms"],
            Column::WhatsappConsent => &["consent", "whatsapp"],
            Column::EmailConsent => &["consent", "email"],
            Column::Lists => &["lists"],
            Column::CreatedAt => &["created_at"],
            Column::UpdatedAt => &["updated_at"],
        })
    }

    /// The column called `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The column's header in CSV files (what export writes and import
    /// recognises).
    pub fn header(self) -> &'static str {
        match self {
            Column::MessagingId => "Messaging ID",
            Column::ExternalId => "External ID",
            Column::FirstName => "First Name",
            Column::LastName => "Last Name",
            Column::FullName => "Full Name",
            Column::Phone => "Phone Number",
            Column::Email => "Email",
            Column::Country => "Country",
            Column::Timezone => "Timezone",
            Column::SmsConsent => "SMS Consent",
            Column::WhatsappConsent => "WhatsApp Consent",
            Column::EmailConsent => "Email Consent",
            Column::Lists => "Lists",
            Column::CreatedAt => "Created At",
            Column::UpdatedAt => "Updated At",
        }
    }
}

/// A path of keys into a JSON document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonPath(pub &'static [&'static str]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_parses_back_from_its_name() {
        for column in Column::ALL {
            assert_eq!(Column::parse(column.name()), Some(column));
        }
        assert_eq!(Column::parse("consent"), None);
    }

    #[test]
    fn headers_are_distinct() {
        let headers: std::collections::HashSet<_> = Column::ALL.map(Column::header).into();
        assert_eq!(headers.len(), Column::ALL.len());
    }
}
