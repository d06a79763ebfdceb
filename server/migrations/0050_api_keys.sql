-- The owner API's keys (docs/api.md): one site each, a scope, stored as the SHA-256 of the
-- key (the key itself is shown once, at creation); `prefix` is what lists show.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    scope TEXT NOT NULL,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    -- Set when revoked: the key then authenticates nothing.
    revoked_at BIGINT
);
CREATE INDEX api_keys_by_site ON api_keys (site, created_at);

-- Responses to POSTs sent with an Idempotency-Key, replayed for the same key and body until
-- they expire (`expires_at`, Unix milliseconds).
CREATE TABLE api_idempotency (
    key_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, idempotency_key)
);
CREATE INDEX api_idempotency_by_expiry ON api_idempotency (expires_at);
