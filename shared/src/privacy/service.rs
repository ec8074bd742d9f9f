//! Erasing a contact, refusing suppressed identifiers, and managing
//! suppressions.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::suppression::{
    Identifier, IdentifierHash, Suppression, SuppressionId, SuppressionReason, WorkspaceSecret,
};
use crate::AppState;
use crate::audit::{Audit, AuditEntry, AuditQuery, Change, Operation, changed_fields};
use crate::error::{Error, Result};
use crate::model::{
    ConsentChange, ConsentSource, Contact, ContactChanges, ImportMark, MessagingId, NewContact,
    Patch, WorkspaceId, now,
};
use crate::query::{Page, PageRequest, every_item};
use crate::store::suppressions::SuppressionStore;

/// How long export files are kept (their bucket's lifecycle): an erased
/// person may be in one until then.
pub const EXPORTS_KEPT: Duration = Duration::days(7);
/// Attempts at an erasure whose contact keeps changing under it.
const ATTEMPTS: usize = 5;

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The suppression it recorded.
    pub suppression: Suppression,
    /// Rows of stored import error CSVs that held the person, removed.
    pub error_rows_removed: u64,
    /// By when every export file made before it is deleted.
    pub exports_expire_by: DateTime<Utc>,
}

/// Every hash the workspace's standing suppressions hold, read once (by an
/// import run: a suppression made while it runs applies to the next run).
#[derive(Debug, Clone)]
pub struct SuppressedSet {
    secret: WorkspaceSecret,
    held: HashMap<IdentifierHash, (SuppressionReason, DateTime<Utc>)>,
}

impl SuppressedSet {
    /// The workspace's suppressed hashes, a page of suppressions at a time.
    pub async fn load(store: &dyn SuppressionStore, workspace: &WorkspaceId) -> Result<Self> {
        let secret = store.secret(workspace).await?;
        let suppressions =
            every_item(|page| async move { store.suppressions(workspace, &page).await }).await?;
        let mut held = HashMap::new();
        for suppression in &suppressions {
            for field in &suppression.fields {
                held.entry(field.hash.clone())
                    .or_insert((suppression.reason, suppression.created_at));
            }
        }
        Ok(Self { secret, held })
    }

    /// Whether nothing is erased or suppressed.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Why a contact holding `identifiers` is refused ("email: erased on
    /// 2026-12-02"), if it is.
    pub fn refusal(&self, identifiers: &[Identifier]) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        identifiers.iter().find_map(|identifier| {
            let (reason, since) = *self.held.get(&self.secret.hash(identifier))?;
            let refused = Error::Suppressed {
                field: identifier.field(),
                reason,
                since,
            };
            refused
                .suppressed_field()
                .map(|e| format!("{}: {}", e.field, e.message))
        })
    }
}

/// Fails with `Suppressed`, naming the field, when a standing suppression
/// holds one of `identifiers`.
pub async fn refuse_suppressed(
    store: &dyn SuppressionStore,
    workspace: &WorkspaceId,
    identifiers: &[Identifier],
) -> Result<()> {
    if identifiers.is_empty() {
        return Ok(());
    }
    let secret = store.secret(workspace).await?;
    let hashes: Vec<_> = identifiers.iter().map(|i| secret.hash(i)).collect();
    let found = store.suppressed(workspace, &hashes).await?;
    match identifiers
        .iter()
        .zip(found)
        .find_map(|(i, s)| Some((i, s?)))
    {
        Some((identifier, suppression)) => Err(Error::Suppressed {
            field: identifier.field(),
            reason: suppression.reason,
            since: suppression.created_at,
        }),
        None => Ok(()),
    }
}

/// Creates a contact as [`crate::service::create`] does (within the
/// deployment's usage limit), unless an identifier of it is suppressed.
pub async fn create(
    state: &AppState,
    audit: &Audit<'_>,
    new: NewContact,
    source: &ConsentSource,
) -> Result<Contact> {
    let identifiers = Identifier::held(&new.reach, new.external_id.as_ref());
    refuse_suppressed(state.suppressions.as_ref(), audit.workspace(), &identifiers).await?;
    crate::service::create(
        state.contacts.as_ref(),
        audit,
        new,
        source,
        state.usage_limit,
    )
    .await
}

/// Erases the contact `id`: deletes it as `DELETE` does and suppresses its
/// identifiers, all or nothing, asked by the audit's actor; then removes the rows
/// holding them from the stored import error CSVs. Erasing a contact
/// already erased completes what an interrupted erasure left and answers
/// the same.
pub async fn erase(state: &AppState, audit: &Audit<'_>, id: &MessagingId) -> Result<Erasure> {
    let workspace = audit.workspace();
    let store = state.suppressions.as_ref();
    let secret = store.secret(workspace).await?;
    for _ in 0..ATTEMPTS {
        let suppression = match state.contacts.get(workspace, id).await? {
            Some(contact) => {
                let suppression = Suppression::new(
                    &secret,
                    &Identifier::of(&contact),
                    SuppressionReason::Erased,
                    audit.actor(),
                );
                if !store.erase(workspace, &contact, &suppression).await? {
                    // It changed (or went) since it was read: read it again.
                    continue;
                }
                let fields = changed_fields(Some(&contact), None);
                let erased = Change::contact(Operation::ContactErased, id, fields);
                audit.record(erased.naming(&suppression.id)).await;
                suppression
            }
            None => match store.finish_erasure(workspace, id).await? {
                Some(suppression) => suppression,
                None => {
                    return Err(
                        crate::service::absent(state.contacts.as_ref(), workspace, id).await,
                    );
                }
            },
        };
        let error_rows_removed =
            super::error_files::forget(state, workspace, &secret, &suppression).await?;
        return Ok(Erasure {
            exports_expire_by: now() + EXPORTS_KEPT,
            error_rows_removed,
            suppression,
        });
    }
    Err(anyhow::anyhow!("erasing {id} kept conflicting with concurrent edits").into())
}

