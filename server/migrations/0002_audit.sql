-- Who did what, when: agents' actions and privacy requests. Never personal data: an erase
-- is recorded with its counts, not with the address or id it was asked for.
CREATE TABLE audit (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    site TEXT,
    conversation_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX audit_by_time ON audit (at);
