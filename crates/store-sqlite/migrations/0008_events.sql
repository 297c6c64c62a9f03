-- The event log, consumers' cursors and the outbox (issue 10). Times are
-- Unix milliseconds (UTC). Events are appended in the transaction of the
-- change they describe; consumers advance their cursor in the transaction of
-- what they derive; an outbox message is unique per project and idempotency
-- key.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    contact_id  INTEGER,
    subject_id  INTEGER,
    at          INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX events_project ON events(project_id, id);

CREATE TABLE event_cursors (
    consumer TEXT PRIMARY KEY,
    last_id  INTEGER NOT NULL
);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    project_id       INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    destination_kind TEXT NOT NULL,
    destination      TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    payload          TEXT NOT NULL,
    event_id         INTEGER,
    -- pending | delivered | dead | skipped
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER
);
CREATE UNIQUE INDEX outbox_key ON outbox(project_id, idempotency_key);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_project ON outbox(project_id, status, id);
