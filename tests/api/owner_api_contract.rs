//! The owner API's queries (keys, idempotent answers, conversation pages) on SQLite and on
//! PostgreSQL alike.

use chrono::{Duration, Utc};

use baton::archive::keys::{Scope, StoredResponse};
use baton::archive::listing::ListFilter;
use baton::archive::sql::SqlArchive;
use baton::archive::{Archive, Cursor};
use baton::protocol::{ConversationId, State};
use baton::store::{Conversation, Visitor};

use crate::helpers::TempDir;
use crate::postgres_server::PostgresServer;

async fn keys_and_answers_and_pages(archive: &SqlArchive) {
    let (made, secret) = archive.create_key("demo", Scope::Write, "crm").await.unwrap();
    assert_eq!(archive.key_by_secret(&secret).await.unwrap(), Some(made.clone()));
    assert_eq!(archive.key_by_secret("bk_nope").await.unwrap(), None);
    assert!(!archive.revoke_key("other", &made.id).await.unwrap(), "only its own site revokes it");
    assert!(archive.revoke_key("demo", &made.id).await.unwrap());
    assert_eq!(archive.key_by_secret(&secret).await.unwrap(), None, "revoked");
    let listed = archive.keys("demo").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].revoked_at.is_some());

    let answer = StoredResponse { body_hash: "h".into(), status: 201, response: "{}".into() };
    let route = "POST /v1/api/keys";
    archive.store_response(&made.id, route, "k1", &answer, Utc::now() + Duration::hours(1)).await.unwrap();
    archive.store_response(&made.id, route, "old", &answer, Utc::now() - Duration::hours(1)).await.unwrap();
    assert_eq!(archive.idempotent_response(&made.id, route, "k1").await.unwrap(), Some(answer.clone()));
    assert_eq!(archive.idempotent_response(&made.id, route, "old").await.unwrap(), None, "expired");
    assert_eq!(archive.idempotent_response("another key", route, "k1").await.unwrap(), None);
    assert_eq!(archive.idempotent_response(&made.id, "POST /v1/api/webhooks", "k1").await.unwrap(), None, "per route");
    let other = StoredResponse { body_hash: "h2".into(), status: 200, response: "[]".into() };
    archive
        .store_response(&made.id, "POST /v1/api/webhooks", "k1", &other, Utc::now() + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(archive.idempotent_response(&made.id, "POST /v1/api/webhooks", "k1").await.unwrap(), Some(other));
    assert_eq!(archive.idempotent_response(&made.id, route, "k1").await.unwrap(), Some(answer.clone()), "both kept");

    let base = Utc::now() - Duration::days(3);
    let mut ids = Vec::new();
    for (day, state) in [(0, State::Bot), (1, State::Resolved), (2, State::Bot)] {
        let conversation = Conversation {
            id: ConversationId::new(),
            site: "demo".into(),
            state,
            last_seq: 0,
            created_at: base + Duration::days(day),
            visitor: Visitor { locale: Some("en".into()), page: None },
            counters: Default::default(),
            records: Default::default(),
        };
        archive.write(&conversation, &[], 1).await.unwrap();
        ids.push(conversation.id);
    }
    let all = ListFilter { site: "demo".into(), state: None, since: None, until: None, visitor: None };
    let first = archive.list(&all, None, 2).await.unwrap();
    let cursor = Cursor { started_at: first[1].started_at, id: first[1].conversation_id };
    let second = archive.list(&all, Some(&cursor), 2).await.unwrap();
    let order: Vec<ConversationId> = first.iter().chain(&second).map(|c| c.conversation_id).collect();
    assert_eq!(order, [ids[2], ids[1], ids[0]], "newest first, each once");
    let resolved = ListFilter { state: Some("resolved".into()), ..all.clone() };
    assert_eq!(archive.list(&resolved, None, 10).await.unwrap()[0].conversation_id, ids[1]);
    let window = ListFilter { since: Some(base + Duration::hours(12)), until: Some(base + Duration::days(2)), ..all };
    let inside: Vec<ConversationId> =
        archive.list(&window, None, 10).await.unwrap().iter().map(|c| c.conversation_id).collect();
    assert_eq!(inside, [ids[1]]);
    let other = ListFilter { site: "other".into(), state: None, since: None, until: None, visitor: None };
    assert!(archive.list(&other, None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn keys_answers_and_pages_on_sqlite() {
    let dir = TempDir::new("api-contract");
    let archive = SqlArchive::connect(&dir.sqlite_url()).await.unwrap();
    archive.migrate().await.unwrap();
    keys_and_answers_and_pages(&archive).await;
}

#[tokio::test]
async fn keys_answers_and_pages_on_postgres() {
    let server = tokio::task::spawn_blocking(PostgresServer::start).await.unwrap();
    let archive = SqlArchive::connect(&server.url()).await.unwrap();
    archive.migrate().await.unwrap();
    keys_and_answers_and_pages(&archive).await;
}