/// Suppresses identifiers that belong to no contact (a complaint, a
/// request before any import), asked by the audit's actor.
pub async fn suppress(
    state: &AppState,
    audit: &Audit<'_>,
    identifiers: &[Identifier],
) -> Result<Suppression> {
    let (store, workspace) = (state.suppressions.as_ref(), audit.workspace());
    let secret = store.secret(workspace).await?;
    let reason = SuppressionReason::Requested;
    let suppression = Suppression::new(&secret, identifiers, reason, audit.actor());
    store.suppress(workspace, &suppression).await?;
    let fields: Vec<&str> = identifiers.iter().map(Identifier::field).collect();
    let made = Change::of(Operation::SuppressionCreated, &suppression.id, &fields);
    audit.record(made).await;
    Ok(suppression)
}

/// Lifts the suppression `raw` names, or `SuppressionNotFound`.
pub async fn lift(state: &AppState, audit: &Audit<'_>, raw: &str) -> Result<()> {
    let missing = || Error::SuppressionNotFound(raw.to_owned());
    let id = SuppressionId::parse(raw).map_err(|_| missing())?;
    if state.suppressions.lift(audit.workspace(), &id).await? {
        audit
            .record(Change::of(Operation::SuppressionLifted, &id, &[]))
            .await;
        Ok(())
    } else {
        Err(missing())
    }
}

/// Edits a contact as [`crate::service::edit`] does, unless the edit gives
/// it an identifier a standing suppression holds (one it holds already is
/// not brought in).
pub async fn edit(
    state: &AppState,
    audit: &Audit<'_>,
    id: &MessagingId,
    changes: ContactChanges,
    if_match: Option<u64>,
) -> Result<Contact> {
    fn set<T>(patch: &Patch<T>) -> Option<&T> {
        match patch {
            Patch::Set(value) => Some(value),
            Patch::Keep | Patch::Clear => None,
        }
    }
    let brought = Identifier::held_by(
        set(&changes.email),
        set(&changes.phone),
        changes.external_id.as_ref(),
    );
    let workspace = audit.workspace();
    if !brought.is_empty() {
        let current = crate::service::get(state.contacts.as_ref(), workspace, id).await?;
        let held = Identifier::of(&current);
        let new: Vec<Identifier> = brought.into_iter().filter(|i| !held.contains(i)).collect();
        refuse_suppressed(state.suppressions.as_ref(), workspace, &new).await?;
    }
    crate::service::edit(state.contacts.as_ref(), audit, id, changes, if_match).await
}

/// Everything the product holds on one contact, for an access request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalData {
    pub contact: Contact,
    /// Its whole consent history, newest first.
    pub history: Vec<ConsentChange>,
    /// The imports that created or changed it, each with the time it first
    /// did, oldest first.
    pub imports: Vec<ImportMark>,
    /// Its audit entries, newest first.
    pub audit: Vec<AuditEntry>,
}

/// What the workspace holds on the contact `id`.
pub async fn personal_data(
    state: &AppState,
    workspace: &WorkspaceId,
    id: &MessagingId,
) -> Result<PersonalData> {
    let contact = crate::service::get(state.contacts.as_ref(), workspace, id).await?;
    let history =
        every_item(
            |page| async move { state.contacts.consent_history(workspace, id, &page).await },
        )
        .await?;
    let of_contact = AuditQuery {
        contact: Some(id.clone()),
        since: None,
    };
    let audit = every_item(|page| {
        let of_contact = &of_contact;
        async move { state.audit.audit(workspace, of_contact, &page).await }
    })
    .await?;
    // The import that created it (its Messaging ID tells), those that
    // changed it (its marks), and those that recorded its consent (all a
    // contact stored before marks were kept has).
    let creator = crate::import::service::creator(state, workspace, &contact)
        .await?
        .map(|job| ImportMark {
            import_id: job.id.to_string(),
            at: contact.created_at,
        });
    let recorded = history.iter().filter_map(|change| {
        let import_id = change.source.as_ref().strip_prefix("import:")?;
        Some(ImportMark {
            import_id: import_id.to_owned(),
            at: change.at,
        })
    });
    let marks = contact.imports.iter().cloned().chain(creator);
    let mut imports: Vec<ImportMark> = marks.chain(recorded).collect();
    imports.sort_by_key(|mark| mark.at);
    let mut seen = std::collections::HashSet::new();
    imports.retain(|mark| seen.insert(mark.import_id.clone()));
    Ok(PersonalData {
        contact,
        history,
        imports,
        audit,
    })
}

/// The workspace's suppressions, newest first.
pub async fn list(
    state: &AppState,
    workspace: &WorkspaceId,
    page: &PageRequest,
) -> Result<Page<Suppression>> {
    state.suppressions.suppressions(workspace, page).await
}
