//! The audit log's order: entries made within the same millisecond read back in the order
//! they were made, whatever order the writer stored them in, on SQLite and PostgreSQL.

use std::sync::Arc;

use baton::archive::Archive;
use baton::archive::audit::{AuditEntry, AuditLog, ordered_id};
use baton::archive::sql::SqlArchive;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::helpers::TempDir;
use crate::postgres_server::PostgresServer;

const ENTRIES: usize = 40;

/// `ENTRIES` entries all made at `at`, in the order made.
fn made_at(at: DateTime<Utc>) -> Vec<AuditEntry> {
    (0..ENTRIES)
        .map(|n| AuditEntry {
            id: ordered_id(at),
            at,
            site: Some("demo".into()),
            conversation_id: Some(format!("c{n}")),
            ..AuditEntry::now("dev", "note", "{}".into())
        })
        .collect()
}

async fn entries_of_one_millisecond_read_back_in_the_order_they_were_made(archive: Arc<SqlArchive>) {
    let at = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    let made = made_at(at);
    let stop = CancellationToken::new();
    let log = AuditLog::spawn(archive.clone(), stop.clone());
    // Stored newest first: the reverse of the order they were made in.
    for entry in made.iter().rev() {
        log.record(entry.clone());
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let read = loop {
        let read = archive.audit_entries(Some(&["demo".to_owned()]), ENTRIES).await.unwrap();
        if read.len() == ENTRIES {
            break read;
        }
        assert!(tokio::time::Instant::now() < deadline, "the writer stored {} of {ENTRIES}", read.len());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    stop.cancel();
    let order: Vec<_> = read.iter().rev().map(|e| e.conversation_id.clone().unwrap()).collect();
    let expected: Vec<_> = (0..ENTRIES).map(|n| format!("c{n}")).collect();
    assert_eq!(order, expected, "oldest first is the order made");
    assert!(read.iter().all(|e| e.at == at));
}

#[tokio::test]
async fn audit_entries_of_one_millisecond_keep_their_order_on_sqlite() {
    let dir = TempDir::new("audit-order");
    let archive = SqlArchive::connect(&dir.sqlite_url()).await.unwrap();
    archive.migrate().await.unwrap();
    entries_of_one_millisecond_read_back_in_the_order_they_were_made(Arc::new(archive)).await;
}

#[tokio::test]
async fn audit_entries_of_one_millisecond_keep_their_order_on_postgres() {
    let server = tokio::task::spawn_blocking(PostgresServer::start).await.unwrap();
    let archive = SqlArchive::connect(&server.url()).await.unwrap();
    archive.migrate().await.unwrap();
    entries_of_one_millisecond_read_back_in_the_order_they_were_made(Arc::new(archive)).await;
}
