//! The numbers: per site, team, agent and day or week, from SQL over the archive.
//!
//! The archive folds each conversation's events into its [`facts::Facts`] as it writes them
//! (same transaction), and keeps a rollup of counts and duration buckets by site, UTC day
//! of the conversation's start, team and agent ([`sql`]). A report sums the rollup over a
//! date range, so it costs the same for a thousand conversations as for a million.
//!
//! [`Report`] is what the console's Reports page and the owner API's `/v1/api/reports`
//! serve: its top-level names are the protocol's (Version 1.1).
//!
//! Percentiles are nearest-rank over the duration buckets, named by the bucket's lower bound
//! (exact to the second below ten seconds, see [`facts::BUCKETS`]).

pub mod csv;
pub mod facts;
pub mod sql;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::protocol::agent::Verdict;
use facts::metric;

/// Days or weeks (starting Monday) for a report's series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    #[default]
    Day,
    Week,
}

/// Which conversations a report counts: those started on the UTC days from `from`'s to the
/// day before `to` (`to` excluded), on these sites, optionally of one team or agent.
#[derive(Clone, Debug)]
pub struct ReportQuery {
    pub sites: Vec<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub team: Option<String>,
    pub agent: Option<String>,
    pub period: Period,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    /// How many durations they are taken over.
    pub count: u64,
}

/// Mean ratings (1-5) of conversations no person took part in (`bot`) and the others.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Csat {
    pub bot: Option<f64>,
    pub human: Option<f64>,
    pub bot_ratings: u64,
    pub human_ratings: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LeftMessages {
    pub count: u64,
    /// Answered by an agent in the conversation.
    pub answered: u64,
    pub answer_secs: Percentiles,
}

/// Offers of a person the bot made, and how many the visitor took.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Offers {
    pub made: u64,
    pub taken: u64,
}

/// Agents' verdicts on one reason's escalations. `precision`: the share that needed a
/// person (right call or late); `lateness`: the share that should have come sooner.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VerdictFigures {
    pub verdicts: u64,
    pub right_call: u64,
    pub bot_could_have_answered: u64,
    pub should_have_come_sooner: u64,
    pub precision: Option<f64>,
    pub lateness: Option<f64>,
}

/// Every figure, for one slice (the whole range, a day, an agent, a team).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub conversations: u64,
    pub resolved_by_bot: u64,
    pub bot_resolution_rate: f64,
    pub escalated: u64,
    pub handoff_rate: f64,
    pub handoffs_by_reason: BTreeMap<String, u64>,
    pub first_bot_answer_secs: Percentiles,
    pub wait_for_agent_secs: Percentiles,
    pub first_response_secs: Percentiles,
    pub handle_secs: Percentiles,
    pub csat: Csat,
    pub left_messages: LeftMessages,
    pub offers: Offers,
    pub verdicts: BTreeMap<String, VerdictFigures>,
}

/// One day's or week's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeriodFigures {
    pub start: NaiveDate,
    #[serde(flatten)]
    pub figures: Figures,
}

/// One agent's or team's figures (`key` `""`: no team named).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    pub key: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub sites: Vec<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub period: Period,
    #[serde(flatten)]
    pub figures: Figures,
    pub series: Vec<PeriodFigures>,
    pub by_agent: Vec<Breakdown>,
    pub by_team: Vec<Breakdown>,
}

/// Rollup rows summed for one slice, turned into [`Figures`].
#[derive(Default)]
pub(crate) struct Tallies {
    counts: HashMap<String, u64>,
    buckets: HashMap<String, BTreeMap<i64, u64>>,
}

impl Tallies {
    pub(crate) fn add(&mut self, metric: &str, bucket: i64, n: u64) {
        if metric.starts_with("secs:") || metric.starts_with("csat:") {
            *self.buckets.entry(metric.to_owned()).or_default().entry(bucket).or_default() += n;
        } else {
            *self.counts.entry(metric.to_owned()).or_default() += n;
        }
    }

    pub(crate) fn merge_ref(&mut self, other: &Tallies) {
        for (metric, n) in &other.counts {
            *self.counts.entry(metric.clone()).or_default() += n;
        }
        for (metric, buckets) in &other.buckets {
            let mine = self.buckets.entry(metric.clone()).or_default();
            for (bucket, n) in buckets {
                *mine.entry(*bucket).or_default() += n;
            }
        }
    }

    pub(crate) fn merge(&mut self, other: Tallies) {
        for (metric, n) in other.counts {
            *self.counts.entry(metric).or_default() += n;
        }
        for (metric, buckets) in other.buckets {
            let mine = self.buckets.entry(metric).or_default();
            for (bucket, n) in buckets {
                *mine.entry(bucket).or_default() += n;
            }
        }
    }

    fn count(&self, metric: &str) -> u64 {
        self.counts.get(metric).copied().unwrap_or(0)
    }

    fn percentiles(&self, metric: &str) -> Percentiles {
        let empty = BTreeMap::new();
        let buckets = self.buckets.get(metric).unwrap_or(&empty);
        let count = buckets.values().sum();
        Percentiles { p50: nearest_rank(buckets, count, 0.5), p90: nearest_rank(buckets, count, 0.9), count }
    }

