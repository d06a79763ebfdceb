//! The reports' SQL: folding a write into `report_facts` and `report_tally` (inside the
//! archive's write transaction), and summing the tally for a report. The same statements run
//! on SQLite and PostgreSQL (`CAST(SUM(…) AS BIGINT)`: PostgreSQL's `SUM` of a `BIGINT` is a
//! `NUMERIC`).

use std::collections::BTreeMap;
use std::sync::Arc;

use sqlx::{AnyPool, Row};

use super::facts::{DAY_MS, Facts, MONTHLY, Tally, month_start, next_month};
use super::{Breakdown, Period, PeriodFigures, Report, ReportQuery, Tallies, date_of, week_start};
use crate::archive::ArchiveError;
use crate::protocol::Event;
use crate::store::Conversation;

/// Rollup rows per `INSERT` (eight parameters each).
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
    let mut facts =
        old.clone().unwrap_or_else(|| Facts::new(&conversation.site, conversation.created_at.timestamp_millis()));
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
            let p = i * 8;
            let numbers: Vec<String> = (1..=8).map(|k| format!("${}", p + k)).collect();
            format!("({})", numbers.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO report_tally (site, level, day, metric, team, agent, bucket, n) VALUES {} \
         ON CONFLICT (site, level, day, team, agent, metric, bucket) DO UPDATE SET n = report_tally.n + excluded.n",
        values.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for (tally, n) in moves {
        query = query
            .bind(tally.site.clone())
            .bind(tally.level)
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

    /// The rows this slice sums: the rollup level, and `(column, value)` filters.
    fn level(self, query: &ReportQuery) -> (i64, Vec<(&'static str, String)>) {
        let level = match (self, &query.team, &query.agent) {
            (_, _, Some(_)) | (Slice::Agent, _, _) => 2,
            (Slice::Day, None, None) => 0,
            _ => 1,
        };
        let mut filters = Vec::new();
        if let Some(team) = &query.team {
            filters.push(("team", team.clone()));
        }
        if let Some(agent) = &query.agent {
            filters.push(("agent", agent.clone()));
        }
        (level, filters)
    }
}

/// The report for `query`: three sums over the rollup (by day, by team, by agent); the
/// whole range is the sum of its days.
pub async fn report(pool: &AnyPool, query: &ReportQuery) -> Result<Report, ArchiveError> {
    // Three reads on three of the pool's connections at once (SQLite's WAL lets readers run
    // side by side).
    let (days, agents, teams) = tokio::try_join!(
        slices(pool, query, Slice::Day),
        slices(pool, query, Slice::Agent),
        slices(pool, query, Slice::Team)
    )?;
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
        by_agent: breakdown(agents, true),
        by_team: breakdown(teams, false),
    })
}

/// The rollup summed by `slice` (and metric, bucket) over the query's range.
async fn slices(pool: &AnyPool, query: &ReportQuery, slice: Slice) -> Result<BTreeMap<String, Tallies>, ArchiveError> {
    let mut out: BTreeMap<String, Tallies> = BTreeMap::new();
    if query.sites.is_empty() {
        return Ok(out);
    }
    let sites: Vec<String> = (0..query.sites.len()).map(|i| format!("${}", i + 7)).collect();
    let (level, filters) = slice.level(query);
    let filter: String = filters
        .iter()
        .enumerate()
        .map(|(i, (column, _))| format!(" AND {column} = ${}", query.sites.len() + 7 + i))
        .collect();
    let key = slice.column();
    let first_day = query.from.timestamp_millis().div_euclid(DAY_MS);
    let last_day = (query.to.timestamp_millis() - 1).div_euclid(DAY_MS);
    // Whole months inside the range are read from the monthly rows (not for the series,
    // which is by day), the days around them from the daily ones.
    let (months_from, months_to) = match slice {
        Slice::Day => (0, -1),
        _ => (next_month(first_day - 1).max(first_day), month_start(last_day + 1) - 1),
    };
    let (months_from, months_to) = match months_from <= months_to {
        true => (months_from, months_to),
        false => (last_day + 1, last_day),
    };
    // Three plain ranges of the primary key `(site, level, day, …)`, one per part of the
    // range, so each is an index range scan: one `WHERE` with the parts joined by `OR` made
    // SQLite scan the whole rollup (about a second over a million conversations).
    let sites = sites.join(", ");
    let part = |level: &str, days: &str| {
        format!(
            "SELECT {key} AS slice, metric, bucket, n FROM report_tally WHERE site IN ({sites}) AND level = {level} AND {days}{filter}"
        )
    };
    let sql = format!(
        "SELECT slice, metric, bucket, CAST(SUM(n) AS BIGINT) AS n FROM ({} UNION ALL {} UNION ALL {}) AS parts \
         GROUP BY slice, metric, bucket",
        part("$1", "day >= $2 AND day < $4"),
        part("$1", "day > $5 AND day <= $3"),
        part("$6", "day >= $4 AND day <= $5"),
    );
    let mut statement = sqlx::query(&sql)
        .bind(level)
        .bind(first_day)
        .bind(last_day)
        .bind(months_from)
        .bind(months_to)
        .bind(level + MONTHLY);
    for site in &query.sites {
        statement = statement.bind(site.clone());
    }
    for (_, value) in filters {
        statement = statement.bind(value);
    }
    for row in statement.fetch_all(pool).await? {
        let n: i64 = row.try_get("n")?;
        let metric: String = row.try_get("metric")?;
        out.entry(row.try_get("slice")?).or_default().add(
            &metric,
            row.try_get("bucket")?,
            u64::try_from(n).unwrap_or(0),
        );
    }
    Ok(out)
}
