-- optilog research log, schema version 2: the store marks itself (application_id), a run has
-- one owning process at a time, keeps its checkpoint policy and data folder, and a resume that
-- replays epochs differently from the log marks the run `nondeterministic`.
-- (SQLite cannot change a CHECK constraint in place: runs is rebuilt; foreign keys are off
-- while a migration runs and checked before it commits.)

PRAGMA application_id = 1869640812;  -- 0x6F70746C, "optl"

CREATE TABLE runs_v2 (
    id                        INTEGER PRIMARY KEY,
    uid                       TEXT NOT NULL UNIQUE,
    study_id                  INTEGER REFERENCES studies(id) ON DELETE SET NULL,
    task                      TEXT NOT NULL,     -- boston | fashion_mnist | imdb | jena
    dataset                   TEXT NOT NULL,     -- which data set (file, fixture, synthetic)
    dataset_fingerprint       TEXT NOT NULL,     -- SHA-256 of the prepared arrays
    model_configuration       TEXT NOT NULL,     -- JSON
    optimizer                 TEXT NOT NULL,     -- adadelta … sgd
    optimizer_configuration   TEXT NOT NULL,     -- JSON, Keras's get_config()
    configuration_fingerprint TEXT NOT NULL,     -- SHA-256 of everything that defines the run
    seed                      INTEGER NOT NULL,
    batch_size                INTEGER NOT NULL CHECK (batch_size > 0),
    epochs_planned            INTEGER NOT NULL CHECK (epochs_planned >= 0),
    epochs_done               INTEGER NOT NULL DEFAULT 0,
    status                    TEXT NOT NULL DEFAULT 'running'
                              CHECK (status IN ('running', 'completed', 'interrupted', 'diverged', 'failed', 'nondeterministic')),
    status_detail             TEXT,              -- why it failed, diverged or replayed differently
    diverged_step             INTEGER,
    best_val_loss             REAL,
    best_epoch                INTEGER,
    heartbeat_at              REAL,
    host                      TEXT NOT NULL,
    pid                       INTEGER,
    threads                   INTEGER NOT NULL DEFAULT 1,
    code_version              TEXT NOT NULL,
    created_at                REAL NOT NULL,
    finished_at               REAL,
    -- The process that owns the run while it is `running` (a random token; every write of the
    -- training checks it, so a process that lost the run can no longer write into it).
    owner                     TEXT,
    -- Checkpoint policy: with an epoch when this many seconds have passed since the last
    -- checkpoint (0: every epoch), or this many epochs (0: no epoch bound); always with the last.
    checkpoint_every          REAL NOT NULL DEFAULT 10,
    checkpoint_epochs         INTEGER NOT NULL DEFAULT 100,
    -- The --data-dir the run was started with (NULL: none given); resume looks there again.
    data_dir                  TEXT,
    -- Epochs recomputed by resumes and found bit-identical to the logged ones.
    epochs_replayed           INTEGER NOT NULL DEFAULT 0
);

INSERT INTO runs_v2 (id, uid, study_id, task, dataset, dataset_fingerprint, model_configuration, optimizer,
                     optimizer_configuration, configuration_fingerprint, seed, batch_size, epochs_planned, epochs_done,
                     status, status_detail, diverged_step, best_val_loss, best_epoch, heartbeat_at, host, pid, threads,
                     code_version, created_at, finished_at)
SELECT id, uid, study_id, task, dataset, dataset_fingerprint, model_configuration, optimizer,
       optimizer_configuration, configuration_fingerprint, seed, batch_size, epochs_planned, epochs_done,
       status, status_detail, diverged_step, best_val_loss, best_epoch, heartbeat_at, host, pid, threads,
       code_version, created_at, finished_at
FROM runs;

DROP TABLE runs;
ALTER TABLE runs_v2 RENAME TO runs;

CREATE INDEX runs_by_task_optimizer ON runs (task, optimizer, best_val_loss);
CREATE INDEX runs_by_status ON runs (status, heartbeat_at);
CREATE INDEX runs_by_study ON runs (study_id);
CREATE INDEX runs_by_created ON runs (created_at);
CREATE INDEX runs_by_study_cell ON runs (study_id, task, optimizer, seed);
