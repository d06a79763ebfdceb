//! The reports' numbers, checked against a scripted set of conversations whose true figures
//! are worked out by hand below, on SQLite and on a real PostgreSQL. The conversations go in
//! through the archive's write, as the archiver sends them (some in several writes, one
//! twice), with controlled times.

use std::sync::Arc;
use std::time::Duration;

use baton::archive::Archive;
use baton::archive::reports::{Period, Report, ReportQuery};
use baton::archive::sql::SqlArchive;
use baton::protocol::agent::Verdict;
use baton::protocol::{Action, AgentRef, ConversationId, Event, EventBody, Reason, Speaker, State};
use baton::records::{Contact, EscalationRecord, Rating, Record, VerdictRecord};
use baton::store::{Conversation, Visitor};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

use crate::helpers::TempDir;
use crate::postgres_server::PostgresServer;

/// Monday 2 November 2026, 09:00 UTC: day one of the script.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

/// A conversation being scripted: its events at seconds after its start.
struct Script {
    conversation: Conversation,
    events: Vec<Arc<Event>>,
}

impl Script {
    fn new(site: &str, start: DateTime<Utc>) -> Script {
        let conversation = Conversation {
            id: ConversationId::new(),
            site: site.into(),
            state: State::Bot,
            last_seq: 0,
            created_at: start,
            visitor: Visitor::default(),
            counters: Default::default(),
            records: Default::default(),
        };
        Script { conversation, events: Vec::new() }
    }

    fn at(&self, secs: i64) -> DateTime<Utc> {
        self.conversation.created_at + chrono::Duration::seconds(secs)
    }

    fn push(mut self, secs: i64, body: EventBody) -> Script {
        if let EventBody::State { state, .. } = &body {
            self.conversation.state = *state;
        }
        let seq = self.events.len() as u64 + 1;
        self.events.push(Arc::new(Event { seq, conversation_id: self.conversation.id, at: self.at(secs), body }));
        self.conversation.last_seq = seq;
        self
    }

    fn says(self, secs: i64, from: Speaker) -> Script {
        self.push(secs, message(from, vec![]))
    }

    fn offers(self, secs: i64) -> Script {
        let action = Action { id: baton::conversation::TALK_TO_PERSON.into(), label: "Talk to a person".into() };
        self.push(secs, message(Speaker::Bot, vec![action]))
    }

    fn state(self, secs: i64, state: State, reason: Option<Reason>, agent: Option<&str>) -> Script {
        let agent = agent.map(|id| AgentRef { id: id.into(), name: id.into() });
        self.push(secs, EventBody::State { state, reason, agent })
    }

    fn escalated(mut self, secs: i64, reason: Reason, team: Option<&str>) -> Script {
        let record = EscalationRecord {
            reason,
            priority: 5,
            detail: String::new(),
            signals: None,
            team: team.map(str::to_owned),
            at: self.at(secs),
        };
        self.conversation.records.apply(Record::Escalation(record));
        self.state(secs, State::Queued, Some(reason), None)
    }

    fn record(mut self, record: Record) -> Script {
        self.conversation.records.apply(record);
        self
    }

    fn rated(self, score: u8) -> Script {
        let at = self.at(3600);
        self.record(Record::Rating(Rating { score, comment: None, at }))
    }

    fn left(self, secs: i64) -> Script {
        let at = self.at(secs);
        self.record(Record::Contact(Contact { email: "v@example.com".into(), at, text: None }))
    }

    fn verdict(self, agent: &str, reason: Reason, verdict: Verdict) -> Script {
        let at = self.at(4000);
        self.record(Record::Verdict(VerdictRecord { agent: agent.into(), verdict, reason, at }))
    }
}

fn message(from: Speaker, actions: Vec<Action>) -> EventBody {
    EventBody::Message {
        id: uuid::Uuid::new_v4(),
        from,
        text: "…".into(),
        author: None,
        client_id: None,
        sources: vec![],
        actions,
        notice: None,
    }
}

use Speaker::{Agent as A, Bot as B, Visitor as V};

