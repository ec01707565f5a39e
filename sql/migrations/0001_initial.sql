-- optilog research log, schema version 1.
-- Times are Unix seconds (REAL). JSON columns hold Keras-style configurations.

CREATE TABLE studies (
    id            INTEGER PRIMARY KEY,
    uid           TEXT NOT NULL UNIQUE,          -- UUID-shaped, from SHA-256 of name and grid; survives merges
    name          TEXT NOT NULL,
    configuration TEXT NOT NULL DEFAULT '{}',    -- JSON: the grid
    created_at    REAL NOT NULL
);

CREATE TABLE runs (
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
                              CHECK (status IN ('running', 'completed', 'interrupted', 'diverged', 'failed')),
    status_detail             TEXT,              -- why it failed or diverged
    diverged_step             INTEGER,
    -- Best validation loss so far and its epoch, kept up to date in each epoch's transaction so
    -- that "best per optimizer per task" reads one row per run instead of every epoch.
    best_val_loss             REAL,
    best_epoch                INTEGER,
    heartbeat_at              REAL,
    host                      TEXT NOT NULL,
    pid                       INTEGER,
    threads                   INTEGER NOT NULL DEFAULT 1,
    code_version              TEXT NOT NULL,
    created_at                REAL NOT NULL,
    finished_at               REAL
);
CREATE INDEX runs_by_task_optimizer ON runs (task, optimizer, best_val_loss);
CREATE INDEX runs_by_status ON runs (status, heartbeat_at);
CREATE INDEX runs_by_study ON runs (study_id);
CREATE INDEX runs_by_created ON runs (created_at);

CREATE TABLE epochs (
    run_id             INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch              INTEGER NOT NULL CHECK (epoch >= 1),
    loss               REAL,
    metric             REAL,
    val_loss           REAL,
    val_metric         REAL,
    grad_norm_mean     REAL,
    grad_norm_min      REAL,
    grad_norm_max      REAL,
    grad_norm_last     REAL,
    learning_rate      REAL,
    optimizer_checksum TEXT NOT NULL,            -- SHA-256 of the optimizer state after the epoch
    seconds            REAL,
    samples_per_second REAL,
    committed_at       REAL NOT NULL,
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;

-- Every step of an epoch: losses and global gradient norms as zstd-compressed little-endian
-- Float32 arrays (see sql/README.md).
CREATE TABLE step_series (
    run_id     INTEGER NOT NULL,
    epoch      INTEGER NOT NULL,
    first_step INTEGER NOT NULL,
    steps      INTEGER NOT NULL,
    losses     BLOB NOT NULL,
    grad_norms BLOB NOT NULL,
    PRIMARY KEY (run_id, epoch),
    FOREIGN KEY (run_id, epoch) REFERENCES epochs (run_id, epoch) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE layer_norms (
    run_id INTEGER NOT NULL,
    epoch  INTEGER NOT NULL,
    layer  TEXT NOT NULL,
    norm   REAL NOT NULL,
    PRIMARY KEY (run_id, epoch, layer),
    FOREIGN KEY (run_id, epoch) REFERENCES epochs (run_id, epoch) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE checkpoints (
    run_id                    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch                     INTEGER NOT NULL,
    step                      INTEGER NOT NULL,  -- global step count at the checkpoint
    payload_sha256            TEXT NOT NULL,     -- of the uncompressed payload
    optimizer_checksum        TEXT NOT NULL,
    configuration_fingerprint TEXT NOT NULL,
    payload_bytes             INTEGER NOT NULL,
    blob                      BLOB NOT NULL,     -- see sql/README.md: byte-shuffled, zstd
    created_at                REAL NOT NULL,
    PRIMARY KEY (run_id, epoch)
);
