//! Signals: the cost of judging one visitor turn, in process, with the code the server runs
//! per visitor message while the bot has the conversation (`conversation::turn::evaluate`:
//! signals, knowledge-base confidence, the site's escalation policy) on the demo site.

use std::time::{Duration, Instant};

use baton::config::Settings;
use baton::conversation::turn::{self, TurnFacts};
use baton::escalation::PolicyState;
use baton::signals::{Role, Turn};
use baton::sites::Site;

use crate::report::{self, Latency};
use crate::servers::repo_root;

/// A plausible conversation: the history before each judged turn grows to this many turns.
const VISITOR_TURNS: [&str; 8] = [
    "Hi, I ordered a lamp last week and it still hasn't shipped.",
    "How long does shipping usually take to Germany?",
    "Can I return it if it arrives damaged?",
    "What payment methods do you accept?",
    "This is taking forever, I'm getting a bit annoyed honestly.",
    "Do you ship to Norway as well, and what does it cost?",
    "Where can I find my order number?",
    "Thanks, that helps a lot!",
];
const BOT_TURN: &str = "Orders ship within 2 business days; delivery in the EU takes 3-5 business days.";

pub struct SignalsRun {
    pub ns_per_turn: f64,
    pub latency_ns: Latency,
    pub turns: u64,
}

pub fn run(budget: Duration) -> anyhow::Result<SignalsRun> {
    let settings = Settings::load_from(&repo_root().join("config"))?;
    let config = settings.site("demo").ok_or_else(|| anyhow::anyhow!("no demo site"))?;
    let site = Site::load(config.clone())?;
    let mut history: Vec<(Role, &str)> = Vec::new();
    for (i, text) in VISITOR_TURNS.iter().enumerate().take(6) {
        history.push((Role::Visitor, text));
        if i % 2 == 0 {
            history.push((Role::Bot, BOT_TURN));
        }
    }
    let turns: Vec<Turn<'_>> = history.iter().map(|(role, text)| Turn { role: *role, text }).collect();
    // Per-call latency in nanoseconds (the histogram's unit here is ns, not µs).
    let mut histogram = report::histogram();
    let started = Instant::now();
    let mut count = 0u64;
    let mut sink = 0usize;
    while started.elapsed() < budget {
        for text in VISITOR_TURNS {
            let mut state = PolicyState::default();
            let call = Instant::now();
            let evaluated = turn::evaluate(&site, &turns, text, TurnFacts::default(), &mut state);
            histogram.saturating_record(u64::try_from(call.elapsed().as_nanos()).unwrap_or(u64::MAX).max(1));
            sink = sink.wrapping_add(usize::from(evaluated.signals.explicit_request));
            count += 1;
        }
    }
    std::hint::black_box(sink);
    Ok(SignalsRun {
        ns_per_turn: started.elapsed().as_nanos() as f64 / count as f64,
        latency_ns: Latency::from_histogram(&histogram),
        turns: count,
    })
}
