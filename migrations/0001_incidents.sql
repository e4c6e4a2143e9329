-- 0001_incidents.sql — the incident table and the indexes its filters use.
-- Applied once, in a transaction, when PRAGMA user_version < 1.
CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY,   -- rowid; also the paging cursor
    ts_ms           INTEGER NOT NULL,      -- when warden decided, unix milliseconds
    request_id      TEXT    NOT NULL,
    route           TEXT    NOT NULL,      -- chat, completions, responses, ...
    model           TEXT,
    phase           TEXT    NOT NULL,      -- request, response, stream, upload, probe
    checker         TEXT    NOT NULL,      -- entry id from the config
    checker_type    TEXT    NOT NULL,      -- pattern, harm, ...
    category        TEXT    NOT NULL,      -- taxonomy id: S9, jailbreak.dan, drift.refusal_rate
    action          TEXT    NOT NULL,      -- flag, redact, block, would_*, error, timeout
    score           REAL    NOT NULL,
    evidence        TEXT    NOT NULL DEFAULT '{}',  -- JSON: rule, span, excerpt (per capture)
    excerpt         TEXT,                  -- text kept per store.capture; searched by q
    key_hash        TEXT,                  -- hash of the client's API key, never the key
    client_addr     TEXT,
    upstream_status INTEGER,               -- 0 when the request never went upstream
    status          INTEGER,               -- HTTP status the client got
    latency_ms      REAL,
    review_status   TEXT    NOT NULL DEFAULT 'open',  -- open, confirmed, false_positive
    review_note     TEXT,
    reviewed_ms     INTEGER
);
CREATE INDEX incidents_ts ON incidents (ts_ms);
CREATE INDEX incidents_checker ON incidents (checker, id);
CREATE INDEX incidents_category ON incidents (category, id);
CREATE INDEX incidents_action ON incidents (action, id);
CREATE INDEX incidents_model ON incidents (model, id);
CREATE INDEX incidents_key ON incidents (key_hash, id);
CREATE INDEX incidents_request ON incidents (request_id);
