-- Tracking: visits (sessions), hits, identity links, bot counters.
-- Times are Unix milliseconds (UTC).
CREATE TABLE visits (
    id             INTEGER PRIMARY KEY,
    project_id     INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    code           INTEGER NOT NULL,
    vid            TEXT NOT NULL,
    started_at     INTEGER NOT NULL,
    last_at        INTEGER NOT NULL,
    hits           INTEGER NOT NULL,
    source         TEXT NOT NULL,
    medium         TEXT NOT NULL,
    campaign       TEXT,
    content        TEXT,
    term           TEXT,
    gclid          TEXT,
    yclid          TEXT,
    referrer_host  TEXT,
    source_kind    TEXT NOT NULL,
    channel        TEXT NOT NULL,
    landing        TEXT NOT NULL,
    referrer       TEXT,
    os             TEXT NOT NULL,
    browser        TEXT NOT NULL,
    device_type    TEXT NOT NULL,
    screen         TEXT,
    lang           TEXT,
    tz             TEXT,
    country        TEXT,
    region         TEXT,
    city           TEXT,
    ga_cid         TEXT,
    ym_uid         TEXT
);
CREATE UNIQUE INDEX visits_code ON visits(project_id, code);
CREATE INDEX visits_vid ON visits(project_id, vid, started_at);
CREATE INDEX visits_started ON visits(project_id, started_at);

CREATE TABLE hits (
    id        INTEGER PRIMARY KEY,
    visit_id  INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    url       TEXT NOT NULL,
    title     TEXT,
    event     TEXT,
    props     TEXT
);
CREATE INDEX hits_visit ON hits(visit_id);

CREATE TABLE visitor_links (
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    vid         TEXT NOT NULL,
    first_seen  INTEGER NOT NULL,
    PRIMARY KEY (project_id, kind, value, vid)
) WITHOUT ROWID;
CREATE INDEX visitor_links_vid ON visitor_links(project_id, vid);

CREATE TABLE bot_hits (
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    day         TEXT NOT NULL,
    hits        INTEGER NOT NULL,
    PRIMARY KEY (project_id, day)
) WITHOUT ROWID;
