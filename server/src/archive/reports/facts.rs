//! What the reports know about one conversation, folded from its events in `seq` order (and
//! from its records: rating, left message, verdict), and what it adds to the rollup.
//!
//! A conversation's figures all count on the UTC day it started. Durations go into
//! [`BUCKETS`], each named by its lower bound in seconds: a fixed, roughly logarithmic scale,
//! so the rollup holds a few dozen rows per metric and day however many conversations.

use serde::{Deserialize, Serialize};

use crate::conversation::TALK_TO_PERSON;
use crate::protocol::agent::Verdict;
use crate::protocol::{Event, EventBody, Reason, Speaker, State};
use crate::records::Records;

pub const DAY_MS: i64 = 86_400_000;
/// The rollup's "every team" / "every agent" key (a team or agent id is never `*`).
pub const ANY: &str = "*";
/// Added to a level for its monthly rows.
pub const MONTHLY: i64 = 10;

/// The first day of the UTC month holding `day` (days since 1970-01-01).
pub fn month_start(day: i64) -> i64 {
    use chrono::Datelike;
    let date = chrono::DateTime::from_timestamp(day * 86_400, 0).map(|t| t.date_naive()).unwrap_or_default();
    day - i64::from(date.day0())
}

/// The day after the month holding `day` ends.
pub fn next_month(day: i64) -> i64 {
    let mut next = month_start(day) + 27;
    while month_start(next) == month_start(day) {
        next += 1;
    }
    next
}

/// The rollup's metric names (`report_tally.metric`). Counts have bucket 0.
pub mod metric {
    pub const CONVERSATIONS: &str = "conversations";
    pub const ESCALATED: &str = "escalated";
    pub const RESOLVED_BY_BOT: &str = "resolved_by_bot";
    pub const OFFERS: &str = "offers";
    pub const OFFERS_TAKEN: &str = "offers_taken";
    pub const LEFT_MESSAGES: &str = "left_messages";
    pub const LEFT_ANSWERED: &str = "left_answered";
    /// `reason:<reason>`: escalations by their first reason.
    pub const REASON: &str = "reason:";
    /// `verdict:<reason>:<verdict>`.
    pub const VERDICT: &str = "verdict:";
    /// Durations (buckets in seconds).
    pub const FIRST_BOT_ANSWER: &str = "secs:first_bot_answer";
    pub const WAIT_FOR_AGENT: &str = "secs:wait_for_agent";
    pub const FIRST_RESPONSE: &str = "secs:first_response";
    pub const HANDLE: &str = "secs:handle";
    pub const LEFT_ANSWER: &str = "secs:left_answer";
    /// Ratings (bucket: the score), of conversations no person / a person took part in.
    pub const CSAT_BOT: &str = "csat:bot";
    pub const CSAT_HUMAN: &str = "csat:human";
}

/// One conversation's facts so far. Times are Unix milliseconds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Facts {
    pub site: String,
    pub day: i64,
    /// The team the escalation asked for (`""`: anyone).
    pub team: String,
    /// The first agent who took it (`""`: none).
    pub agent: String,
    pub state: Option<State>,
    pub first_visitor_at: Option<i64>,
    pub first_bot_at: Option<i64>,
    pub offered: bool,
    pub offer_taken: bool,
    /// The first escalation.
    pub queued_at: Option<i64>,
    pub reason: Option<Reason>,
    pub assigned_at: Option<i64>,
    pub first_agent_reply_at: Option<i64>,
    /// When the first agent's stint ended (resolved, handed back, requeued).
    pub handled_until: Option<i64>,
    /// The first resolution, and whether a person had been asked for before it.
    pub resolved_at: Option<i64>,
    pub person_before_resolved: bool,
    /// The first reopening after that resolution.
    pub reopened_at: Option<i64>,
    pub left_at: Option<i64>,
    pub left_answered_at: Option<i64>,
    pub rating: Option<u8>,
    pub verdict: Option<(Reason, Verdict)>,
    /// Whether the rollup counts it in `resolved_by_bot` (decided when it was folded, with
    /// the site's reopen window then, so the count it added is the count it takes back).
    pub counted_resolved_by_bot: bool,
}

/// One count the conversation adds to the rollup (`n = 1`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tally {
    pub site: String,
    /// 0: all teams and agents; 1: one team; 2: one agent (see the migration).
    pub level: i64,
    pub metric: String,
    pub day: i64,
    pub team: String,
    pub agent: String,
    pub bucket: i64,
}