    /// `(mean, count)` of a rating's buckets.
    fn mean(&self, metric: &str) -> (Option<f64>, u64) {
        let Some(buckets) = self.buckets.get(metric) else { return (None, 0) };
        let count: u64 = buckets.values().sum();
        let sum: f64 = buckets.iter().map(|(score, n)| *score as f64 * *n as f64).sum();
        (if count == 0 { None } else { Some(sum / count as f64) }, count)
    }

    pub(crate) fn figures(&self) -> Figures {
        let conversations = self.count(metric::CONVERSATIONS);
        let rate = |n: u64| if conversations == 0 { 0.0 } else { n as f64 / conversations as f64 };
        let (resolved_by_bot, escalated) = (self.count(metric::RESOLVED_BY_BOT), self.count(metric::ESCALATED));
        let handoffs_by_reason = self.prefixed(metric::REASON).into_iter().collect();
        let ((bot, bot_ratings), (human, human_ratings)) = (self.mean(metric::CSAT_BOT), self.mean(metric::CSAT_HUMAN));
        Figures {
            conversations,
            resolved_by_bot,
            bot_resolution_rate: rate(resolved_by_bot),
            escalated,
            handoff_rate: rate(escalated),
            handoffs_by_reason,
            first_bot_answer_secs: self.percentiles(metric::FIRST_BOT_ANSWER),
            wait_for_agent_secs: self.percentiles(metric::WAIT_FOR_AGENT),
            first_response_secs: self.percentiles(metric::FIRST_RESPONSE),
            handle_secs: self.percentiles(metric::HANDLE),
            csat: Csat { bot, human, bot_ratings, human_ratings },
            left_messages: LeftMessages {
                count: self.count(metric::LEFT_MESSAGES),
                answered: self.count(metric::LEFT_ANSWERED),
                answer_secs: self.percentiles(metric::LEFT_ANSWER),
            },
            offers: Offers { made: self.count(metric::OFFERS), taken: self.count(metric::OFFERS_TAKEN) },
            verdicts: self.verdicts(),
        }
    }

    /// `(rest of the name, count)` of the counts whose name starts with `prefix`.
    fn prefixed(&self, prefix: &str) -> Vec<(String, u64)> {
        let mut found: Vec<(String, u64)> = self
            .counts
            .iter()
            .filter_map(|(name, n)| name.strip_prefix(prefix).map(|rest| (rest.to_owned(), *n)))
            .filter(|(_, n)| *n > 0)
            .collect();
        found.sort();
        found
    }

    fn verdicts(&self) -> BTreeMap<String, VerdictFigures> {
        let mut by_reason: BTreeMap<String, VerdictFigures> = BTreeMap::new();
        for (name, n) in self.prefixed(metric::VERDICT) {
            let Some((reason, verdict)) = name.split_once(':') else { continue };
            let figures = by_reason.entry(reason.to_owned()).or_default();
            figures.verdicts += n;
            match Verdict::ALL.into_iter().find(|v| v.name() == verdict) {
                Some(Verdict::RightCall) => figures.right_call += n,
                Some(Verdict::BotCouldHaveAnswered) => figures.bot_could_have_answered += n,
                Some(Verdict::ShouldHaveComeSooner) => figures.should_have_come_sooner += n,
                None => {}
            }
        }
        for figures in by_reason.values_mut() {
            let share = |n: u64| Some(n as f64 / figures.verdicts as f64);
            figures.precision = share(figures.right_call + figures.should_have_come_sooner);
            figures.lateness = share(figures.should_have_come_sooner);
        }
        by_reason
    }
}

/// The smallest bucket with at least `ceil(q × count)` durations at or below it.
fn nearest_rank(buckets: &BTreeMap<i64, u64>, count: u64, q: f64) -> Option<f64> {
    if count == 0 {
        return None;
    }
    let rank = ((q * count as f64).ceil() as u64).max(1);
    let mut seen = 0;
    buckets
        .iter()
        .find(|(_, n)| {
            seen += **n;
            seen >= rank
        })
        .map(|(bucket, _)| *bucket as f64)
}

/// The first day of the week (Monday) holding `day` (days since 1970-01-01, a Thursday).
pub(crate) fn week_start(day: i64) -> i64 {
    day - (day + 3).rem_euclid(7)
}

pub(crate) fn date_of(day: i64) -> NaiveDate {
    DateTime::from_timestamp(day * 86_400, 0).map(|t| t.date_naive()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_over_the_buckets() {
        let mut tallies = Tallies::default();
        for secs in [10, 20, 30, 40, 50, 60, 70, 80, 90, 100] {
            tallies.add(metric::WAIT_FOR_AGENT, secs, 1);
        }
        let p = tallies.figures().wait_for_agent_secs;
        assert_eq!((p.p50, p.p90, p.count), (Some(50.0), Some(90.0), 10));
        assert_eq!(Tallies::default().figures().wait_for_agent_secs.p50, None);
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-12-02 is a Wednesday; its week starts on Monday 2026-11-30.
        let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap().signed_duration_since(NaiveDate::default()).num_days();
        assert_eq!(date_of(week_start(day)), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(week_start(week_start(day)), week_start(day));
    }
}
