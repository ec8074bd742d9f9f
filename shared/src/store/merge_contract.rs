//! The store contract for merges, run against every adapter through
//! [`contract_tests!`](crate::contract_tests).

use std::collections::BTreeMap;

use super::audit::AuditStore;
use super::contract::{audited, edit_stored, new_list, simple, ws};
use super::{ContactStore, ListStore};
use crate::error::Error;
use crate::model::{
    Channel, ConsentChoice, ConsentSource, ConsentStatus, Contact, ExternalId, Merge, MergeField,
    MergeRequest, MessagingId, Name, WorkspaceId, now,
};
use crate::query::PageRequest;
use crate::service;

fn request(survivor: &Contact, merged: &[&Contact]) -> MergeRequest {
    MergeRequest {
        survivor: survivor.messaging_id.clone(),
        merge: merged.iter().map(|c| c.messaging_id.clone()).collect(),
        fields: BTreeMap::new(),
        versions: BTreeMap::new(),
    }
}

async fn stored(store: &dyn ContactStore, w: &WorkspaceId, i: usize) -> Contact {
    let record = simple(i);
    store.insert(w, &record, None).await.expect("insert");
    record.0
}

async fn history(store: &dyn ContactStore, w: &WorkspaceId, id: &MessagingId) -> Vec<String> {
    store
        .consent_history(w, id, &PageRequest::first(500))
        .await
        .expect("history")
        .items
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {}",
                c.channel.as_str(),
                c.old.as_str(),
                c.new.as_str(),
                c.source.as_ref()
            )
        })
        .collect()
}

async fn get(store: &dyn ContactStore, w: &WorkspaceId, id: &MessagingId) -> Option<Contact> {
    store.get(w, id).await.expect("get")
}

/// One contact remains, with the fields chosen (else its own, else the
/// newest), every list of either, and its own External ID; the others are
/// gone, their IDs lead to it, their External IDs are free, and usage and
/// member counts drop by what was merged.
pub async fn a_merge_keeps_one_contact_with_the_chosen_fields_and_lists<
    S: ContactStore + ListStore + AuditStore,
>(
    store: &S,
) {
    let w = ws("w1");
    let (vip, news) = (new_list("VIP"), new_list("News"));
    store.create_list(&w, &vip).await.expect("list");
    store.create_list(&w, &news).await.expect("list");
    let a = stored(store, &w, 1).await;
    let a = edit_stored(store, &w, &a, |c| {
        c.lists.insert(vip.id.clone());
        c.country = None;
    })
    .await;
    let b = stored(store, &w, 2).await;
    let b = edit_stored(store, &w, &b, |c| {
        c.lists.insert(vip.id.clone());
        c.lists.insert(news.id.clone());
        c.first_name = Name::parse("Zoë").ok();
    })
    .await;
    let c = stored(store, &w, 3).await;
    let bystander = stored(store, &w, 4).await;
    assert_eq!(store.count(&w).await.expect("count"), 4);

    let mut merge = request(&a, &[&b, &c]);
    merge
        .fields
        .insert(MergeField::FirstName, b.messaging_id.clone());
    let survivor = service::merge(store, &audited(store, &w), &merge)
        .await
        .expect("merge");

    assert_eq!(
        get(store, &w, &a.messaging_id).await.as_ref(),
        Some(&survivor)
    );
    assert_eq!(survivor.version, a.version + 1);
    assert_eq!(survivor.first_name, b.first_name, "chosen");
    assert_eq!(survivor.last_name, a.last_name, "the survivor's own");
    assert_eq!(
        survivor.country, c.country,
        "the newest merged contact's, where the survivor has none"
    );
    assert_eq!(survivor.external_id, a.external_id);
    assert_eq!(survivor.lists, [vip.id.clone(), news.id.clone()].into());
    for gone in [&b, &c] {
        assert_eq!(get(store, &w, &gone.messaging_id).await, None);
        assert_eq!(
            service::survivor_of(store, &w, &gone.messaging_id)
                .await
                .expect("survivor"),
            Some(a.messaging_id.clone())
        );
        let external = gone.external_id.as_ref().expect("an External ID");
        assert_eq!(
            store.get_by_external_id(&w, external).await.expect("get"),
            None
        );
    }
    assert_eq!(
        service::survivor_of(store, &w, &bystander.messaging_id)
            .await
            .expect("survivor"),
        None
    );
    assert_eq!(store.count(&w).await.expect("count"), 2);
    assert_eq!(store.member_count(&w, &vip.id).await.expect("members"), 1);
    assert_eq!(store.member_count(&w, &news.id).await.expect("members"), 1);
    // A freed External ID can be taken by a new contact.
    let mut reuse = simple(5);
    reuse.0.external_id = b.external_id.clone();
    store
        .insert(&w, &reuse, None)
        .await
        .expect("a freed External ID");
    // An old ID is answered for, not found again.
    assert!(matches!(
        service::get(store, &w, &c.messaging_id).await,
        Err(Error::ContactMerged { into, .. }) if into == a.messaging_id
    ));
    assert!(matches!(
        service::delete(store, &audited(store, &w), &c.messaging_id).await,
        Err(Error::ContactMerged { into, .. }) if into == a.messaging_id
    ));
    // A survivor merged in turn: its old IDs follow it.
    let d = stored(store, &w, 6).await;
    service::merge(store, &audited(store, &w), &request(&d, &[&survivor]))
        .await
        .expect("merge again");
    assert_eq!(
        service::survivor_of(store, &w, &b.messaging_id)
            .await
            .expect("survivor"),
        Some(d.messaging_id.clone())
    );
}

