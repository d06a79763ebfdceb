//! A report as CSV (the Reports page's download): one row for the whole range, one per day
//! or week, one per agent and one per team, the same columns in each.

use super::{Figures, Percentiles, Report};

const HEADER: [&str; 24] = [
    "slice",
    "key",
    "conversations",
    "resolved_by_bot",
    "bot_resolution_rate",
    "escalated",
    "handoff_rate",
    "first_bot_answer_p50",
    "first_bot_answer_p90",
    "wait_for_agent_p50",
    "wait_for_agent_p90",
    "first_response_p50",
    "first_response_p90",
    "handle_p50",
    "handle_p90",
    "csat_bot",
    "csat_human",
    "left_messages",
    "left_answered",
    "left_answer_p50",
    "left_answer_p90",
    "offers_made",
    "offers_taken",
    "handoffs_by_reason",
];

fn number(value: Option<f64>) -> String {
    value.map(|v| format!("{v}")).unwrap_or_default()
}

fn row(slice: &str, key: &str, f: &Figures) -> Vec<String> {
    let p = |p: &Percentiles| [number(p.p50), number(p.p90)];
    let reasons: Vec<String> = f.handoffs_by_reason.iter().map(|(reason, n)| format!("{reason}={n}")).collect();
    let mut cells = vec![
        slice.to_owned(),
        key.to_owned(),
        f.conversations.to_string(),
        f.resolved_by_bot.to_string(),
        format!("{:.4}", f.bot_resolution_rate),
        f.escalated.to_string(),
        format!("{:.4}", f.handoff_rate),
    ];
    for percentiles in [&f.first_bot_answer_secs, &f.wait_for_agent_secs, &f.first_response_secs, &f.handle_secs] {
        cells.extend(p(percentiles));
    }
    cells.extend([number(f.csat.bot), number(f.csat.human)]);
    cells.extend([f.left_messages.count.to_string(), f.left_messages.answered.to_string()]);
    cells.extend(p(&f.left_messages.answer_secs));
    cells.extend([f.offers.made.to_string(), f.offers.taken.to_string(), reasons.join(" ")]);
    cells
}

/// The report's rows as CSV text.
pub fn to_csv(report: &Report) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADER)?;
    writer.write_record(row("total", "", &report.figures))?;
    let period = match report.period {
        super::Period::Day => "day",
        super::Period::Week => "week",
    };
    for p in &report.series {
        writer.write_record(row(period, &p.start.to_string(), &p.figures))?;
    }
    for agent in &report.by_agent {
        writer.write_record(row("agent", &agent.key, &agent.figures))?;
    }
    for team in &report.by_team {
        writer.write_record(row("team", &team.key, &team.figures))?;
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    // unwrap: every cell written is a Rust string, so the output is UTF-8.
    Ok(String::from_utf8(bytes).expect("CSV of strings is UTF-8"))
}
