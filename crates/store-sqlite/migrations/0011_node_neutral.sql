-- State every node of one database must agree on (issue 17): the report
-- revision of each project, bumped in the transaction that changes report
-- facts, and the counters visit ids and visit codes are handed out from
-- in blocks.
CREATE TABLE report_revisions (
    project_id  INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    revision    INTEGER NOT NULL
);

-- The next visit id not yet handed out (one row, `name` = 'visit_id').
CREATE TABLE id_counters (
    name  TEXT PRIMARY KEY,
    next  INTEGER NOT NULL
) WITHOUT ROWID;

-- The next visit code of each project not yet handed out.
CREATE TABLE visit_code_counters (
    project_id  INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    next        INTEGER NOT NULL
);
