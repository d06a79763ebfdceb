-- Reports (see docs/data.md, "Reports"). Both tables are written by the archive in the same
-- transaction as the events they are folded from, so the figures count every event once.

-- Per conversation, what the reports have folded from its events so far (JSON, see
-- server/src/archive/reports/facts.rs): firsts and lasts, never text. `folded_seq` is the
-- last event folded; a write whose fold raced another's is refused and retried.
CREATE TABLE report_facts (
    id TEXT PRIMARY KEY,
    folded_seq BIGINT NOT NULL,
    facts TEXT NOT NULL
);

-- The rollup the reports read: how many conversations fall in each metric's bucket, per
-- site, UTC day (of the conversation's start), team and agent. Each conversation counts at
-- three levels: 0 (team = agent = '*'), 1 (its team, agent '*') and 2 (its team and its
-- agent, once one took it; team '' for none), so a report reads one level by (site, level,
-- day) and its cost does not grow with the agents. Counts are kept by metric name with bucket 0; durations in
-- buckets named by their lower bound in seconds (reports/facts.rs); a rating as its score.
CREATE TABLE report_tally (
    site TEXT NOT NULL,
    -- 0: every team and agent; 1: one team (agent '*'); 2: one agent of one team.
    level BIGINT NOT NULL,
    day BIGINT NOT NULL,
    metric TEXT NOT NULL,
    team TEXT NOT NULL,
    agent TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (site, level, day, team, agent, metric, bucket)
);
