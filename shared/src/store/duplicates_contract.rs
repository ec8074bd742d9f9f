//! The store contract for duplicates, run against every adapter through
//! [`contract_tests!`](crate::contract_tests).

use super::ContactStore;
use super::audit::AuditStore;
use super::contract::{audited, edit_stored, simple, ws};
use super::duplicates::DuplicateStore;
use crate::model::{
    Contact, ContactSet, Country, DuplicateReason, Email, MAX_GROUP, MessagingId, Name,
    PhoneNumber, Reach, SimilarGroup, WorkspaceId,
};
use crate::query::PageRequest;
use crate::service::duplicates::{self, DuplicateGroup};
use crate::service::{self as use_cases};

/// A stored contact numbered `i` with this email and phone.
async fn holding<S: ContactStore>(
    store: &S,
    w: &WorkspaceId,
    i: usize,
    email: Option<&str>,
    phone: Option<&str>,
) -> Contact {
    let (mut contact, consent) = simple(i);
    contact.reach = Reach::new(
        phone.map(|p| PhoneNumber::parse(p).expect("phone")),
        email.map(|e| Email::parse(e).expect("email")),
    )
    .expect("reachable");
    store
        .insert(w, &(contact.clone(), consent), None)
        .await
        .expect("insert");
    contact
}

async fn groups<S: ContactStore + DuplicateStore>(
    store: &S,
    w: &WorkspaceId,
    reason: Option<DuplicateReason>,
) -> Vec<(DuplicateReason, String, Vec<MessagingId>)> {
    let mut all = Vec::new();
    let mut page = PageRequest::first(1);
    loop {
        let found = duplicates::page(store, store, w, reason, &page)
            .await
            .expect("page");
        all.extend(found.items.into_iter().map(summary));
        match found.next_cursor {
            Some(cursor) => page.cursor = Some(cursor),
            None => return all,
        }
    }
}

fn summary(group: DuplicateGroup) -> (DuplicateReason, String, Vec<MessagingId>) {
    let mut ids: Vec<MessagingId> = group.contacts.into_iter().map(|c| c.messaging_id).collect();
    ids.sort();
    (group.reason, group.value, ids)
}

fn sorted(contacts: &[&Contact]) -> Vec<MessagingId> {
    let mut ids: Vec<MessagingId> = contacts.iter().map(|c| c.messaging_id.clone()).collect();
    ids.sort();
    ids
}

/// Contacts with the same email (ignoring case) or the same phone form a
/// group per shared value: emails first, then phones, each newest first,
/// one page after another; `reason` keeps one kind.
pub async fn contacts_sharing_an_email_or_a_phone_are_grouped<S: ContactStore + DuplicateStore>(
    store: &S,
) {
    let (w, other) = (ws("w1"), ws("w2"));
    let a = holding(store, &w, 1, Some("Ann@Example.com"), Some("+14155550101")).await;
    let b = holding(store, &w, 2, Some("ann@example.COM"), Some("+14155550102")).await;
    let c = holding(store, &w, 3, Some("zoë@example.com"), Some("+14155550101")).await;
    holding(store, &w, 4, Some("solo@example.com"), Some("+14155550104")).await;
    let e = holding(store, &w, 5, Some("élodie@example.fr"), None).await;
    let f = holding(store, &w, 6, Some("Élodie@example.fr"), None).await;
    // Another workspace's contact with the same values is no duplicate.
    holding(
        store,
        &other,
        7,
        Some("ann@example.com"),
        Some("+14155550101"),
    )
    .await;

    let email = DuplicateReason::SameEmail;
    let phone = DuplicateReason::SamePhone;
    assert_eq!(
        groups(store, &w, None).await,
        [
            (email, "élodie@example.fr".to_owned(), sorted(&[&e, &f])),
            (email, "ann@example.com".to_owned(), sorted(&[&a, &b])),
            (phone, "+14155550101".to_owned(), sorted(&[&a, &c])),
        ]
    );
    assert_eq!(groups(store, &w, Some(phone)).await.len(), 1);
    assert_eq!(groups(store, &w, Some(email)).await.len(), 2);
    assert!(groups(store, &other, None).await.is_empty());
    let of_a = duplicates::groups_of(store, store, &w, &a)
        .await
        .expect("groups of a");
    assert_eq!(of_a.len(), 2);
}

