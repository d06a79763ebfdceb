//! The owner's changes as the archive keeps them (pages, agent records, site patches and
//! the revision counters every node polls), on SQLite and on PostgreSQL alike.

use baton::archive::Archive;
use baton::archive::owner::agents::StoredAgent;
use baton::archive::owner::pages::{PageFormat, StoredPage};
use baton::archive::owner::{AGENTS, site_scope};
use baton::archive::sql::SqlArchive;
use baton::config::AgentRole;
use chrono::{DurationRound, TimeDelta, Utc};
use serde_json::json;

use crate::helpers::TempDir;
use crate::postgres_server::PostgresServer;

fn page(path: &str, markdown: &str, deleted: bool) -> StoredPage {
    StoredPage {
        path: path.into(),
        format: PageFormat::Html,
        body: format!("<p>{markdown}</p>"),
        markdown: markdown.into(),
        deleted,
        updated_at: Utc::now().duration_trunc(TimeDelta::milliseconds(1)).unwrap(),
    }
}

async fn changes_are_kept_and_counted(archive: &SqlArchive) {
    assert!(archive.revisions().await.unwrap().is_empty(), "nothing changed yet");
    let first = page("b.md", "one", false);
    archive.put_page("demo", &first).await.unwrap();
    archive.put_page("demo", &page("a.md", "two", false)).await.unwrap();
    let replaced = page("b.md", "three", false);
    archive.put_page("demo", &replaced).await.unwrap();
    archive.put_page("demo", &page("a.md", "", true)).await.unwrap();
    archive.put_page("other", &page("c.md", "four", false)).await.unwrap();
    let pages = archive.pages("demo").await.unwrap();
    assert_eq!(
        pages.iter().map(|p| (p.path.as_str(), p.deleted)).collect::<Vec<_>>(),
        [("a.md", true), ("b.md", false)]
    );
    assert_eq!(pages[1], replaced, "replaced whole, by path");

    let mut agent = StoredAgent {
        id: "cy".into(),
        name: "Cy".into(),
        teams: vec!["support".into()],
        sites: Some(vec!["demo".into()]),
        max_chats: 2,
        token_sha256: "ab".repeat(32),
        role: AgentRole::Admin,
        disabled: false,
    };
    assert!(archive.put_agent(&agent, None).await.unwrap());
    assert!(!archive.put_agent(&agent, None).await.unwrap(), "an id is made once");
    let enabled = agent.clone();
    agent.disabled = true;
    assert!(archive.put_agent(&agent, Some(&enabled)).await.unwrap());
    let mut stale = enabled.clone();
    stale.max_chats = 9;
    assert!(!archive.put_agent(&stale, Some(&enabled)).await.unwrap(), "a change read before the disable");
    assert_eq!(archive.stored_agents().await.unwrap(), [agent]);

    assert_eq!(archive.site_patch("demo").await.unwrap(), None);
    let hi = json!({"persona": {"greeting": "Hi"}});
    assert!(archive.put_site_patch("demo", None, &hi).await.unwrap());
    assert!(!archive.put_site_patch("demo", None, &json!({})).await.unwrap(), "another change came first");
    let bot = json!({"bot": {"min_confidence": 0.5}});
    assert!(archive.put_site_patch("demo", Some(&hi), &bot).await.unwrap());
    assert!(!archive.put_site_patch("demo", Some(&hi), &json!({})).await.unwrap(), "read before the last change");
    assert_eq!(archive.site_patch("demo").await.unwrap(), Some(bot));

    let revisions = archive.revisions().await.unwrap();
    assert_eq!(revisions.get(&site_scope("demo")), Some(&6), "four page writes and two patches: {revisions:?}");
    assert_eq!(revisions.get(&site_scope("other")), Some(&1));
    assert_eq!(revisions.get(AGENTS), Some(&2));
}

#[tokio::test]
async fn owner_changes_are_kept_and_counted_on_sqlite() {
    let dir = TempDir::new("owner-contract");
    let archive = SqlArchive::connect(&dir.sqlite_url()).await.unwrap();
    archive.migrate().await.unwrap();
    changes_are_kept_and_counted(&archive).await;
}

#[tokio::test]
async fn owner_changes_are_kept_and_counted_on_postgres() {
    let server = tokio::task::spawn_blocking(PostgresServer::start).await.unwrap();
    let archive = SqlArchive::connect(&server.url()).await.unwrap();
    archive.migrate().await.unwrap();
    changes_are_kept_and_counted(&archive).await;
}
