//! `AgentPresence`: records written whole, read back as written, removed by `None`.

use baton::store::{AgentStatus, Presence};

use super::*;

contract!(presence_is_written_whole_and_removed_by_none);

async fn presence_is_written_whole_and_removed_by_none(backend: Backend) {
    let presence = &backend.stores.presence;
    let until = chrono::Utc::now();
    let online = Presence { status: AgentStatus::Online, until };
    presence.set_presence("ana", Some(online.clone())).await.unwrap();
    presence.set_presence("bo", Some(online.clone())).await.unwrap();
    presence.set_presence("bo", None).await.unwrap();
    presence.set_presence("nobody", None).await.unwrap();
    let later = Presence { until: until + chrono::Duration::seconds(30), ..online.clone() };
    presence.set_presence("agent: with \"odd\" id ✓", Some(later.clone())).await.unwrap();
    let all: Vec<(String, Presence)> = presence.presence().await.unwrap().into_iter().collect();
    assert_eq!(all, [("agent: with \"odd\" id ✓".to_owned(), later), ("ana".to_owned(), online)]);
}
