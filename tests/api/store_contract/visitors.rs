//! `VisitorIndex`: a verified user's conversations per site, newest first, bounded.

use baton::records::{Identity, Record};
use baton::store::USER_CONVERSATIONS_KEPT;
use chrono::{Duration, Utc};

use super::*;

contract!(
    a_users_conversations_come_back_newest_first_within_the_window_and_per_site,
    a_user_keeps_only_the_newest_links,
    erasing_a_user_removes_their_index_entry_on_that_site_only,
    erasing_a_conversation_removes_its_link_in_the_index
);

async fn a_users_conversations_come_back_newest_first_within_the_window_and_per_site(backend: Backend) {
    let index = &backend.stores.visitors;
    let now = Utc::now();
    let (old, recent, newest) = (ConversationId::new(), ConversationId::new(), ConversationId::new());
    index.link_user("demo", "u-1", recent, now - Duration::days(3)).await.unwrap();
    index.link_user("demo", "u-1", old, now - Duration::days(40)).await.unwrap();
    index.link_user("demo", "u-1", newest, now).await.unwrap();
    index.link_user("demo", "u-1", newest, now - Duration::days(1)).await.unwrap();
    let since = now - Duration::days(30);
    assert_eq!(index.user_conversations("demo", "u-1", since, 10).await.unwrap(), [newest, recent]);
    assert_eq!(index.user_conversations("demo", "u-1", since, 1).await.unwrap(), [newest]);
    let all = index.user_conversations("demo", "u-1", now - Duration::days(60), 10).await.unwrap();
    assert_eq!(all, [newest, recent, old], "linking again changed nothing");
    assert!(index.user_conversations("shop", "u-1", since, 10).await.unwrap().is_empty(), "sites never share");
    assert!(index.user_conversations("demo", "u-2", since, 10).await.unwrap().is_empty());
    let odd = "user: {with} \"odd\" id ✓";
    index.link_user("demo", odd, old, now).await.unwrap();
    assert_eq!(index.user_conversations("demo", odd, since, 10).await.unwrap(), [old]);
}

async fn a_user_keeps_only_the_newest_links(backend: Backend) {
    let index = &backend.stores.visitors;
    let start = Utc::now() - Duration::hours(1);
    let mut ids = Vec::new();
    for minute in 0..=USER_CONVERSATIONS_KEPT {
        let id = ConversationId::new();
        index.link_user("demo", "busy", id, start + Duration::minutes(minute as i64)).await.unwrap();
        ids.push(id);
    }
    let kept = index.user_conversations("demo", "busy", start - Duration::days(1), 1000).await.unwrap();
    assert_eq!(kept.len(), USER_CONVERSATIONS_KEPT);
    assert_eq!(kept.first(), ids.last());
    assert!(!kept.contains(&ids[0]), "the oldest was dropped");
}

async fn erasing_a_user_removes_their_index_entry_on_that_site_only(backend: Backend) {
    let (index, erase) = (&backend.stores.visitors, &backend.stores.erase);
    let now = Utc::now();
    let since = now - Duration::days(1);
    let (a, b, elsewhere, other_user) =
        (ConversationId::new(), ConversationId::new(), ConversationId::new(), ConversationId::new());
    index.link_user("demo", "u-1", a, now - Duration::minutes(2)).await.unwrap();
    index.link_user("demo", "u-1", b, now).await.unwrap();
    index.link_user("shop", "u-1", elsewhere, now).await.unwrap();
    index.link_user("demo", "u-2", other_user, now).await.unwrap();
    let mut linked = erase.erase_user("demo", "u-1").await.unwrap();
    linked.sort();
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(linked, expected, "the entry's conversations are named, to be erased too");
    assert!(index.user_conversations("demo", "u-1", since, 10).await.unwrap().is_empty(), "the entry is gone");
    assert_eq!(index.user_conversations("shop", "u-1", since, 10).await.unwrap(), [elsewhere], "another site's stays");
    assert_eq!(index.user_conversations("demo", "u-2", since, 10).await.unwrap(), [other_user]);
    assert!(erase.erase_user("demo", "u-1").await.unwrap().is_empty(), "erasing again finds nothing");
}

async fn erasing_a_conversation_removes_its_link_in_the_index(backend: Backend) {
    let stores = &backend.stores;
    let now = Utc::now();
    let (erased, kept) = (new_conversation(stores, "t-erased").await, new_conversation(stores, "t-kept").await);
    for id in [erased, kept] {
        let identity = Identity { user_id: Some("u-7".into()), name: None, email: None, verified: true, at: now };
        stores.log.set_record(id, Record::Identity(identity)).await.unwrap();
        stores.visitors.link_user("demo", "u-7", id, now).await.unwrap();
    }
    assert!(stores.erase.erase_conversation(erased).await.unwrap());
    let left = stores.visitors.user_conversations("demo", "u-7", now - Duration::days(1), 10).await.unwrap();
    assert_eq!(left, [kept], "only the erased conversation left the user's entry");
}
