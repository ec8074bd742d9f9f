//! The store contract for suppressions and erasure, run against every
//! adapter through [`contract_tests!`](crate::contract_tests).

use super::ContactStore;
use super::contract::{edit_stored, simple, ws};
use super::suppressions::SuppressionStore;
use crate::model::{Country, Email, ExternalId, PhoneNumber};
use crate::privacy::suppression::{Identifier, Suppression, SuppressionReason};
use crate::query::PageRequest;

/// The secret is made once per workspace: every call after gets the same,
/// another workspace another.
pub async fn the_secret_is_made_once_per_workspace<S: SuppressionStore>(store: &S) {
    let (w, other) = (ws("w1"), ws("w2"));
    let first = store.secret(&w).await.expect("secret");
    assert_eq!(store.secret(&w).await.expect("secret"), first);
    assert_ne!(store.secret(&other).await.expect("secret"), first);
}

/// An erased contact is gone with its history and usage, and its email
/// (in any case), phone (in any format) and External ID are suppressed;
/// finishing its erasure again answers the same suppression.
pub async fn an_erased_contact_is_gone_and_its_identifiers_suppressed<
    S: ContactStore + SuppressionStore,
>(
    store: &S,
) {
    let w = ws("w1");
    let (contact, consent) = simple(1);
    store
        .insert(&w, &(contact.clone(), consent), None)
        .await
        .expect("insert");
    let kept = simple(2);
    store.insert(&w, &kept, None).await.expect("insert");
    let secret = store.secret(&w).await.expect("secret");
    let suppression = Suppression::new(
        &secret,
        &Identifier::of(&contact),
        SuppressionReason::Erased,
        "token:alpha",
    );
    assert!(
        store
            .erase(&w, &contact, &suppression)
            .await
            .expect("erase")
    );
    let id = &contact.messaging_id;
    assert_eq!(store.get(&w, id).await.expect("get"), None);
    assert_eq!(store.count(&w).await.expect("count"), 1);
    let history = store
        .consent_history(&w, id, &PageRequest::first(10))
        .await
        .expect("history");
    assert!(history.items.is_empty(), "its history went with it");

    let email = contact
        .reach
        .email()
        .expect("email")
        .as_ref()
        .to_uppercase();
    let phone = contact.reach.phone().expect("phone").as_ref().to_owned();
    let national = PhoneNumber::parse_loose(
        &format!("({}) {}-{}", &phone[2..5], &phone[5..8], &phone[8..]),
        Country::parse("US").ok().as_ref(),
    )
    .expect("a US number");
    let asked = [
        Identifier::Email(Email::parse(&email).expect("email")),
        Identifier::Phone(national),
        Identifier::ExternalId(contact.external_id.clone().expect("external id")),
        Identifier::Email(Email::parse("someone.else@example.com").expect("email")),
    ];
    let hashes: Vec<_> = asked.iter().map(|i| secret.hash(i)).collect();
    let found = store.suppressed(&w, &hashes).await.expect("suppressed");
    assert_eq!(
        found,
        [
            Some(suppression.clone()),
            Some(suppression.clone()),
            Some(suppression.clone()),
            None
        ]
    );
    assert_eq!(
        store.finish_erasure(&w, id).await.expect("finish"),
        Some(suppression.clone())
    );
    assert_eq!(
        store
            .finish_erasure(&w, &kept.0.messaging_id)
            .await
            .expect("finish"),
        None
    );
    // Its External ID is free in the store (the service refuses it).
    let (mut again, consent) = simple(3);
    again.external_id = contact.external_id.clone();
    store
        .insert(&w, &(again, consent), None)
        .await
        .expect("insert");
}

/// An erasure of a contact changed since it was read writes nothing: the
/// contact stays, nothing is suppressed.
pub async fn an_erasure_of_a_changed_contact_writes_nothing<S: ContactStore + SuppressionStore>(
    store: &S,
) {
    let w = ws("w1");
    let (contact, consent) = simple(1);
    store
        .insert(&w, &(contact.clone(), consent), None)
        .await
        .expect("insert");
    edit_stored(store, &w, &contact, |c| {
        c.external_id = ExternalId::parse("crm-changed").ok();
    })
    .await;
    let secret = store.secret(&w).await.expect("secret");
    let suppression = Suppression::new(
        &secret,
        &Identifier::of(&contact),
        SuppressionReason::Erased,
        "token:alpha",
    );
    assert!(
        !store
            .erase(&w, &contact, &suppression)
            .await
            .expect("erase")
    );
    assert!(
        store
            .get(&w, &contact.messaging_id)
            .await
            .expect("get")
            .is_some()
    );
    let listed = store
        .suppressions(&w, &PageRequest::first(10))
        .await
        .expect("list");
    assert!(listed.items.is_empty());
    assert_eq!(
        store
            .finish_erasure(&w, &contact.messaging_id)
            .await
            .expect("finish"),
        None
    );
}

/// A hash stays suppressed while any suppression holding it stands;
/// suppressions list newest first, a page at a time.
pub async fn a_hash_is_suppressed_while_any_suppression_holds_it<S: SuppressionStore>(store: &S) {
    let w = ws("w1");
    let secret = store.secret(&w).await.expect("secret");
    let email = Identifier::Email(Email::parse("x@example.com").expect("email"));
    let phone = Identifier::Phone(PhoneNumber::parse("+14155550101").expect("phone"));
    let first = Suppression::new(
        &secret,
        std::slice::from_ref(&email),
        SuppressionReason::Requested,
        "token:alpha",
    );
    store.suppress(&w, &first).await.expect("suppress");
    let second = Suppression::new(
        &secret,
        &[email.clone(), phone.clone()],
        SuppressionReason::Requested,
        "token:beta",
    );
    store.suppress(&w, &second).await.expect("suppress");
    let hashes = [secret.hash(&email), secret.hash(&phone)];
    assert_eq!(
        store.suppressed(&w, &hashes).await.expect("suppressed"),
        [Some(first.clone()), Some(second.clone())]
    );
    let page = store
        .suppressions(&w, &PageRequest::first(1))
        .await
        .expect("list");
    assert_eq!(page.items, std::slice::from_ref(&second));
    let rest = store
        .suppressions(
            &w,
            &PageRequest {
                limit: 1,
                cursor: page.next_cursor,
            },
        )
        .await
        .expect("list");
    assert_eq!(rest.items, std::slice::from_ref(&first));

    assert!(store.lift(&w, &first.id).await.expect("lift"));
    assert_eq!(
        store.suppressed(&w, &hashes).await.expect("suppressed"),
        [Some(second.clone()), Some(second.clone())]
    );
    assert!(store.lift(&w, &second.id).await.expect("lift"));
    assert_eq!(
        store.suppressed(&w, &hashes).await.expect("suppressed"),
        [None, None]
    );
    assert!(!store.lift(&w, &second.id).await.expect("lift"));
    assert!(
        store
            .suppressed(&ws("w2"), &hashes)
            .await
            .expect("suppressed")[0]
            .is_none()
    );
}
