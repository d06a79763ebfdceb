-- The owner's changes through the API (docs/api.md, "Agents", "Sites", "Knowledge base"):
-- the configuration files stay the base, these rows layer on top of them and survive
-- restarts. Every node of a cluster reads them from this shared database; `owner_revisions`
-- says what changed, so a node that missed the pub/sub notice catches up by polling it.
-- Times are Unix milliseconds.

-- Knowledge-base pages by path (the same namespace as the files under `sites/SITE/kb/`): a
-- row replaces the file of that path, a `deleted` row (1) hides it.
CREATE TABLE kb_pages (
    site TEXT NOT NULL,
    path TEXT NOT NULL,
    -- `md` or `html`, as uploaded; `body` is what was uploaded, `markdown` what is indexed.
    format TEXT NOT NULL,
    body TEXT NOT NULL,
    markdown TEXT NOT NULL,
    deleted BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (site, path)
);

-- Agents made or changed through the API, by id: the whole record as JSON (the agent's
-- configuration fields, the token only as its SHA-256, and whether it is disabled). A row
-- replaces the `[[agents]]` entry of that id.
CREATE TABLE agent_overrides (
    id TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A site's settings changed through the API: a JSON object merged over the site's file
-- (same keys as the TOML), validated by the same loader.
CREATE TABLE site_overrides (
    site TEXT PRIMARY KEY,
    patch TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One counter per thing that changes: `agents`, or `site:ID` (its settings and pages). Each
-- change adds one in the same transaction.
CREATE TABLE owner_revisions (
    scope TEXT PRIMARY KEY,
    revision BIGINT NOT NULL
);
