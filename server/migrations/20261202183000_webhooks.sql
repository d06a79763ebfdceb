-- Webhooks (docs/api.md, "Webhooks"): a site's subscriptions, and the outbox of deliveries
-- that every archive write fills in its own transaction (so the outbox is exactly as
-- durable and as ordered as the archive). Times are Unix milliseconds.
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    url TEXT NOT NULL,
    -- A JSON array of event types.
    events TEXT NOT NULL,
    -- Signs each delivery (HMAC-SHA256); needed in clear to sign, shown once at creation.
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_subscriptions_by_site ON webhook_subscriptions (site, created_at);

-- How far each conversation's events have been turned into webhook events.
CREATE TABLE webhook_marks (
    conversation_id TEXT PRIMARY KEY,
    folded_seq BIGINT NOT NULL,
    -- The next delivery's place in the conversation's order.
    next_ord BIGINT NOT NULL,
    -- The `at` of the newest rating and left message already turned into events (0: none).
    rating_at BIGINT NOT NULL,
    contact_at BIGINT NOT NULL
);

-- One delivery of one event to one subscription.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    -- The order within the conversation: a delivery waits for every earlier pending one.
    ord BIGINT NOT NULL,
    -- The body exactly as it is signed and sent.
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- pending | delivered | failed
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    -- When the next attempt is due; a dispatcher's claim pushes it on by its lease.
    next_at BIGINT NOT NULL,
    -- Retries run for `webhooks.retry_hours` from this (its creation, or a manual redelivery).
    retry_from BIGINT NOT NULL,
    last_status BIGINT,
    last_error TEXT,
    delivered_at BIGINT,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_at);
CREATE INDEX webhook_deliveries_in_order ON webhook_deliveries (subscription_id, conversation_id, ord);
CREATE INDEX webhook_deliveries_by_subscription ON webhook_deliveries (subscription_id, created_at);

-- Every attempt of a delivery: the delivery log.
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    -- The receiver's HTTP status (NULL: no answer).
    status BIGINT,
    error TEXT,
    took_ms BIGINT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