/// Every merged contact's history moves to the survivor, which ends with
/// the consent recorded last on each channel and one entry per channel
/// saying which contacts were merged and which External IDs were freed.
pub async fn a_merge_moves_history_and_decides_each_channel<S: ContactStore + AuditStore>(
    store: &S,
) {
    let w = ws("w1");
    // Created with SMS subscribed (contact 0) and unsubscribed (contact 1).
    let a = stored(store, &w, 0).await;
    let b = stored(store, &w, 3).await;
    let consent = |id: &MessagingId, channel, choice| {
        let id = id.clone();
        let w = w.clone();
        async move {
            service::record_consent(
                store,
                &audited(store, &w),
                &id,
                &[(channel, choice)],
                &ConsentSource::api(),
                None,
            )
            .await
            .expect("consent")
        }
    };
    // SMS: the survivor subscribed, the other unsubscribed later.
    consent(&b.messaging_id, Channel::Sms, ConsentChoice::Unsubscribed).await;
    // WhatsApp: unsubscribed on the survivor, subscribed later on the other.
    consent(
        &a.messaging_id,
        Channel::Whatsapp,
        ConsentChoice::Unsubscribed,
    )
    .await;
    consent(
        &b.messaging_id,
        Channel::Whatsapp,
        ConsentChoice::Subscribed,
    )
    .await;
    // Email: subscribed on the other, unsubscribed later on the survivor.
    consent(&b.messaging_id, Channel::Email, ConsentChoice::Subscribed).await;
    consent(&a.messaging_id, Channel::Email, ConsentChoice::Unsubscribed).await;
    let before_a = history(store, &w, &a.messaging_id).await;
    let before_b = history(store, &w, &b.messaging_id).await;
    assert_eq!((before_a.len(), before_b.len()), (3, 4));

    let survivor = service::merge(store, &audited(store, &w), &request(&a, &[&b]))
        .await
        .expect("merge");
    assert_eq!(survivor.consent.sms, ConsentStatus::Unsubscribed);
    assert_eq!(survivor.consent.whatsapp, ConsentStatus::Subscribed);
    assert_eq!(survivor.consent.email, ConsentStatus::Unsubscribed);

    let after = store
        .consent_history(&w, &a.messaging_id, &PageRequest::first(500))
        .await
        .expect("history")
        .items;
    let source = format!("merge:{}", b.messaging_id);
    let (merge, moved) = after.split_at(3);
    assert!(
        merge.iter().all(|c| c.source.as_ref() == source),
        "{merge:?}"
    );
    let external = b
        .external_id
        .as_ref()
        .map(ExternalId::to_string)
        .unwrap_or_default();
    assert!(
        merge
            .iter()
            .all(|c| c.note.as_deref() == Some(&*format!("External IDs freed: {external}")))
    );
    assert_eq!(merge[0].new, ConsentStatus::Unsubscribed);
    let mut kept: Vec<String> = history(store, &w, &a.messaging_id).await.split_off(3);
    let mut expected: Vec<String> = before_a.into_iter().chain(before_b).collect();
    kept.sort();
    expected.sort();
    assert_eq!(kept, expected, "every entry of both histories, once");
    assert_eq!(moved.len(), 7);
    assert!(
        moved.windows(2).all(|pair| pair[0].at >= pair[1].at),
        "newest first"
    );
    assert!(history(store, &w, &b.messaging_id).await.is_empty());
}

/// A merge whose contact changed since it was shown is refused naming it,
/// and so is a store write from a stale read; nothing is merged.
pub async fn a_merge_of_a_changed_contact_is_refused_and_writes_nothing<
    S: ContactStore + AuditStore,
