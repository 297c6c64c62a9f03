-- Leads, contacts, deals. Times are Unix milliseconds (UTC); money in
-- minor units.
CREATE TABLE contacts (
    id           INTEGER PRIMARY KEY,
    project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name         TEXT,
    created_at   INTEGER NOT NULL,
    merged_into  INTEGER REFERENCES contacts(id)
);
CREATE INDEX contacts_project ON contacts(project_id, created_at);

CREATE TABLE contact_identities (
    project_id  INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    contact_id  INTEGER NOT NULL REFERENCES contacts(id),
    first_seen  INTEGER NOT NULL,
    PRIMARY KEY (project_id, kind, value)
) WITHOUT ROWID;
CREATE INDEX contact_identities_contact ON contact_identities(contact_id);

CREATE TABLE deals (
    id           INTEGER PRIMARY KEY,
    project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    external_id  TEXT,
    contact_id   INTEGER REFERENCES contacts(id),
    lead_id      INTEGER,
    visit_id     INTEGER,
    status       TEXT NOT NULL,
    stage        TEXT NOT NULL,
    revenue      INTEGER NOT NULL DEFAULT 0,
    profit       INTEGER,
    product      TEXT,
    is_repeat    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    closed_at    INTEGER,
    updated_at   INTEGER NOT NULL,
    source_updated_at INTEGER
);
CREATE UNIQUE INDEX deals_external ON deals(project_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX deals_contact ON deals(contact_id);
CREATE INDEX deals_created ON deals(project_id, created_at);
CREATE INDEX deals_closed ON deals(project_id, closed_at);

CREATE TABLE deal_stage_history (
    id       INTEGER PRIMARY KEY,
    deal_id  INTEGER NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    stage    TEXT NOT NULL,
    status   TEXT NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX deal_stage_history_deal ON deal_stage_history(deal_id, at);
CREATE INDEX deal_stage_history_stage ON deal_stage_history(stage, at);

CREATE TABLE leads (
    id            INTEGER PRIMARY KEY,
    project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    source_id     TEXT,
    contact_id    INTEGER REFERENCES contacts(id),
    visit_id      INTEGER,
    deal_id       INTEGER REFERENCES deals(id),
    is_duplicate  INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    payload       TEXT NOT NULL
);
CREATE UNIQUE INDEX leads_source ON leads(project_id, kind, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX leads_created ON leads(project_id, created_at);
CREATE INDEX leads_contact ON leads(contact_id);

-- Raw inbound payloads of connectors (webhooks, pulls), kept for audit and
-- replay.
CREATE TABLE inbound_payloads (
    id           INTEGER PRIMARY KEY,
    project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    body         TEXT NOT NULL,
    outcome      TEXT NOT NULL
);
CREATE INDEX inbound_payloads_time ON inbound_payloads(project_id, provider, received_at);

-- State of pull connectors (Alytics feeds): last attempt per source and day.
CREATE TABLE pull_runs (
    project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    source       TEXT NOT NULL,
    day          TEXT NOT NULL,
    attempted_at INTEGER NOT NULL,
    ok           INTEGER NOT NULL,
    transactions INTEGER NOT NULL,
    error        TEXT,
    PRIMARY KEY (project_id, source, day)
) WITHOUT ROWID;