/// The duration buckets' lower bounds, seconds: exact to 10 s, then 5 s, 10 s, 15 s, 30 s,
/// 1 min, 5 min wide and wider up to a day; longer durations go by whole days.
pub const BUCKETS: [i64; 46] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60, 75, 90, 105, 120, 150, 180, 240, 300, 360, 420, 480,
    540, 600, 900, 1_200, 1_500, 1_800, 2_400, 3_000, 3_600, 5_400, 7_200, 10_800, 14_400, 21_600, 28_800, 43_200,
    86_400,
];

/// The bucket (its lower bound, seconds) a duration of `ms` falls in.
pub fn bucket(ms: i64) -> i64 {
    let secs = ms.max(0) / 1000;
    if secs >= 86_400 {
        return secs / 86_400 * 86_400;
    }
    let index = BUCKETS.partition_point(|bound| *bound <= secs);
    BUCKETS[index.saturating_sub(1)]
}

/// The wire name of a reason.
pub fn reason_name(reason: Reason) -> String {
    serde_json::to_value(reason).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl Facts {
    pub fn new(site: &str, started_at_ms: i64) -> Facts {
        Facts { site: site.to_owned(), day: started_at_ms.div_euclid(DAY_MS), ..Facts::default() }
    }

    /// Takes what the records say now (they are replaced whole, so always the latest).
    pub fn read_records(&mut self, records: &Records) {
        self.team = records.escalation.as_ref().and_then(|e| e.team.clone()).unwrap_or_default();
        self.rating = records.rating.as_ref().map(|r| r.score);
        self.left_at = records.contact.as_ref().map(|c| c.at.timestamp_millis());
        self.verdict = records.verdict.as_ref().map(|v| (v.reason, v.verdict));
    }

    /// Folds one event in (events come in `seq` order, each once).
    pub fn fold(&mut self, event: &Event) {
        let at = event.at.timestamp_millis();
        match &event.body {
            EventBody::Message { from, actions, .. } => self.message(*from, actions, at),
            EventBody::State { state, reason, agent } => {
                self.state_change(*state, *reason, agent.as_ref().map(|a| a.id.as_str()), at)
            }
            // Notes and files do not move any figure.
            EventBody::Note { .. } | EventBody::Attachment { .. } => {}
        }
    }

    fn message(&mut self, from: Speaker, actions: &[crate::protocol::Action], at: i64) {
        match from {
            Speaker::Visitor => {
                self.first_visitor_at.get_or_insert(at);
            }
            Speaker::Bot => {
                if self.first_visitor_at.is_some() {
                    self.first_bot_at.get_or_insert(at);
                }
                self.offered |= actions.iter().any(|a| a.id == TALK_TO_PERSON);
            }
            Speaker::Agent => {
                if self.assigned_at.is_some() && self.handled_until.is_none() {
                    self.first_agent_reply_at.get_or_insert(at);
                }
                if self.left_at.is_some_and(|left| left <= at) {
                    self.left_answered_at.get_or_insert(at);
                }
            }
            Speaker::System => {}
        }
    }

    fn state_change(&mut self, state: State, reason: Option<Reason>, agent: Option<&str>, at: i64) {
        let was = self.state.replace(state);
        match state {
            State::Queued if self.queued_at.is_none() => {
                self.queued_at = Some(at);
                self.reason = reason;
                self.offer_taken = self.offered && reason == Some(Reason::ExplicitRequest);
            }
            State::Agent if self.assigned_at.is_none() => {
                self.assigned_at = Some(at);
                self.agent = agent.unwrap_or_default().to_owned();
            }
            State::Resolved if self.resolved_at.is_none() => {
                self.resolved_at = Some(at);
                self.person_before_resolved = self.queued_at.is_some();
            }
            State::Bot if was == Some(State::Resolved) && self.reopened_at.is_none() => {
                self.reopened_at = Some(at);
            }
            _ => {}
        }
        if self.assigned_at.is_some() && self.handled_until.is_none() && state != State::Agent {
            self.handled_until = Some(at);
        }
    }

    /// Resolved with no person asked for, and not reopened within `reopen_window_ms`.
    pub fn resolved_by_bot(&self, reopen_window_ms: i64) -> bool {
        let Some(resolved) = self.resolved_at.filter(|_| !self.person_before_resolved) else { return false };
        self.reopened_at.is_none_or(|reopened| reopened - resolved > reopen_window_ms)
    }

    /// Every count this conversation adds to the rollup now, each under three keys: all
    /// teams and agents ([`ANY`], [`ANY`]), its team (`team`, [`ANY`]), and its agent with
    /// that team (`team`, `agent`; only once an agent took it); each key once for its day
    /// and once for its month (level + [`MONTHLY`], `day` the month's first). A report reads
    /// one level, whole months from the monthly rows, so its cost grows with neither the
    /// agents nor the length of the range.
    pub fn tallies(&self) -> Vec<Tally> {
        let mut out = Vec::new();
        let month = month_start(self.day);
        for (metric, bucket) in self.counts() {
            let mut key = |level: i64, team: &str, agent: &str| {
                for (level, day) in [(level, self.day), (level + MONTHLY, month)] {
                    out.push(Tally {
                        site: self.site.clone(),
                        level,
                        metric: metric.clone(),
                        day,
                        team: team.to_owned(),
                        agent: agent.to_owned(),
                        bucket,
                    })
                }
            };
            key(0, ANY, ANY);
            key(1, &self.team, ANY);
            if !self.agent.is_empty() {
                key(2, &self.team, &self.agent);
            }
        }
        out
    }

    /// `(metric, bucket)` of every count the conversation adds.
    fn counts(&self) -> Vec<(String, i64)> {
        let mut out = vec![(metric::CONVERSATIONS.to_owned(), 0)];
        let flags = [
            (self.queued_at.is_some(), metric::ESCALATED),
            (self.counted_resolved_by_bot, metric::RESOLVED_BY_BOT),
            (self.offered, metric::OFFERS),
            (self.offer_taken, metric::OFFERS_TAKEN),
            (self.left_at.is_some(), metric::LEFT_MESSAGES),
            (self.left_answered_at.is_some(), metric::LEFT_ANSWERED),
        ];
        out.extend(flags.into_iter().filter(|(on, _)| *on).map(|(_, name)| (name.to_owned(), 0)));
        if let Some(reason) = self.reason.filter(|_| self.queued_at.is_some()) {
            out.push((format!("{}{}", metric::REASON, reason_name(reason)), 0));
        }
        if let Some((reason, verdict)) = self.verdict {
            out.push((format!("{}{}:{}", metric::VERDICT, reason_name(reason), verdict.name()), 0));
        }
        let spans = [
            (metric::FIRST_BOT_ANSWER, self.first_visitor_at, self.first_bot_at),
            (metric::WAIT_FOR_AGENT, self.queued_at, self.assigned_at),
            (metric::FIRST_RESPONSE, self.assigned_at, self.first_agent_reply_at),
            (metric::HANDLE, self.assigned_at, self.handled_until),
            (metric::LEFT_ANSWER, self.left_at, self.left_answered_at),
        ];
        for (name, from, to) in spans {
            if let (Some(from), Some(to)) = (from, to) {
                out.push((name.to_owned(), bucket(to - from)));
            }
        }
        if let Some(score) = self.rating {
            let name = if self.assigned_at.is_some() { metric::CSAT_HUMAN } else { metric::CSAT_BOT };
            out.push((name.to_owned(), i64::from(score)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_fall_in_the_bucket_named_by_its_lower_bound() {
        let cases = [(0, 0), (999, 0), (9_999, 9), (14_999, 10), (62_000, 60), (130_000, 120), (600_000, 600)];
        for (ms, expected) in cases {
            assert_eq!(bucket(ms), expected, "{ms} ms");
        }
        assert_eq!(bucket(-5), 0);
        assert_eq!(bucket(3 * 86_400_000 + 5), 3 * 86_400);
        assert!(BUCKETS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn months_start_on_their_first_day() {
        let day = |y, m, d| {
            chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap().signed_duration_since(Default::default()).num_days()
        };
        assert_eq!(month_start(day(2026, 2, 17)), day(2026, 2, 1));
        assert_eq!(next_month(day(2026, 2, 17)), day(2026, 3, 1));
        assert_eq!(next_month(day(2024, 2, 1)), day(2024, 3, 1));
        assert_eq!(next_month(day(2026, 12, 31)), day(2027, 1, 1));
    }

    #[test]
    fn a_reopening_counts_against_the_bot_only_within_the_window() {
        let mut facts = Facts { resolved_at: Some(1_000), reopened_at: Some(61_000), ..Facts::default() };
        assert!(!facts.resolved_by_bot(60_000));
        assert!(facts.resolved_by_bot(59_999));
        facts.person_before_resolved = true;
        assert!(!facts.resolved_by_bot(0));
    }
}
