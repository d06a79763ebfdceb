//! `VisitorIndex`: a verified user's conversations per site, newest first, bounded.

use baton::store::USER_CONVERSATIONS_KEPT;
use chrono::{Duration, Utc};

use super::*;

contract!(
    a_users_conversations_come_back_newest_first_within_the_window_and_per_site,
    a_user_keeps_only_the_newest_links
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
