-- The mutable core: projects, settings, dashboard users and sessions.
-- Times are Unix milliseconds (UTC).
CREATE TABLE projects (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    public_key    TEXT NOT NULL UNIQUE,
    api_key_hash  TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL
);

CREATE TABLE project_settings (
    project_id  INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    doc         TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    login          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash  TEXT NOT NULL,
    is_admin       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);

CREATE TABLE user_sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX user_sessions_expiry ON user_sessions(expires_at);