/// The script. Figures worked out by hand (site `demo`, days 1-2):
/// - conversations 8 (7 on day one); resolved by the bot: c1, c3 (c2 reopened within the
///   hour's window, c3 after it) = 2; escalated c4-c7 = 4, by reason explicit_request 1,
///   negative_sentiment 2, low_confidence 1.
/// - first bot answer [2,4,6,3,2,1,7,5]: p50 3, p90 7; wait for an agent [30,120,60]: p50 60,
///   p90 120; first response [5,10,30]: p50 10, p90 30; handle [300,600,120]: p50 300, p90 600
///   (each a bucket's bound: the reports' percentiles name the bucket).
/// - csat bot (c1 5, c3 3) 4.0, human (c4 4, c5 2) 3.0; left messages c6, c7, answered c7 after
///   90 s; offers c4 (taken), c8 (not).
/// - verdicts: explicit_request right call, negative_sentiment bot could have answered,
///   low_confidence should have come sooner.
fn script() -> Vec<Script> {
    let day2 = t0() + chrono::Duration::days(1);
    vec![
        Script::new("demo", t0()).says(0, V).says(2, B).state(60, State::Resolved, None, None).rated(5),
        Script::new("demo", t0()).says(0, V).says(4, B).state(30, State::Resolved, None, None).state(
            130,
            State::Bot,
            None,
            None,
        ),
        Script::new("demo", t0())
            .says(0, V)
            .says(6, B)
            .state(30, State::Resolved, None, None)
            .state(7230, State::Bot, None, None)
            .rated(3),
        Script::new("demo", t0())
            .says(0, V)
            .offers(3)
            .says(9, V)
            .escalated(10, Reason::ExplicitRequest, Some("support"))
            .state(40, State::Agent, None, Some("ana"))
            .says(45, A)
            .state(340, State::Resolved, None, None)
            .rated(4)
            .verdict("ana", Reason::ExplicitRequest, Verdict::RightCall),
        Script::new("demo", t0())
            .says(0, V)
            .says(2, B)
            .escalated(5, Reason::NegativeSentiment, Some("billing"))
            .state(125, State::Agent, None, Some("bo"))
            .says(135, A)
            .state(725, State::Bot, None, None)
            .rated(2)
            .verdict("bo", Reason::NegativeSentiment, Verdict::BotCouldHaveAnswered),
        Script::new("demo", t0()).says(0, V).says(1, B).escalated(3, Reason::NegativeSentiment, None).left(200).state(
            300,
            State::Resolved,
            None,
            None,
        ),
        Script::new("demo", t0())
            .says(0, V)
            .says(7, B)
            .escalated(8, Reason::LowConfidence, Some("support"))
            .left(8)
            .state(68, State::Agent, None, Some("ana"))
            .says(98, A)
            .state(188, State::Resolved, None, None)
            .verdict("ana", Reason::LowConfidence, Verdict::ShouldHaveComeSooner),
        Script::new("demo", day2).says(0, V).says(5, B).offers(6),
        Script::new("other", t0()).says(0, V).says(1, B),
    ]
}

async fn load(archive: &dyn Archive) {
    for (index, script) in script().into_iter().enumerate() {
        let (conversation, events) = (&script.conversation, &script.events);
        if index == 3 {
            // In two writes, as the archiver copies a conversation page by page, then replayed.
            archive.write(conversation, &events[..4], 1).await.unwrap();
            archive.write(conversation, &events[4..], 2).await.unwrap();
            archive.write(conversation, events, 2).await.unwrap();
        } else {
            archive.write(conversation, events, 1).await.unwrap();
        }
    }
}

fn query(sites: &[&str], period: Period) -> ReportQuery {
    ReportQuery {
        sites: sites.iter().map(|s| (*s).to_owned()).collect(),
        from: t0() - chrono::Duration::hours(9),
        to: t0() + chrono::Duration::days(2),
        team: None,
        agent: None,
        period,
    }
}

fn check_totals(report: &Report) {
    let r = serde_json::to_value(report).unwrap();
    assert_eq!(r["conversations"], 8);
    assert_eq!(r["resolved_by_bot"], 2);
    assert_eq!(r["bot_resolution_rate"], 0.25);
    assert_eq!(r["escalated"], 4);
    assert_eq!(r["handoff_rate"], 0.5);
    assert_eq!(r["handoffs_by_reason"], json!({"explicit_request": 1, "negative_sentiment": 2, "low_confidence": 1}));
    assert_eq!(r["first_bot_answer_secs"], json!({"p50": 3.0, "p90": 7.0, "count": 8}));
    assert_eq!(r["wait_for_agent_secs"], json!({"p50": 60.0, "p90": 120.0, "count": 3}));
    assert_eq!(r["first_response_secs"], json!({"p50": 10.0, "p90": 30.0, "count": 3}));
    assert_eq!(r["handle_secs"], json!({"p50": 300.0, "p90": 600.0, "count": 3}));
    assert_eq!(r["csat"], json!({"bot": 4.0, "human": 3.0, "bot_ratings": 2, "human_ratings": 2}));
    assert_eq!(
        r["left_messages"],
        json!({"count": 2, "answered": 1, "answer_secs": {"p50": 90.0, "p90": 90.0, "count": 1}})
    );
    assert_eq!(r["offers"], json!({"made": 2, "taken": 1}));
    let verdict = |right: u64, could: u64, sooner: u64, precision: f64, lateness: f64| {
        json!({"verdicts": 1, "right_call": right, "bot_could_have_answered": could,
               "should_have_come_sooner": sooner, "precision": precision, "lateness": lateness})
    };
    assert_eq!(
        r["verdicts"],
        json!({
            "explicit_request": verdict(1, 0, 0, 1.0, 0.0),
            "negative_sentiment": verdict(0, 1, 0, 0.0, 0.0),
            "low_confidence": verdict(0, 0, 1, 1.0, 1.0),
        })
    );
}

