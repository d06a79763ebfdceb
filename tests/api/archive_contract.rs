//! The archive contract (see `baton::archive::Archive`), written once and run on both
//! databases: SQLite in a temp folder, and a real PostgreSQL server per test.

use std::sync::Arc;

use baton::archive::sql::SqlArchive;
use baton::archive::{Archive, ArchiveError, ExportFilter};
use baton::protocol::{Author, ConversationId, Event, EventBody, Speaker, State};
use baton::records::{Contact, Rating, Record};
use baton::store::{Conversation, Visitor};
use chrono::{DateTime, Duration, Utc};

use crate::helpers::TempDir;
use crate::postgres_server::PostgresServer;

/// One archive under test, with what keeps its database alive.
pub struct Db {
    pub archive: Arc<dyn Archive>,
    _sqlite: Option<TempDir>,
    _postgres: Option<PostgresServer>,
}

pub async fn sqlite() -> Db {
    let dir = TempDir::new("archive-contract");
    let archive = SqlArchive::connect(&dir.sqlite_url()).await.expect("sqlite archive");
    archive.migrate().await.expect("migrations run");
    Db { archive: Arc::new(archive), _sqlite: Some(dir), _postgres: None }
}

pub async fn postgres() -> Db {
    let server = tokio::task::spawn_blocking(PostgresServer::start).await.unwrap();
    let archive = SqlArchive::connect(&server.url()).await.expect("postgres archive");
    archive.migrate().await.expect("migrations run");
    archive.migrate().await.expect("migrations run twice (idempotent)");
    Db { archive: Arc::new(archive), _sqlite: None, _postgres: Some(server) }
}

macro_rules! archive_contract {
    ($($clause:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $clause() {
                    super::$clause(super::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $clause() {
                    super::$clause(super::postgres().await).await;
                }
            )*
        }
    };
}

archive_contract!(
    events_are_stored_once_and_a_replay_stores_nothing,
    a_round_writes_several_conversations_in_one_call_each_event_once,
    the_row_is_replaced_whole_but_never_by_an_older_copy,
    an_export_filters_by_site_and_start_and_pages_in_order,
    retention_deletes_only_the_idle_conversations_of_sites_that_set_it,
);

fn conversation(site: &str, created_at: DateTime<Utc>, last_seq: u64) -> Conversation {
    Conversation {
        id: ConversationId::new(),
        site: site.into(),
        state: State::Bot,
        last_seq,
        created_at,
        visitor: Visitor { locale: Some("en".into()), page: None },
        counters: Default::default(),
        records: Default::default(),
    }
}

fn events(id: ConversationId, seqs: std::ops::RangeInclusive<u64>, start: DateTime<Utc>) -> Vec<Arc<Event>> {
    seqs.map(|seq| {
        let body = if seq % 3 == 0 {
            EventBody::Note { text: format!("note {seq}"), author: Author { name: "Ana".into() } }
        } else {
            EventBody::Message {
                id: uuid::Uuid::new_v4(),
                from: Speaker::Visitor,
                text: format!("message {seq} — «ünïcode»"),
                author: None,
                client_id: Some(format!("c{seq}")),
                sources: vec![],
                actions: vec![],
                notice: None,
            }
        };
        Arc::new(Event { seq, conversation_id: id, at: start + Duration::milliseconds(seq as i64), body })
    })
    .collect()
}

fn wire(events: &[Arc<Event>]) -> Vec<serde_json::Value> {
    events.iter().map(|event| serde_json::to_value(&**event).unwrap()).collect()
}

/// Millisecond precision: what the archive keeps of a time.
fn now_ms() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap()
}

/// The archiver's round: several conversations in one transaction, with a replay among them.
async fn a_round_writes_several_conversations_in_one_call_each_event_once(db: Db) {
    use baton::archive::ConversationCopy;
    let start = now_ms();
    let (first, second) = (conversation("demo", start, 3), conversation("demo", start, 2));
    let (first_events, second_events) = (events(first.id, 1..=3, start), events(second.id, 1..=2, start));
    db.archive.write(&first, &first_events[..1], 1).await.unwrap();
    let copies = vec![
        ConversationCopy { conversation: first.clone(), events: first_events.clone(), rev: 2 },
        ConversationCopy { conversation: second.clone(), events: second_events.clone(), rev: 1 },
    ];
    assert_eq!(db.archive.write_all(&copies).await.unwrap(), 2 + 2, "the replayed first event stores nothing");
    assert_eq!(db.archive.write_all(&[]).await.unwrap(), 0);
    for (conversation, events) in [(&first, &first_events), (&second, &second_events)] {
        let archived = db.archive.conversation(conversation.id).await.unwrap().expect("archived");
        assert_eq!(archived.events, wire(events), "every event once, in order");
        assert_eq!(db.archive.high_water(conversation.id).await.unwrap(), conversation.last_seq);
    }
}

async fn events_are_stored_once_and_a_replay_stores_nothing(db: Db) {
    let start = now_ms();
    let conversation = conversation("demo", start, 7);
    let id = conversation.id;
    assert_eq!(db.archive.high_water(id).await.unwrap(), 0);
    let all = events(id, 1..=7, start);
    assert_eq!(db.archive.write(&conversation, &all[..5], 1).await.unwrap(), 5);
    assert_eq!(db.archive.high_water(id).await.unwrap(), 5);
    // A replay from an older high water (a crash after the write, before the feed heard).
    assert_eq!(db.archive.write(&conversation, &all[2..], 2).await.unwrap(), 2);
    assert_eq!(db.archive.write(&conversation, &all, 3).await.unwrap(), 0);
    assert_eq!(db.archive.high_water(id).await.unwrap(), 7);
    let archived = db.archive.conversation(id).await.unwrap().expect("archived");
    assert_eq!(archived.events, wire(&all), "every event once, in order, as on the wire");
    assert_eq!((archived.site.as_str(), archived.state.as_str(), archived.last_seq), ("demo", "bot", 7));
    assert_eq!(archived.started_at, start);
    assert!(db.archive.conversation(ConversationId::new()).await.unwrap().is_none());
    let (count, p50, _) = db.archive.lag().await.unwrap();
    assert_eq!(count, 7);
    assert!(p50.is_some());
}

