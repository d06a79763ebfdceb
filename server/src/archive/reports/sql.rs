//! The reports' SQL: folding a write into `report_facts` and `report_tally` (inside the
//! archive's write transaction), and summing the tally for a report. The same statements run
//! on SQLite and PostgreSQL (`CAST(SUM(…) AS BIGINT)`: PostgreSQL's `SUM` of a `BIGINT` is a
//! `NUMERIC`).

use std::collections::BTreeMap;
use std::sync::Arc;

use sqlx::{AnyPool, Row};

use super::facts::{ANY, DAY_MS, Facts, Tally};
use super::{Breakdown, Period, PeriodFigures, Report, ReportQuery, Tallies, date_of, week_start};
use crate::archive::ArchiveError;
use crate::protocol::Event;
use crate::store::Conversation;

/// Rollup rows per `INSERT` (seven parameters each).
const TALLIES_PER_INSERT: usize = 100;

/// Folds what this write brings (the events after those already folded, the records as
/// they are now) into the conversation's facts, and moves its counts in the rollup.
pub(crate) async fn record(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    conversation: &Conversation,
    events: &[Arc<Event>],
    reopen_window_ms: i64,
) -> Result<(), ArchiveError> {
    let id = conversation.id.to_string();
    let row = sqlx::query("SELECT folded_seq, facts FROM report_facts WHERE id = $1")
        .bind(id.clone())
        .fetch_optional(&mut **tx)
        .await?;
    let (old_seq, old_text) = match &row {
        Some(row) => (row.try_get::<i64, _>("folded_seq")?, row.try_get::<String, _>("facts")?),
        None => (-1, String::new()),
    };
    let old: Option<Facts> = match row {
        Some(_) => Some(serde_json::from_str(&old_text).map_err(|e| ArchiveError::Corrupt(format!("facts: {e}")))?),
        None => None,
    };
    let mut facts = old.clone().unwrap_or_else(|| Facts::new(&conversation.site, conversation.created_at.timestamp_millis()));
    facts.read_records(&conversation.records);
    let folded = old_seq.max(0);
    let mut seq = folded;
    for event in events.iter().filter(|e| i64::try_from(e.seq).unwrap_or(i64::MAX) > folded) {
        facts.fold(event);
        seq = i64::try_from(event.seq).unwrap_or(i64::MAX);
    }
    facts.counted_resolved_by_bot = facts.resolved_by_bot(reopen_window_ms);
    if old.as_ref() == Some(&facts) && seq == old_seq {
        return Ok(());
    }
    save_facts(tx, &id, seq, &facts, old_seq, &old_text).await?;
    let mut moves: BTreeMap<Tally, i64> = BTreeMap::new();
    for tally in old.map(|f| f.tallies()).unwrap_or_default() {
        *moves.entry(tally).or_default() -= 1;
    }
    for tally in facts.tallies() {
        *moves.entry(tally).or_default() += 1;
    }
    let moves: Vec<(Tally, i64)> = moves.into_iter().filter(|(_, n)| *n != 0).collect();
    for chunk in moves.chunks(TALLIES_PER_INSERT) {
        add_tallies(tx, chunk).await?;
    }
    Ok(())
}

/// Replaces the facts only if they are still what this write read: two archivers folding
/// the same conversation at once would count it twice, so the second is refused (retried).
async fn save_facts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    seq: i64,
    facts: &Facts,
    old_seq: i64,
    old_text: &str,
) -> Result<(), ArchiveError> {
    // unwrap: facts are plain data.
    let text = serde_json::to_string(facts).expect("facts serialise");
    let saved = sqlx::query(
        "INSERT INTO report_facts (id, folded_seq, facts) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET folded_seq = excluded.folded_seq, facts = excluded.facts \
         WHERE report_facts.folded_seq = $4 AND report_facts.facts = $5",
    )
    .bind(id.to_owned())
    .bind(seq)
    .bind(text)
    .bind(old_seq)
    .bind(old_text.to_owned())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if saved == 0 {
        return Err(ArchiveError::Unavailable(format!("reports: {id} was folded by another write meanwhile")));
    }
    Ok(())
}