fn check_slices(report: &Report) {
    let days: Vec<(String, u64)> =
        report.series.iter().map(|p| (p.start.to_string(), p.figures.conversations)).collect();
    assert_eq!(days, [("2026-11-02".to_owned(), 7), ("2026-11-03".to_owned(), 1)]);
    let agents: Vec<(&str, u64, Option<f64>)> = report
        .by_agent
        .iter()
        .map(|b| (b.key.as_str(), b.figures.conversations, b.figures.first_response_secs.p50))
        .collect();
    assert_eq!(agents, [("ana", 2, Some(5.0)), ("bo", 1, Some(10.0))]);
    let teams: Vec<(&str, u64)> = report.by_team.iter().map(|b| (b.key.as_str(), b.figures.conversations)).collect();
    assert_eq!(teams, [("", 5), ("billing", 1), ("support", 2)]);
}

async fn every_number_matches_the_script(archive: &dyn Archive) {
    load(archive).await;
    let report = archive.report(&query(&["demo"], Period::Day)).await.unwrap();
    check_totals(&report);
    check_slices(&report);

    let weekly = archive.report(&query(&["demo"], Period::Week)).await.unwrap();
    assert_eq!(weekly.series.len(), 1, "both days are in the week of Monday 2 November");
    assert_eq!((weekly.series[0].start.to_string(), weekly.series[0].figures.conversations), ("2026-11-02".into(), 8));

    let support = ReportQuery { team: Some("support".into()), ..query(&["demo"], Period::Day) };
    let support = archive.report(&support).await.unwrap();
    assert_eq!((support.figures.conversations, support.figures.escalated), (2, 2));
    let ana = ReportQuery { agent: Some("ana".into()), ..query(&["demo"], Period::Day) };
    assert_eq!(archive.report(&ana).await.unwrap().figures.handle_secs.p50, Some(120.0));

    // November whole (and October's last day with it): the breakdowns read monthly rows.
    let from = Utc.with_ymd_and_hms(2026, 10, 31, 0, 0, 0).unwrap();
    let november =
        ReportQuery { from, to: Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(), ..query(&["demo"], Period::Day) };
    let november = archive.report(&november).await.unwrap();
    assert_eq!(november.figures, report.figures);
    assert_eq!((november.by_agent, november.by_team), (report.by_agent.clone(), report.by_team.clone()));

    let day_one = ReportQuery { to: t0() + chrono::Duration::hours(15), ..query(&["demo"], Period::Day) };
    assert_eq!(archive.report(&day_one).await.unwrap().figures.conversations, 7);
    assert_eq!(archive.report(&query(&["demo", "other"], Period::Day)).await.unwrap().figures.conversations, 9);
    assert_eq!(archive.report(&query(&["nowhere"], Period::Day)).await.unwrap().figures.conversations, 0);
}

/// A conversation the bot resolved leaves `resolved_by_bot` when the visitor reopens it
/// within the window, not after.
async fn a_reopening_within_the_window_takes_the_bots_resolution_back(archive: &dyn Archive) {
    let script = Script::new("demo", t0()).says(0, V).says(2, B).state(30, State::Resolved, None, None);
    archive.write(&script.conversation, &script.events, 1).await.unwrap();
    let resolved = |r: Report| (r.figures.conversations, r.figures.resolved_by_bot);
    assert_eq!(resolved(archive.report(&query(&["demo"], Period::Day)).await.unwrap()), (1, 1));
    let script = script.state(90, State::Bot, None, None).says(91, V);
    archive.write(&script.conversation, &script.events, 2).await.unwrap();
    assert_eq!(resolved(archive.report(&query(&["demo"], Period::Day)).await.unwrap()), (1, 0));
}

async fn sqlite() -> (Arc<dyn Archive>, TempDir) {
    let dir = TempDir::new("reports");
    let archive = SqlArchive::connect(&dir.sqlite_url()).await.unwrap();
    let archive = archive.with_reopen_windows([("demo".to_owned(), Duration::from_secs(3600))]);
    archive.migrate().await.unwrap();
    (Arc::new(archive), dir)
}

async fn postgres() -> (Arc<dyn Archive>, PostgresServer) {
    let server = tokio::task::spawn_blocking(PostgresServer::start).await.unwrap();
    let archive = SqlArchive::connect(&server.url()).await.unwrap();
    let archive = archive.with_reopen_windows([("demo".to_owned(), Duration::from_secs(3600))]);
    archive.migrate().await.unwrap();
    (Arc::new(archive), server)
}

#[tokio::test]
async fn every_report_number_matches_a_scripted_set_of_conversations_on_sqlite() {
    let (archive, _dir) = sqlite().await;
    every_number_matches_the_script(&*archive).await;
}

#[tokio::test]
async fn every_report_number_matches_a_scripted_set_of_conversations_on_postgres() {
    let (archive, _server) = postgres().await;
    every_number_matches_the_script(&*archive).await;
}

#[tokio::test]
async fn a_reopening_within_the_window_takes_the_bots_resolution_back_on_sqlite() {
    let (archive, _dir) = sqlite().await;
    a_reopening_within_the_window_takes_the_bots_resolution_back(&*archive).await;
}

#[tokio::test]
async fn a_reopening_within_the_window_takes_the_bots_resolution_back_on_postgres() {
    let (archive, _server) = postgres().await;
    a_reopening_within_the_window_takes_the_bots_resolution_back(&*archive).await;
}