/// An edit that gives a contact another's email makes a group; an edit
/// that takes it away again ends it.
pub async fn an_edit_makes_and_ends_a_group<S: ContactStore + DuplicateStore>(store: &S) {
    let w = ws("w1");
    let x = holding(store, &w, 1, Some("x@example.com"), None).await;
    let y = holding(store, &w, 2, Some("y@example.com"), None).await;
    assert!(groups(store, &w, None).await.is_empty());
    let y = edit_stored(store, &w, &y, |c| {
        c.reach = Reach::new(None, Email::parse("X@example.com").ok()).expect("reach");
    })
    .await;
    assert_eq!(
        groups(store, &w, None).await,
        [(
            DuplicateReason::SameEmail,
            "x@example.com".to_owned(),
            sorted(&[&x, &y])
        )]
    );
    edit_stored(store, &w, &y, |c| {
        c.reach = Reach::new(None, Email::parse("y@example.com").ok()).expect("reach");
    })
    .await;
    assert!(groups(store, &w, None).await.is_empty());
}

/// A dismissed group stops showing, until a contact joins it; a merge ends
/// the group it resolves.
pub async fn a_dismissed_or_merged_group_stops_showing<
    S: ContactStore + DuplicateStore + AuditStore,
>(
    store: &S,
) {
    let w = ws("w1");
    let a = holding(store, &w, 1, None, Some("+14155550101")).await;
    let b = holding(store, &w, 2, None, Some("+14155550101")).await;
    assert_eq!(groups(store, &w, None).await.len(), 1);
    duplicates::dismiss(
        store,
        &w,
        vec![b.messaging_id.clone(), a.messaging_id.clone()],
    )
    .await
    .expect("dismiss");
    assert!(groups(store, &w, None).await.is_empty());
    assert!(
        duplicates::groups_of(store, store, &w, &a)
            .await
            .expect("groups")
            .is_empty()
    );
    let c = holding(store, &w, 3, None, Some("+14155550101")).await;
    assert_eq!(
        groups(store, &w, None).await,
        [(
            DuplicateReason::SamePhone,
            "+14155550101".to_owned(),
            sorted(&[&a, &b, &c])
        )]
    );
    let merge = crate::model::MergeRequest {
        survivor: a.messaging_id.clone(),
        merge: vec![b.messaging_id.clone(), c.messaging_id.clone()],
        fields: Default::default(),
        versions: Default::default(),
    };
    use_cases::merge(store, &audited(store, &w), &merge)
        .await
        .expect("merge");
    assert!(groups(store, &w, None).await.is_empty());
}

/// A stored contact numbered `i` named `first last`, in `country`.
async fn named<S: ContactStore>(
    store: &S,
    w: &WorkspaceId,
    i: usize,
    name: (&str, &str),
    country: &str,
) -> Contact {
    let (mut contact, consent) = simple(i);
    contact.first_name = Name::parse(name.0).ok();
    contact.last_name = Name::parse(name.1).ok();
    contact.country = Country::parse(country).ok();
    contact.reach =
        Reach::new(None, Email::parse(&format!("c{i}@d{i}.example")).ok()).expect("reach");
    store
        .insert(w, &(contact.clone(), consent), None)
        .await
        .expect("insert");
    contact
}

/// The similar-name group of `contacts`, as a scan makes it.
fn group_of(contacts: &[&Contact]) -> SimilarGroup {
    SimilarGroup {
        members: ContactSet::new(contacts.iter().map(|c| c.messaging_id.clone())).expect("set"),
        joined: contacts.iter().map(|c| c.updated_at).max().expect("some"),
    }
}