>(
    store: &S,
) {
    let w = ws("w1");
    let a = stored(store, &w, 1).await;
    let b = stored(store, &w, 2).await;
    let edited = edit_stored(store, &w, &b, |c| c.first_name = Name::parse("Bo").ok()).await;
    let mut merge = request(&a, &[&b]);
    merge.versions.insert(a.messaging_id.clone(), a.version);
    merge.versions.insert(b.messaging_id.clone(), b.version);
    assert!(matches!(
        service::merge(store, &audited(store, &w), &merge).await,
        Err(Error::ContactChanged { id, expected }) if id == b.messaging_id && expected == b.version
    ));
    // A plan from a read older than the stored survivor or merged contact.
    let plan = |survivor: &Contact, merged: &Contact| {
        Merge::plan(
            survivor,
            std::slice::from_ref(merged),
            &BTreeMap::new(),
            &std::collections::HashMap::new(),
            now(),
        )
        .expect("plan")
    };
    assert!(matches!(
        store.merge(&w, &plan(&a, &b)).await,
        Err(Error::PreconditionFailed { .. })
    ));
    let a2 = edit_stored(store, &w, &a, |c| c.first_name = Name::parse("Al").ok()).await;
    assert!(matches!(
        store.merge(&w, &plan(&a, &edited)).await,
        Err(Error::PreconditionFailed { .. })
    ));
    assert_eq!(get(store, &w, &a.messaging_id).await, Some(a2));
    assert_eq!(get(store, &w, &b.messaging_id).await, Some(edited));
    assert_eq!(store.count(&w).await.expect("count"), 2);
    assert_eq!(
        service::survivor_of(store, &w, &b.messaging_id)
            .await
            .expect("survivor"),
        None
    );
}

/// Two merges of the same contact into different survivors, at once: one
/// wins, the other is told where the contact went, and its history is in
/// exactly one place.
pub async fn two_merges_racing_lose_nothing<S: ContactStore + AuditStore>(store: &S) {
    let w = ws("w1");
    for round in 0..3 {
        let a = stored(store, &w, 10 * round + 1).await;
        let b = stored(store, &w, 10 * round + 2).await;
        let c = stored(store, &w, 10 * round + 3).await;
        let before = store.count(&w).await.expect("count");
        let entries = [&a, &b, &c].map(|x| x.messaging_id.clone());
        let mut held = Vec::new();
        for id in &entries {
            held.push(history(store, &w, id).await);
        }
        let (to_a, to_c) = (request(&a, &[&b]), request(&c, &[&b]));
        let audit = audited(store, &w);
        let (into_a, into_c) = tokio::join!(
            service::merge(store, &audit, &to_a),
            service::merge(store, &audit, &to_c),
        );
        let (winner, loser) = match (&into_a, &into_c) {
            (Ok(_), Err(error)) => ((&a, error), &c),
            (Err(error), Ok(_)) => ((&c, error), &a),
            other => panic!("one merge wins: {other:?}"),
        };
        let ((winner, error), loser) = (winner, loser);
        assert!(
            matches!(error, Error::ContactMerged { id, into } if *id == b.messaging_id && *into == winner.messaging_id),
            "{error:?}"
        );
        assert_eq!(store.count(&w).await.expect("count"), before - 1);
        assert_eq!(
            get(store, &w, &loser.messaging_id).await.as_ref(),
            Some(loser)
        );
        // The winner holds b's entries once, besides its own and the merge's.
        let own = |x: &Contact| {
            held[if x.messaging_id == a.messaging_id {
                0
            } else {
                2
            }]
            .len()
        };
        assert_eq!(
            history(store, &w, &winner.messaging_id).await.len(),
            own(winner) + held[1].len() + 3
        );
        assert_eq!(
            history(store, &w, &loser.messaging_id).await.len(),
            own(loser)
        );
    }
}

/// A merge and an edit of a merged contact at once: either the edit lands
/// first and the merge carries it, or the merge lands first and the edit is
/// told the contact was merged.
pub async fn a_merge_racing_an_edit_loses_neither<S: ContactStore + AuditStore>(store: &S) {
    let w = ws("w1");
    for round in 0..4 {
        let a = stored(store, &w, 10 * round + 1).await;
        let b = stored(store, &w, 10 * round + 2).await;
        let mut merge = request(&a, &[&b]);
        merge
            .fields
            .insert(MergeField::FirstName, b.messaging_id.clone());
        let renamed = crate::model::ContactChanges {
            first_name: crate::model::Patch::Set(Name::parse("Edited").expect("name")),
            ..Default::default()
        };
        let audit = audited(store, &w);
        let (merged, edited) = tokio::join!(
            service::merge(store, &audit, &merge),
            service::edit(store, &audit, &b.messaging_id, renamed, None),
        );
        let survivor = merged.expect("the merge lands, before or after the edit");
        match edited {
            Ok(_) => assert_eq!(
                survivor.first_name,
                Name::parse("Edited").ok(),
                "the edit carried"
            ),
            Err(Error::ContactMerged { into, .. }) => assert_eq!(into, a.messaging_id),
            Err(other) => panic!("{other:?}"),
        }
        assert_eq!(get(store, &w, &b.messaging_id).await, None);
        assert_eq!(get(store, &w, &a.messaging_id).await, Some(survivor));
    }
}
