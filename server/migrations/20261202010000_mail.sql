-- The email outbox (see docs/email.md): every email Baton sends is written here first and
-- sent by whichever node's sender claims it, with retries; a mail server that is down loses
-- nothing. Times are Unix milliseconds.
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    -- confirmation | reply | transcript
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    -- When the next attempt is due; a sender's claim pushes it on by its lease.
    next_at BIGINT NOT NULL,
    -- pending | sent | failed
    status TEXT NOT NULL,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_at);
CREATE INDEX mail_outbox_by_conversation ON mail_outbox (conversation_id);
