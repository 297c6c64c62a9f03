-- Messenger chats: dialogs and their messages. Times are Unix milliseconds
-- (UTC).
CREATE TABLE chat_dialogs (
    id                INTEGER PRIMARY KEY,
    project_id        INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    messenger         TEXT NOT NULL,          -- whatsapp | telegram | other name
    external_chat     TEXT NOT NULL,          -- WhatsApp wa_id / Telegram user id
    first_message_id  TEXT NOT NULL,
    started_at        INTEGER NOT NULL,
    last_message_at   INTEGER NOT NULL,
    messages          INTEGER NOT NULL DEFAULT 1,
    visit_id          INTEGER,                -- NULL: unattributed
    visit_code        INTEGER,                -- the code the first message carried
    contact_id        INTEGER REFERENCES contacts(id),
    lead_id           INTEGER REFERENCES leads(id),
    is_new            INTEGER NOT NULL,       -- 0: repeat (wrote within the window)
    code_edited_away  INTEGER NOT NULL DEFAULT 0,
    page              TEXT,                   -- page of first contact
    tags              TEXT NOT NULL DEFAULT '[]',
    name              TEXT,
    phone             TEXT,
    username          TEXT
);
CREATE INDEX chat_dialogs_started ON chat_dialogs(project_id, started_at);
CREATE INDEX chat_dialogs_chat ON chat_dialogs(project_id, messenger, external_chat, last_message_at);
CREATE INDEX chat_dialogs_contact ON chat_dialogs(contact_id);

CREATE TABLE chat_messages (
    id             INTEGER PRIMARY KEY,
    project_id     INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    messenger      TEXT NOT NULL,
    message_id     TEXT NOT NULL,            -- the sender's id (wamid…, chat:message)
    dialog_id      INTEGER NOT NULL REFERENCES chat_dialogs(id) ON DELETE CASCADE,
    external_chat  TEXT NOT NULL,
    sent_at        INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    text           TEXT
);
CREATE UNIQUE INDEX chat_messages_sender_id ON chat_messages(project_id, messenger, message_id);
CREATE INDEX chat_messages_dialog ON chat_messages(dialog_id, sent_at);