async fn the_row_is_replaced_whole_but_never_by_an_older_copy(db: Db) {
    let at = now_ms();
    let mut newer = conversation("demo", at, 0);
    newer.state = State::Resolved;
    newer.records.apply(Record::Rating(Rating { score: 5, comment: Some("great".into()), at }));
    newer.records.apply(Record::Contact(Contact { email: "Ann@Example.com".into(), at, text: None }));
    let mut older = newer.clone();
    older.state = State::Queued;
    older.records = Default::default();
    db.archive.write(&newer, &[], 9).await.unwrap();
    db.archive.write(&older, &[], 4).await.unwrap();
    let archived = db.archive.conversation(newer.id).await.unwrap().unwrap();
    assert_eq!(archived.state, "resolved", "an older copy does not replace a newer one");
    assert_eq!(archived.records["rating"]["score"], 5);
    assert_eq!(archived.email.as_deref(), Some("ann@example.com"), "kept lowercase, as lookups use it");
    let mut reopened = newer.clone();
    reopened.state = State::Bot;
    db.archive.write(&reopened, &[], 10).await.unwrap();
    let archived = db.archive.conversation(newer.id).await.unwrap().unwrap();
    assert_eq!(archived.state, "bot");
}

async fn an_export_filters_by_site_and_start_and_pages_in_order(db: Db) {
    let base = now_ms() - Duration::days(10);
    let mut written = Vec::new();
    for day in 0..5 {
        for site in ["demo", "other"] {
            let conversation = conversation(site, base + Duration::days(day), 2);
            db.archive.write(&conversation, &events(conversation.id, 1..=2, base), 1).await.unwrap();
            written.push(conversation);
        }
    }
    let demo = ExportFilter { site: Some("demo".into()), since: Some(base + Duration::days(2)) };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = db.archive.export(&demo, cursor.as_ref(), 2).await.unwrap();
        seen.extend(page.iter().map(|c| (c.conversation_id, c.events.len())));
        match page.last() {
            Some(last) if page.len() == 2 => cursor = Some(last.cursor()),
            _ => break,
        }
    }
    let expected: Vec<(ConversationId, usize)> = written
        .iter()
        .filter(|c| c.site == "demo" && c.created_at >= base + Duration::days(2))
        .map(|c| (c.id, 2))
        .collect();
    assert_eq!(seen, expected, "oldest first, each once, with its events");
    let everything = db.archive.export(&ExportFilter::default(), None, 100).await.unwrap();
    assert_eq!(everything.len(), 10);
}

#[tokio::test]
async fn a_postgres_that_is_down_is_unavailable_and_serves_again_when_back() {
    let Db { archive, _postgres: Some(mut server), .. } = postgres().await else { unreachable!() };
    let conversation = conversation("demo", now_ms(), 1);
    let all = events(conversation.id, 1..=1, now_ms());
    server = tokio::task::spawn_blocking(move || {
        server.kill();
        server
    })
    .await
    .unwrap();
    let refused = archive.write(&conversation, &all, 1).await;
    assert!(matches!(refused, Err(ArchiveError::Unavailable(_))), "{refused:?}");
    let server = tokio::task::spawn_blocking(move || {
        server.restart();
        server
    })
    .await
    .unwrap();
    assert_eq!(archive.write(&conversation, &all, 1).await.unwrap(), 1);
    drop(server);
}

async fn retention_deletes_only_the_idle_conversations_of_sites_that_set_it(db: Db) {
    let now = now_ms();
    let mut ids = Vec::new();
    for (site, idle_days) in [("demo", 40), ("demo", 10), ("other", 40)] {
        let start = now - Duration::days(idle_days);
        let conversation = conversation(site, start, 2);
        db.archive.write(&conversation, &events(conversation.id, 1..=2, start), 1).await.unwrap();
        ids.push(conversation.id);
    }
    let policies = [("demo".to_owned(), 30)];
    let expired = baton::archive::retention::enforce(&*db.archive, &policies, now).await;
    assert_eq!(expired.len(), 1);
    assert_eq!((expired[0].1.conversations, expired[0].1.events), (1, 2));
    assert!(db.archive.conversation(ids[0]).await.unwrap().is_none(), "idle 40 days on a 30-day site: gone");
    assert!(db.archive.conversation(ids[1]).await.unwrap().is_some(), "idle 10 days: kept");
    assert!(db.archive.conversation(ids[2]).await.unwrap().is_some(), "a site with no retention keeps all");
    let again = baton::archive::retention::enforce(&*db.archive, &policies, now).await;
    assert_eq!(again[0].1.conversations, 0);
}

#[test]
fn only_sites_that_set_a_retention_have_a_policy() {
    let settings = baton::config::Settings::load_from(&crate::helpers::repo_root().join("config")).unwrap();
    let mut sites = settings.sites.clone();
    assert!(baton::archive::retention::policies(&sites).is_empty(), "the demo site keeps everything");
    sites[0].archive.retention_days = Some(30);
    assert_eq!(baton::archive::retention::policies(&sites), [("demo".to_owned(), 30)]);
}
