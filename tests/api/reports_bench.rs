//! The reports' query speed (BENCHMARKS.md): a million conversations archived on SQLite
//! through the archive's own write (in batches of one transaction each), a year of them on
//! one site across three teams and twelve agents, then every report timed. Prints figures,
//! asserts only what the data must hold. Run with:
//! `cargo test --release -p baton --test api reports_figures -- --ignored --nocapture`
//! (`BATON_BENCH_CONVERSATIONS` sets another count; `BATON_BENCH_DB=FILE` keeps the generated
//! archive in `FILE` and, when it already exists, times the reports over it without
//! generating again.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton::archive::Archive;
use baton::archive::reports::{Period, ReportQuery};
use baton::archive::sql::SqlArchive;
use baton::protocol::agent::Verdict;
use baton::protocol::{AgentRef, ConversationId, Event, EventBody, Reason, Speaker, State};
use baton::records::{EscalationRecord, Rating, Record, VerdictRecord};
use baton::store::Conversation;
use chrono::{DateTime, TimeZone, Utc};

use crate::helpers::TempDir;

const DAYS: i64 = 365;
const BATCH: usize = 2_000;
const RUNS: usize = 5;
const TEAMS: [&str; 3] = ["support", "billing", "returns"];
const REASONS: [Reason; 5] = [
    Reason::ExplicitRequest,
    Reason::NegativeSentiment,
    Reason::LowConfidence,
    Reason::Topic,
    Reason::RepeatedQuestion,
];

/// A small deterministic generator (xorshift64*): the same data every run.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// Seconds, mostly short with a long tail.
    fn secs(&mut self, typical: u64) -> i64 {
        let base = self.below(typical) + 1;
        (if self.below(10) == 0 { base * (self.below(20) + 1) } else { base }) as i64
    }
}

fn message(from: Speaker) -> EventBody {
    EventBody::Message {
        id: uuid::Uuid::new_v4(),
        from,
        text: "Where is my order?".into(),
        author: None,
        client_id: None,
        sources: vec![],
        actions: vec![],
        notice: None,
    }
}

/// One generated conversation: the bot answers; two in five go to a person.
fn conversation(dice: &mut Dice, start: DateTime<Utc>) -> (Conversation, Vec<Arc<Event>>) {
    let id = ConversationId::new();
    let mut conversation = Conversation {
        id,
        site: "demo".into(),
        state: State::Resolved,
        last_seq: 0,
        created_at: start,
        visitor: Default::default(),
        counters: Default::default(),
        records: Default::default(),
    };
    let mut t = 0;
    let mut bodies = vec![(0, message(Speaker::Visitor))];
    t += dice.secs(8);
    bodies.push((t, message(Speaker::Bot)));
    if dice.below(5) < 2 {
        let reason = REASONS[dice.below(REASONS.len() as u64) as usize];
        let team = TEAMS[dice.below(3) as usize];
        t += dice.secs(30);
        bodies.push((t, EventBody::State { state: State::Queued, reason: Some(reason), agent: None }));
        let escalation = EscalationRecord {
            reason,
            priority: 5,
            detail: String::new(),
            signals: None,
            team: Some(team.into()),
            at: start,
        };
        conversation.records.apply(Record::Escalation(escalation));
        let agent = format!("{team}-{}", dice.below(4));
        t += dice.secs(120);
        let agent_ref = AgentRef { id: agent.clone(), name: agent.clone() };
        bodies.push((t, EventBody::State { state: State::Agent, reason: None, agent: Some(agent_ref) }));
        t += dice.secs(40);
        bodies.push((t, message(Speaker::Agent)));
        if dice.below(3) == 0 {
            let verdict = Verdict::ALL[dice.below(3) as usize];
            let record = VerdictRecord { agent, verdict, reason, at: start };
            conversation.records.apply(Record::Verdict(record));
        }
    }
    t += dice.secs(300);
    bodies.push((t, EventBody::State { state: State::Resolved, reason: None, agent: None }));
    if dice.below(4) == 0 {
        let score = dice.below(5) as u8 + 1;
        conversation.records.apply(Record::Rating(Rating { score, comment: None, at: start }));
    }
    let events: Vec<Arc<Event>> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, (secs, body))| {
            let at = start + chrono::Duration::seconds(secs);
            Arc::new(Event { seq: i as u64 + 1, conversation_id: id, at, body })
        })
        .collect();
    conversation.last_seq = events.len() as u64;
    (conversation, events)
}

async fn generate(archive: &SqlArchive, count: usize) -> Duration {
    let started = Instant::now();
    let first_day = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
    let mut made = 0;
    while made < count {
        let size = BATCH.min(count - made);
        let batch: Vec<_> = (made..made + size)
            .map(|n| {
                let start = first_day + chrono::Duration::seconds(n as i64 * DAYS * 86_400 / count as i64);
                conversation(&mut dice, start)
            })
            .collect();
        archive.write_batch(&batch, 1).await.unwrap();
        made += size;
    }
    started.elapsed()
}

/// `(median, slowest)` of [`RUNS`] runs of the report.
async fn time(archive: &dyn Archive, query: &ReportQuery) -> (Duration, Duration, u64) {
    let mut times = Vec::new();
    let mut conversations = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        conversations = archive.report(query).await.unwrap().figures.conversations;
        times.push(started.elapsed());
    }
    times.sort();
    (times[RUNS / 2], times[RUNS - 1], conversations)
}

#[tokio::test]
#[ignore = "a benchmark: prints figures (BENCHMARKS.md)"]
async fn reports_figures() {
    let count: usize =
        std::env::var("BATON_BENCH_CONVERSATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let dir = TempDir::new("reports-bench");
    let kept = std::env::var("BATON_BENCH_DB").ok();
    let url = kept.as_ref().map_or_else(|| dir.sqlite_url(), |file| format!("sqlite://{file}"));
    let reuse = kept.as_ref().is_some_and(|file| std::path::Path::new(file).exists());
    let archive = SqlArchive::connect(&url).await.unwrap();
    archive.migrate().await.unwrap();
    if reuse {
        println!("timing the reports over the archive kept in {url}");
    } else {
        let took = generate(&archive, count).await;
        println!("generated {count} conversations in {:.1} s", took.as_secs_f64());
    }
    let year = ReportQuery {
        sites: vec!["demo".into()],
        from: Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
        to: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        team: None,
        agent: None,
        period: Period::Day,
    };
    let month = ReportQuery { to: Utc.with_ymd_and_hms(2025, 2, 1, 0, 0, 0).unwrap(), ..year.clone() };
    let reports = [
        ("a year, by day", year.clone()),
        ("a year, by week", ReportQuery { period: Period::Week, ..year.clone() }),
        ("a year, one team", ReportQuery { team: Some("billing".into()), ..year.clone() }),
        ("a year, one agent", ReportQuery { agent: Some("billing-2".into()), ..year.clone() }),
        ("a month, by day", month),
    ];
    println!("| report | conversations counted | median | slowest of {RUNS} |");
    println!("|---|---|---|---|");
    for (name, query) in reports {
        let (median, slowest, counted) = time(&archive, &query).await;
        println!("| {name} | {counted} | {} ms | {} ms |", median.as_millis(), slowest.as_millis());
        if name == "a year, by day" {
            assert_eq!(counted, count as u64, "every generated conversation is counted");
        }
    }
}
