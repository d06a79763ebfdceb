-- Searching the archive (the console's archive page, GET /v1/agent/archive): the text of
-- each message and note and who said it, and the conversation's escalation reason, in
-- columns of their own. Rows archived before this migration leave them NULL; the search
-- then reads the event's JSON body and the records instead (see server/src/archive/search.rs).
ALTER TABLE events ADD COLUMN speaker TEXT;
ALTER TABLE events ADD COLUMN text TEXT;
ALTER TABLE conversations ADD COLUMN reason TEXT;
CREATE INDEX conversations_by_reason ON conversations (reason, started_at);
CREATE INDEX conversations_by_site_updated ON conversations (site, updated_at);
