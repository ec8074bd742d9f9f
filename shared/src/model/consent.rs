use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::InvalidValue;

/// A messaging channel that needs the contact's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Sms,
    Whatsapp,
    Email,
}

impl Channel {
    /// Every channel, in display order.
    pub const ALL: [Channel; 3] = [Channel::Sms, Channel::Whatsapp, Channel::Email];

    /// The channel's name in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Whatsapp => "whatsapp",
            Channel::Email => "email",
        }
    }

    /// The channel named `raw`.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == raw)
            .ok_or_else(|| InvalidValue(format!("{raw:?} is not a channel (sms, whatsapp, email)")))
    }
}

/// Where a contact stands on one channel.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// Never recorded.
    #[default]
    NotSubscribed,
    Subscribed,
    Unsubscribed,
}

impl ConsentStatus {
    const ALL: [ConsentStatus; 3] = [
        ConsentStatus::NotSubscribed,
        ConsentStatus::Subscribed,
        ConsentStatus::Unsubscribed,
    ];

    /// The status's name in the API and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::NotSubscribed => "not_subscribed",
            ConsentStatus::Subscribed => "subscribed",
            ConsentStatus::Unsubscribed => "unsubscribed",
        }
    }

    /// The status named `raw`.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                InvalidValue(format!(
                    "{raw:?} is not a consent status (subscribed, unsubscribed, not_subscribed)"
                ))
            })
    }
}

/// A consent status a person or an import may record. `not_subscribed` is not
/// one: it means "never recorded".
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ConsentChoice {
    Subscribed,
    Unsubscribed,
}

impl ConsentChoice {
    /// Validates a recordable consent status.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw {
            "subscribed" => Ok(Self::Subscribed),
            "unsubscribed" => Ok(Self::Unsubscribed),
            "not_subscribed" => Err(InvalidValue::new(
                "\"not_subscribed\" can't be set: it means consent was never recorded; use \"subscribed\" or \"unsubscribed\"",
            )),
            other => Err(InvalidValue(format!(
                "{other:?} is not a consent status; use \"subscribed\" or \"unsubscribed\""
            ))),
        }
    }
}

impl From<ConsentChoice> for ConsentStatus {
    fn from(choice: ConsentChoice) -> Self {
        match choice {
            ConsentChoice::Subscribed => ConsentStatus::Subscribed,
            ConsentChoice::Unsubscribed => ConsentStatus::Unsubscribed,
        }
    }
}

/// A contact's consent on every channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
pub struct Consent {
    pub sms: ConsentStatus,
    pub whatsapp: ConsentStatus,
    pub email: ConsentStatus,
}

impl Consent {
    /// The status on one channel.
    pub fn get(&self, channel: Channel) -> ConsentStatus {
        match channel {
            Channel::Sms => self.sms,
            Channel::Whatsapp => self.whatsapp,
            Channel::Email => self.email,
        }
    }

    fn slot(&mut self, channel: Channel) -> &mut ConsentStatus {
        match channel {
            Channel::Sms => &mut self.sms,
            Channel::Whatsapp => &mut self.whatsapp,
            Channel::Email => &mut self.email,
        }
    }

    /// Sets the status on `channel` (a merge's outcome).
    pub fn set(&mut self, channel: Channel, status: ConsentStatus) {
        *self.slot(channel) = status;
    }

    /// Records `choice` on `channel`; returns the change, if it is one.
    pub fn record(
        &mut self,
        channel: Channel,
        choice: ConsentChoice,
        source: &ConsentSource,
        at: DateTime<Utc>,
    ) -> Option<ConsentChange> {
        let new = ConsentStatus::from(choice);
        let old = std::mem::replace(self.slot(channel), new);
        (old != new).then(|| ConsentChange {
            at,
            channel,
            old,
            new,
            source: source.clone(),
            note: None,
        })
    }
}

/// Who recorded a consent change: `api`, `console`, `import:<id>`, or
/// `merge:<id>,…` (the contacts merged into this one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct ConsentSource(String);

impl ConsentSource {
    /// A change made through the API.
    pub fn api() -> Self {
        Self("api".to_owned())
    }

    /// A change made by a person in the web console.
    pub fn console() -> Self {
        Self("console".to_owned())
    }

    /// A change made by an import.
    pub fn import(id: &impl std::fmt::Display) -> Self {
        Self(format!("import:{id}"))
    }

    /// A merge of the contacts `merged` into the one whose history this is.
    pub fn merge<'a>(merged: impl Iterator<Item = &'a super::MessagingId>) -> Self {
        let ids: Vec<&str> = merged.map(AsRef::as_ref).collect();
        Self(format!("merge:{}", ids.join(",")))
    }

    /// Rebuilds a source this crate stored.
    pub(crate) fn from_stored(value: String) -> Self {
        Self(value)
    }
}

impl AsRef<str> for ConsentSource {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// One entry of a contact's consent history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConsentChange {
    pub at: DateTime<Utc>,
    pub channel: Channel,
    pub old: ConsentStatus,
    pub new: ConsentStatus,
    pub source: ConsentSource,
    /// What else the change did: the External IDs a merge freed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_subscribed_cannot_be_chosen() {
        let err = ConsentChoice::parse("not_subscribed").unwrap_err();
        assert!(err.0.contains("never recorded"));
        assert!(ConsentChoice::parse("Subscribed").is_err());
        assert_eq!(
            ConsentChoice::parse("unsubscribed").unwrap(),
            ConsentChoice::Unsubscribed
        );
    }

    #[test]
    fn recording_the_same_status_is_not_a_change() {
        let mut consent = Consent::default();
        let at = Utc::now();
        let source = ConsentSource::api();
        let change = consent
            .record(Channel::Sms, ConsentChoice::Subscribed, &source, at)
            .unwrap();
        assert_eq!(
            (change.old, change.new),
            (ConsentStatus::NotSubscribed, ConsentStatus::Subscribed)
        );
        assert!(
            consent
                .record(Channel::Sms, ConsentChoice::Subscribed, &source, at)
                .is_none()
        );
        assert_eq!(consent.get(Channel::Sms), ConsentStatus::Subscribed);
        assert_eq!(consent.get(Channel::Email), ConsentStatus::NotSubscribed);
    }
}
