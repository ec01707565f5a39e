-- optilog research log, schema version 4: what users add to runs after the fact, beside what
-- training logged (which none of it touches). Tags (key=value, one value per key; set again to
-- change it) and notes (appended, never edited) describe a run; a row in run_archive hides the
-- run from every table and listing until `optilog unarchive` removes the row. `optilog delete
-- --yes` removes a run with everything it owns (the ON DELETE CASCADEs here and in schema 1).

CREATE TABLE run_tags (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    set_at REAL NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX run_tags_by_key ON run_tags (key, value);

CREATE TABLE run_notes (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    text       TEXT NOT NULL,
    PRIMARY KEY (run_id, created_at, text)
) WITHOUT ROWID;

CREATE TABLE run_archive (
    run_id      INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    archived_at REAL NOT NULL,
    reason      TEXT
);
