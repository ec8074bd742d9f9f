//! Suppressions: identifiers of people who asked to be erased (or never to
//! be contacted), kept only as keyed hashes, so a create or an import can
//! tell that a person comes back without the product keeping who they are.

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::model::{Contact, Email, ExternalId, InvalidValue, PhoneNumber, Reach};

crate::jobs::job_id!(
    /// The ID of a suppression: a ULID, so suppressions sort by creation time.
    SuppressionId,
    "a suppression ID"
);

/// An identifier a suppression keeps out, in the form contacts are
/// compared by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    Email(Email),
    Phone(PhoneNumber),
    ExternalId(ExternalId),
}

impl Identifier {
    /// The field it is in, as the API names it.
    pub fn field(&self) -> &'static str {
        match self {
            Identifier::Email(_) => "email",
            Identifier::Phone(_) => "phone",
            Identifier::ExternalId(_) => "external_id",
        }
    }

    /// What is hashed: the field and the value as compared (an email in
    /// lower case, a phone in E.164, an External ID as stored).
    fn canonical(&self) -> String {
        let value = match self {
            Identifier::Email(email) => email.as_ref().to_lowercase(),
            Identifier::Phone(phone) => phone.as_ref().to_owned(),
            Identifier::ExternalId(id) => id.as_ref().to_owned(),
        };
        format!("{}:{value}", self.field())
    }

    /// Every identifier `contact` holds.
    pub fn of(contact: &Contact) -> Vec<Identifier> {
        Self::held(&contact.reach, contact.external_id.as_ref())
    }

    /// The identifiers of a contact that would hold `reach` and `external_id`.
    pub fn held(reach: &Reach, external_id: Option<&ExternalId>) -> Vec<Identifier> {
        Self::held_by(reach.email(), reach.phone(), external_id)
    }

    /// The identifiers among these values.
    pub fn held_by(
        email: Option<&Email>,
        phone: Option<&PhoneNumber>,
        external_id: Option<&ExternalId>,
    ) -> Vec<Identifier> {
        let mut found = Vec::new();
        if let Some(email) = email {
            found.push(Identifier::Email(email.clone()));
        }
        if let Some(phone) = phone {
            found.push(Identifier::Phone(phone.clone()));
        }
        if let Some(id) = external_id {
            found.push(Identifier::ExternalId(id.clone()));
        }
        found
    }
}

/// A workspace's key for hashing identifiers: 32 random bytes, created
/// once and kept by the store; never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct WorkspaceSecret([u8; 32]);

impl std::fmt::Debug for WorkspaceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkspaceSecret(…)")
    }
}

impl WorkspaceSecret {
    /// A new random secret.
    pub fn generate() -> Result<Self, InvalidValue> {
        let mut bytes = [0; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| InvalidValue(format!("no randomness for a secret: {e}")))?;
        Ok(Self(bytes))
    }

    /// The secret as stored (hex).
    pub fn to_stored(&self) -> String {
        hex::encode(self.0)
    }

    /// A secret as stored.
    pub fn from_stored(stored: &str) -> Result<Self, InvalidValue> {
        hex::decode(stored)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .map(Self)
            .ok_or_else(|| InvalidValue("a stored secret is not 32 bytes of hex".into()))
    }

    /// The keyed hash of `identifier`.
    pub fn hash(&self, identifier: &Identifier) -> IdentifierHash {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any size");
        mac.update(identifier.canonical().as_bytes());
        IdentifierHash(hex::encode(mac.finalize().into_bytes()))
    }
}

/// An identifier's keyed hash (HMAC-SHA256, hex): equal identifiers of one
/// workspace hash alike; without the secret it tells nothing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IdentifierHash(String);

impl IdentifierHash {
    /// The first 8 hex digits: enough to tell suppressions apart in a list.
    pub fn prefix(&self) -> &str {
        self.0.get(..8).unwrap_or(&self.0)
    }
}

impl AsRef<str> for IdentifierHash {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Why identifiers are suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    /// The contact holding them was erased.
    Erased,
    /// Someone asked for them to be kept out (a complaint), with no contact.
    Requested,
}

/// One suppressed identifier: its field and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressedField {
    pub field: String,
    pub hash: IdentifierHash,
}

/// Identifiers kept out of the workspace, when and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub id: SuppressionId,
    pub fields: Vec<SuppressedField>,
    pub reason: SuppressionReason,
    pub created_at: DateTime<Utc>,
    /// Who asked: a token's or a user's name, never a contact's.
    pub actor: String,
}

impl Suppression {
    /// A new suppression of `identifiers`, hashed with `secret`.
    pub fn new(
        secret: &WorkspaceSecret,
        identifiers: &[Identifier],
        reason: SuppressionReason,
        actor: &str,
    ) -> Self {
        Self {
            id: SuppressionId::generate(),
            fields: identifiers
                .iter()
                .map(|identifier| SuppressedField {
                    field: identifier.field().to_owned(),
                    hash: secret.hash(identifier),
                })
                .collect(),
            reason,
            created_at: crate::model::now(),
            actor: actor.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_identifiers_hash_alike_in_one_workspace_only() {
        let (one, other) = (
            WorkspaceSecret::generate().unwrap(),
            WorkspaceSecret::generate().unwrap(),
        );
        let email = |raw: &str| Identifier::Email(Email::parse(raw).unwrap());
        assert_eq!(
            one.hash(&email("Ann@Example.com")),
            one.hash(&email("ann@example.com"))
        );
        assert_ne!(
            one.hash(&email("ann@example.com")),
            other.hash(&email("ann@example.com"))
        );
        let phone = Identifier::Phone(PhoneNumber::parse("+14155550101").unwrap());
        let id = Identifier::ExternalId(ExternalId::parse("+14155550101").unwrap());
        assert_ne!(
            one.hash(&phone),
            one.hash(&id),
            "the field is part of what is hashed"
        );
        let stored = WorkspaceSecret::from_stored(&one.to_stored()).unwrap();
        assert_eq!(stored.hash(&phone), one.hash(&phone));
        assert!(!format!("{one:?}").contains(&one.to_stored()));
    }
}