/// The groups a scan found with similar names (Unicode folded) show, each
/// with the contacts still similar; each contact's group is found from the
/// contact; the next scan's groups replace them, in one workspace only.
pub async fn similar_names_a_scan_found_show_until_the_next_scan_replaces_them<
    S: ContactStore + DuplicateStore,
>(
    store: &S,
) {
    let (w, other) = (ws("w1"), ws("w2"));
    let john = named(store, &w, 1, ("John", "Smith"), "US").await;
    let jon = named(store, &w, 2, ("Jon", "Smith"), "US").await;
    let zoe = named(store, &w, 3, ("Zoë", "Müller"), "DE").await;
    let zoe2 = named(store, &w, 4, ("ZOE", "MULLER"), "DE").await;
    let wei = named(store, &w, 5, ("Wei", "Zhang"), "CN").await;
    let mut anas = Vec::new();
    for i in 0..MAX_GROUP {
        anas.push(named(store, &w, 10 + i, ("Ana", "Lima"), "BR").await);
    }
    let anas = group_of(&anas.iter().collect::<Vec<_>>());
    let (names_group, people_group) = (group_of(&[&john, &jon]), group_of(&[&zoe, &zoe2]));
    let (names, people) = (names_group.clone(), people_group.clone());
    store
        .replace_similar(&w, &[names.clone(), people.clone(), anas.clone()])
        .await
        .expect("replace");
    let (names, people) = (names.key(), people.key());
    let (_, _, largest) = groups(store, &w, Some(DuplicateReason::SimilarName))
        .await
        .into_iter()
        .find(|(_, value, _)| *value == anas.key().value)
        .expect("the largest group a scan makes shows");
    assert_eq!(largest.len(), MAX_GROUP);
    store
        .replace_similar(&w, &[names_group.clone(), people_group.clone()])
        .await
        .expect("replace");
    store.replace_similar(&other, &[]).await.expect("replace");
    let similar = DuplicateReason::SimilarName;
    let mut found = groups(store, &w, Some(similar)).await;
    found.sort();
    let mut expected = vec![
        (similar, names.value.clone(), sorted(&[&john, &jon])),
        (similar, people.value.clone(), sorted(&[&zoe, &zoe2])),
    ];
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(groups(store, &w, None).await.len(), 2);
    assert_eq!(
        store
            .similar_key_of(&w, &jon.messaging_id)
            .await
            .expect("key"),
        Some(names.clone())
    );
    assert_eq!(
        store
            .similar_key_of(&w, &wei.messaging_id)
            .await
            .expect("key"),
        None
    );
    let of_jon = duplicates::groups_of(store, store, &w, &jon)
        .await
        .expect("groups");
    assert_eq!(
        of_jon.iter().map(|g| g.reason).collect::<Vec<_>>(),
        [similar]
    );

    // An edit that ends the likeness ends the group before the next scan.
    edit_stored(store, &w, &jon, |c| {
        c.first_name = Name::parse("Barbara").ok()
    })
    .await;
    assert_eq!(
        groups(store, &w, None).await,
        [(similar, people.value.clone(), sorted(&[&zoe, &zoe2]))]
    );

    let again = group_of(&[&zoe, &zoe2, &wei]);
    store
        .replace_similar(&w, std::slice::from_ref(&again))
        .await
        .expect("replace");
    let again = again.key();
    assert_eq!(
        store
            .similar_key_of(&w, &john.messaging_id)
            .await
            .expect("key"),
        None
    );
    assert_eq!(
        store
            .similar_key_of(&w, &wei.messaging_id)
            .await
            .expect("key"),
        Some(again.clone())
    );
    // Wei Zhang is not similar to the others: the group shows without him.
    assert_eq!(
        groups(store, &w, None).await,
        [(similar, again.value.clone(), sorted(&[&zoe, &zoe2]))]
    );
    store.replace_similar(&w, &[]).await.expect("replace");
    assert!(groups(store, &w, None).await.is_empty());
}
