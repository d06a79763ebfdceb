//! `baton signals --tune` through the real path: judged escalations written to a SQLite
//! archive through the archive's own write, then the command as an operator runs it; its
//! proposals and the decisions they would have moved, checked against what the verdicts say.

use std::process::Command;
use std::sync::Arc;

use baton::archive::Archive;
use baton::archive::sql::SqlArchive;
use baton::protocol::agent::Verdict;
use baton::protocol::{ConversationId, Event, EventBody, Reason, State};
use baton::records::{EscalationRecord, Record, VerdictRecord};
use baton::signals::TurnSignals;
use baton::store::Conversation;
use chrono::{Duration, Utc};
use serde_json::Value;

use crate::helpers::{TempDir, repo_root};

/// A conversation of `site` escalated for `reason` on a turn with these signals, judged so.
fn judged(
    site: &str,
    reason: Reason,
    signals: TurnSignals,
    verdict: Option<Verdict>,
) -> (Conversation, Vec<Arc<Event>>) {
    let id = ConversationId::new();
    let at = Utc::now() - Duration::hours(1);
    let mut conversation = Conversation {
        id,
        site: site.into(),
        state: State::Queued,
        last_seq: 1,
        created_at: at,
        visitor: Default::default(),
        counters: Default::default(),
        records: Default::default(),
    };
    let escalation =
        EscalationRecord { reason, priority: 5, detail: String::new(), signals: Some(signals), team: None, at };
    conversation.records.apply(Record::Escalation(escalation));
    if let Some(verdict) = verdict {
        conversation.records.apply(Record::Verdict(VerdictRecord { agent: "dev".into(), verdict, reason, at }));
    }
    let body = EventBody::State { state: State::Queued, reason: Some(reason), agent: None };
    (conversation, vec![Arc::new(Event { seq: 1, conversation_id: id, at, body })])
}

fn sentiment(value: f32) -> TurnSignals {
    TurnSignals { sentiment: value, ..TurnSignals::default() }
}

fn confidence(value: f32) -> TurnSignals {
    TurnSignals { confidence: Some(value), ..TurnSignals::default() }
}

#[tokio::test]
async fn tune_proposes_thresholds_from_the_verdicts_and_names_the_decisions_they_move() {
    let dir = TempDir::new("signals-tune");
    let archive = SqlArchive::connect(&dir.sqlite_url()).await.unwrap();
    archive.migrate().await.unwrap();
    let settings = baton::config::Settings::load_from(&repo_root().join("config")).unwrap();
    let policy = &settings.site("demo").unwrap().escalation;
    let (neg, low) = (policy.negative_sentiment, policy.low_confidence);
    use Verdict::*;
    let conversations = [
        // Two the bot could have answered, just past the sentiment threshold; two that needed a person.
        judged("demo", Reason::NegativeSentiment, sentiment(neg - 0.05), Some(BotCouldHaveAnswered)),
        judged("demo", Reason::NegativeSentiment, sentiment(neg - 0.1), Some(BotCouldHaveAnswered)),
        judged("demo", Reason::NegativeSentiment, sentiment(neg - 0.4), Some(RightCall)),
        judged("demo", Reason::NegativeSentiment, sentiment(-1.0), Some(ShouldHaveComeSooner)),
        // Low confidence: every verdict agrees with the policy.
        judged("demo", Reason::LowConfidence, confidence(low / 2.0), Some(RightCall)),
        // Not judged, or another site's: not counted.
        judged("demo", Reason::NegativeSentiment, sentiment(neg - 0.05), None),
        judged("other", Reason::NegativeSentiment, sentiment(neg - 0.05), Some(RightCall)),
    ];
    for (conversation, events) in &conversations {
        archive.write(conversation, events, 1).await.unwrap();
    }

    let output = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["signals", "--site", "demo", "--tune"])
        .env("BATON_CONFIG", repo_root().join("config"))
        .env("BATON__ARCHIVE__URL", dir.sqlite_url())
        .output()
        .expect("baton signals runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let proposals: Vec<Value> =
        String::from_utf8_lossy(&output.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let knob = |name: &str| proposals.iter().find(|p| p["knob"] == name).cloned().unwrap();

    let sentiment = knob("negative_sentiment");
    assert_eq!((sentiment["judged"].as_u64(), sentiment["late"].as_u64()), (Some(4), Some(1)), "{sentiment}");
    assert_eq!((sentiment["right_now"].as_u64(), sentiment["right_proposed"].as_u64()), (Some(2), Some(4)));
    let proposed = sentiment["proposed"].as_f64().unwrap() as f32;
    assert!(proposed < neg - 0.1 && proposed > neg - 0.4, "tightened past both, not past the right call: {proposed}");
    let moved: Vec<&str> =
        sentiment["moved"].as_array().unwrap().iter().map(|m| m["conversation_id"].as_str().unwrap()).collect();
    let expected: Vec<String> = conversations[..2].iter().map(|(c, _)| c.id.to_string()).collect();
    assert_eq!(moved.len(), 2);
    assert!(expected.iter().all(|id| moved.contains(&id.as_str())), "{sentiment}");
    assert!(sentiment["moved"].as_array().unwrap().iter().all(|m| m["escalates"] == false));
    assert!(stderr.contains("would no longer escalate"), "{stderr}");

    let confidence = knob("low_confidence");
    assert_eq!(confidence["proposed"].as_f64().unwrap() as f32, low, "agreeing verdicts keep the threshold");
    assert!(confidence["moved"].as_array().unwrap().is_empty());
}
