-- Surveys, tags and automation runs (issue 10). Times are Unix
-- milliseconds (UTC). An invitation's token is stored as its SHA-256 only;
-- an invitation has at most one answer; an automation runs at most once
-- per event.
CREATE TABLE survey_invitations (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL,
    survey_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    contact_id  INTEGER,
    ticket_id   INTEGER,
    deal_id     INTEGER,
    channel     TEXT,
    via         TEXT NOT NULL,
    run_id      INTEGER,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    answered_at INTEGER
);
CREATE UNIQUE INDEX survey_invitations_token ON survey_invitations(token_hash);
CREATE INDEX survey_invitations_contact ON survey_invitations(project_id, contact_id, created_at);

CREATE TABLE survey_answers (
    id            INTEGER PRIMARY KEY,
    project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    invitation_id INTEGER NOT NULL REFERENCES survey_invitations(id) ON DELETE CASCADE,
    survey_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    score         INTEGER NOT NULL,
    answers       TEXT NOT NULL,
    contact_id    INTEGER,
    ticket_id     INTEGER,
    deal_id       INTEGER,
    channel       TEXT,
    answered_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX survey_answers_invitation ON survey_answers(invitation_id);
CREATE INDEX survey_answers_time ON survey_answers(project_id, answered_at);
CREATE INDEX survey_answers_contact ON survey_answers(project_id, contact_id, answered_at);

CREATE TABLE contact_tags (
    project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    contact_id  INTEGER NOT NULL,
    tag         TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, contact_id, tag)
) WITHOUT ROWID;
CREATE INDEX contact_tags_tag ON contact_tags(project_id, tag);

CREATE TABLE automation_runs (
    id            INTEGER PRIMARY KEY,
    project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    automation_id TEXT NOT NULL,
    event_id      INTEGER NOT NULL,
    event_kind    TEXT NOT NULL,
    contact_id    INTEGER,
    event_data    TEXT NOT NULL,
    -- pending | done | skipped | cancelled | failed
    status        TEXT NOT NULL DEFAULT 'pending',
    step          INTEGER NOT NULL DEFAULT 0,
    due_at        INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    note          TEXT
);
CREATE UNIQUE INDEX automation_runs_once ON automation_runs(project_id, automation_id, event_id);
CREATE INDEX automation_runs_due ON automation_runs(status, due_at);
CREATE INDEX automation_runs_project ON automation_runs(project_id, id);
