-- A subscription's secret rotated (POST /v1/api/webhooks/{id}/rotate): the secret it
-- replaced keeps signing deliveries beside the new one (a second `v1=`) until
-- `previous_until` (Unix milliseconds), so receivers can switch without losing any.
ALTER TABLE webhook_subscriptions ADD COLUMN previous_secret TEXT;
ALTER TABLE webhook_subscriptions ADD COLUMN previous_until BIGINT;
