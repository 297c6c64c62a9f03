-- Call tracking: calls and the reservations of dynamic numbers.
-- Times are Unix milliseconds (UTC).
CREATE TABLE calls (
    id             INTEGER PRIMARY KEY,
    project_id     INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    provider       TEXT NOT NULL,
    source_id      TEXT NOT NULL,
    caller         TEXT,
    called         TEXT NOT NULL,
    number         TEXT,
    pool_id        TEXT,
    started_at     INTEGER NOT NULL,
    duration       INTEGER NOT NULL,
    answered       INTEGER NOT NULL,
    missed         INTEGER NOT NULL,
    is_target      INTEGER NOT NULL,
    is_unique      INTEGER NOT NULL,
    recording_url  TEXT,
    attribution    TEXT NOT NULL,
    shared         INTEGER NOT NULL DEFAULT 0,
    visit_id       INTEGER,
    contact_id     INTEGER,
    lead_id        INTEGER,
    received_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX calls_source ON calls(project_id, provider, source_id);
CREATE INDEX calls_started ON calls(project_id, started_at);
CREATE INDEX calls_caller ON calls(project_id, caller, started_at);

-- One row per visit and dynamic number it held (a visit whose hold ran
-- out while it went on may get a second number).
CREATE TABLE number_reservations (
    project_id     INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    visit_id       INTEGER NOT NULL,
    vid            TEXT NOT NULL,
    pool_id        TEXT NOT NULL,
    number         TEXT NOT NULL,
    reserved_from  INTEGER NOT NULL,
    held_until     INTEGER NOT NULL,
    shared         INTEGER NOT NULL,
    PRIMARY KEY (project_id, visit_id, number)
) WITHOUT ROWID;
CREATE INDEX number_reservations_number ON number_reservations(project_id, number, reserved_from);
CREATE INDEX number_reservations_until ON number_reservations(project_id, held_until);
CREATE INDEX number_reservations_from ON number_reservations(project_id, reserved_from);
