-- Support tickets and their events (issue 9). Times are Unix milliseconds
-- (UTC). A ticket is unique per project, provider and the help desk's id;
-- an event is applied once per ticket and sender's event id.
CREATE TABLE tickets (
    id                 INTEGER PRIMARY KEY,
    project_id         INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    provider           TEXT NOT NULL,
    external_id        TEXT NOT NULL,
    contact_id         INTEGER REFERENCES contacts(id),
    lead_id            INTEGER REFERENCES leads(id),
    subject            TEXT,
    status             TEXT,
    status_at          INTEGER,
    priority           TEXT,
    product            TEXT,
    created_at         INTEGER NOT NULL,
    first_response_at  INTEGER,
    resolved_at        INTEGER,
    closed_at          INTEGER,
    rating             INTEGER,
    handling_minutes   INTEGER,
    updated_at         INTEGER NOT NULL
);
CREATE UNIQUE INDEX tickets_external ON tickets(project_id, provider, external_id);
CREATE INDEX tickets_created ON tickets(project_id, created_at);
CREATE INDEX tickets_contact ON tickets(contact_id);
CREATE INDEX tickets_lead ON tickets(lead_id);

CREATE TABLE ticket_events (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    event_id   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    status     TEXT,
    rating     INTEGER,
    at         INTEGER NOT NULL,
    raw        TEXT NOT NULL
);
CREATE UNIQUE INDEX ticket_events_once ON ticket_events(ticket_id, event_id);
CREATE INDEX ticket_events_time ON ticket_events(ticket_id, at);

-- The REST polling cursor per help desk.
CREATE TABLE ticket_poll_state (
    project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    provider      TEXT NOT NULL,
    cursor        INTEGER,
    attempted_at  INTEGER NOT NULL,
    error         TEXT,
    PRIMARY KEY (project_id, provider)
) WITHOUT ROWID;

-- The operator card and the timeline read a contact's visits by its
-- leads' visits.
CREATE INDEX leads_contact_visit ON leads(contact_id, visit_id);