async fn add_tallies(tx: &mut sqlx::Transaction<'_, sqlx::Any>, moves: &[(Tally, i64)]) -> Result<(), ArchiveError> {
    let values: Vec<String> = (0..moves.len())
        .map(|i| {
            let p = i * 7;
            format!("(${}, ${}, ${}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4, p + 5, p + 6, p + 7)
        })
        .collect();
    let sql = format!(
        "INSERT INTO report_tally (site, day, metric, team, agent, bucket, n) VALUES {} \
         ON CONFLICT (site, day, metric, team, agent, bucket) DO UPDATE SET n = report_tally.n + excluded.n",
        values.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for (tally, n) in moves {
        query = query
            .bind(tally.site.clone())
            .bind(tally.day)
            .bind(tally.metric.clone())
            .bind(tally.team.clone())
            .bind(tally.agent.clone())
            .bind(tally.bucket)
            .bind(*n);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// What a slice is grouped by, and which level of the rollup it reads.
#[derive(Clone, Copy)]
enum Slice {
    Day,
    Team,
    Agent,
}

impl Slice {
    fn column(self) -> &'static str {
        match self {
            Slice::Day => "CAST(day AS TEXT)",
            Slice::Team => "team",
            Slice::Agent => "agent",
        }
    }

    /// The rows this slice sums: `(condition, values bound in order)`.
    fn level(self, query: &ReportQuery) -> (String, Vec<String>) {
        let any = ANY.to_owned();
        let (team, agent) = (query.team.clone(), query.agent.clone());
        let (team_is, agent_is) = match (self, &team, &agent) {
            (Slice::Day, None, None) | (Slice::Team, None, None) => (Some(any.clone()), Some(any.clone())),
            (Slice::Day | Slice::Team, Some(t), None) => (Some(t.clone()), Some(any.clone())),
            (_, t, Some(a)) => (t.clone(), Some(a.clone())),
            (Slice::Agent, t, None) => (t.clone(), None),
        };
        let mut condition = String::new();
        let mut values = Vec::new();
        for (column, value) in [("team", team_is), ("agent", agent_is)] {
            match value {
                Some(value) => {
                    condition.push_str(&format!(" AND {column} = ${{}}"));
                    values.push(value);
                }
                None => condition.push_str(&format!(" AND {column} <> '{ANY}'")),
            }
        }
        if matches!(self, Slice::Team) && team.is_none() {
            // Every team's own row, not the all-teams one.
            condition = format!(" AND team <> '{ANY}' AND agent = ${{}}");
            values = vec![any];
        }
        (condition, values)
    }
}

/// The report for `query`: three sums over the rollup (by day, by team, by agent); the
/// whole range is the sum of its days.
pub async fn report(pool: &AnyPool, query: &ReportQuery) -> Result<Report, ArchiveError> {
    let days = slices(pool, query, Slice::Day).await?;
    let mut all = Tallies::default();
    let mut periods: BTreeMap<i64, Tallies> = BTreeMap::new();
    for (day, tallies) in days {
        all.merge_ref(&tallies);
        let day: i64 = day.parse().map_err(|_| ArchiveError::Corrupt(format!("report day {day}")))?;
        let start = match query.period {
            Period::Day => day,
            Period::Week => week_start(day),
        };
        periods.entry(start).or_default().merge(tallies);
    }
    let breakdown = |slices: BTreeMap<String, Tallies>, skip_blank: bool| -> Vec<Breakdown> {
        slices
            .into_iter()
            .filter(|(key, _)| !(skip_blank && key.is_empty()))
            .map(|(key, tallies)| Breakdown { key, figures: tallies.figures() })
            .collect()
    };
    Ok(Report {
        sites: query.sites.clone(),
        from: query.from,
        to: query.to,
        period: query.period,
        figures: all.figures(),
        series: periods
            .into_iter()
            .map(|(start, tallies)| PeriodFigures { start: date_of(start), figures: tallies.figures() })
            .collect(),
        by_agent: breakdown(slices(pool, query, Slice::Agent).await?, true),
        by_team: breakdown(slices(pool, query, Slice::Team).await?, false),
    })
}

/// The rollup summed by `slice` (and metric, bucket) over the query's range.
async fn slices(pool: &AnyPool, query: &ReportQuery, slice: Slice) -> Result<BTreeMap<String, Tallies>, ArchiveError> {
    let mut out: BTreeMap<String, Tallies> = BTreeMap::new();
    if query.sites.is_empty() {
        return Ok(out);
    }
    let sites: Vec<String> = (0..query.sites.len()).map(|i| format!("${}", i + 3)).collect();
    let (condition, values) = slice.level(query);
    let mut next = query.sites.len() + 3;
    let mut numbered = String::new();
    for (i, part) in condition.split("${}").enumerate() {
        if i > 0 {
            numbered.push_str(&format!("${next}"));
            next += 1;
        }
        numbered.push_str(part);
    }
    let key = slice.column();
    let sql = format!(
        "SELECT {key} AS slice, metric, bucket, CAST(SUM(n) AS BIGINT) AS n FROM report_tally \
         WHERE day >= $1 AND day <= $2 AND site IN ({}){numbered} GROUP BY {key}, metric, bucket",
        sites.join(", ")
    );
    let first_day = query.from.timestamp_millis().div_euclid(DAY_MS);
    let last_day = (query.to.timestamp_millis() - 1).div_euclid(DAY_MS);
    let mut statement = sqlx::query(&sql).bind(first_day).bind(last_day);
    for site in &query.sites {
        statement = statement.bind(site.clone());
    }
    for value in values {
        statement = statement.bind(value);
    }
    for row in statement.fetch_all(pool).await? {
        let n: i64 = row.try_get("n")?;
        let metric: String = row.try_get("metric")?;
        out.entry(row.try_get("slice")?).or_default().add(&metric, row.try_get("bucket")?, u64::try_from(n).unwrap_or(0));
    }
    Ok(out)
}
