-- An Idempotency-Key is kept per route as well (method and path, e.g.
-- `POST /v1/api/keys`): the same key sent to two routes runs each once, never replaying
-- one route's answer on the other. The old rows cannot be given a route; they are replay
-- copies that expire within `api.idempotency_hours` anyway, so the table starts again empty.
DROP TABLE api_idempotency;
CREATE TABLE api_idempotency (
    key_id TEXT NOT NULL,
    route TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, route, idempotency_key)
);
CREATE INDEX api_idempotency_by_expiry ON api_idempotency (expires_at);
