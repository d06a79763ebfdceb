-- The archive (see docs/data.md). One file for SQLite and PostgreSQL alike: BIGINT and TEXT
-- only; times are Unix milliseconds; JSON is TEXT.

-- One row per conversation, replaced whole on each copy from the live store.
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    visitor TEXT NOT NULL,
    records TEXT NOT NULL,
    counters TEXT NOT NULL,
    -- How privacy requests find a visitor: the address they left (lowercase), their site id.
    email TEXT,
    user_id TEXT,
    -- The live store's change number this row was copied at (older copies never replace it).
    rev BIGINT NOT NULL
);
CREATE INDEX conversations_by_site ON conversations (site, started_at);
CREATE INDEX conversations_by_start ON conversations (started_at, id);
CREATE INDEX conversations_by_email ON conversations (email);
CREATE INDEX conversations_by_user ON conversations (user_id);

-- Every event exactly once: the key is (conversation_id, seq), replays insert nothing.
CREATE TABLE events (
    conversation_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    -- The event's JSON exactly as it went on the wire.
    body TEXT NOT NULL,
    -- When the archive wrote it: archived_at - at is the archive's lag.
    archived_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
