-- Ad spend, one row per project day and dimensions. Money in minor units;
-- `day` is the project's local date (YYYY-MM-DD). Empty strings stand for
-- a dimension the import did not give.
CREATE TABLE costs (
    project_id   INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    source       TEXT NOT NULL,
    medium       TEXT NOT NULL,
    campaign     TEXT NOT NULL,
    ad           TEXT NOT NULL,
    keyword      TEXT NOT NULL,
    cost         INTEGER NOT NULL,
    clicks       INTEGER NOT NULL,
    impressions  INTEGER NOT NULL,
    PRIMARY KEY (project_id, day, source, medium, campaign, ad, keyword)
) WITHOUT ROWID;

-- Reports read a project's leads and deals whole; these keep that a range
-- scan instead of a table scan.
CREATE INDEX leads_project ON leads(project_id, id);
CREATE INDEX deals_project ON deals(project_id, id);
