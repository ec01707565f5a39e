"""Read an optilog store (the SQLite research log) into pandas DataFrames.

    from optilog_store import Store

    with Store("optilog.sqlite") as store:
        runs = store.runs()          # one row per run
        epochs = store.epochs()      # one row per (run, epoch)
        steps = store.steps(runs=3)  # one row per training step of run 3

The store is opened read-only (SQLite's `mode=ro`): nothing is ever written to it. A store in
WAL mode may get its `-wal` and `-shm` files beside it, which SQLite needs to read it while a
training may be writing; each call reads the store as it is then (a training may log more
epochs between two calls). Archived runs are left out unless `include_archived=True`; tags, notes
and the archive mark are read when the store has them (schema 4) and absent otherwise.
Schema: sql/README.md.

Needs numpy, pandas and zstandard (>= 0.22): python3 -m pip install pandas zstandard
"""

import errno
import json
import operator
import os
import sqlite3
import urllib.parse

import numpy as np
import pandas as pd
import zstandard

__all__ = ["Store"]

# The run's identity, first in every frame but runs().
_RUN_KEYS = "r.id AS run, r.uid, r.task, r.optimizer, r.seed"
_EPOCH_REALS = ("loss", "metric", "val_loss", "val_metric", "grad_norm_mean", "grad_norm_min",
                "grad_norm_max", "grad_norm_last", "learning_rate", "seconds",
                "samples_per_second", "committed_at")
_REQUIRED_TABLES = ("studies", "runs", "epochs", "step_series", "layer_norms")


class Store:
    """A read-only view of an optilog store. Use it as a context manager, or call close()."""

    def __init__(self, path):
        """Opens the store at `path` read-only.

        Raises FileNotFoundError if there is no such file, and sqlite3.DatabaseError if the file
        is not SQLite or not an optilog store. Neither case changes the file.
        """
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileNotFoundError(errno.ENOENT, "no optilog store (no such file)", self.path)
        base = "file:" + urllib.parse.quote(os.path.abspath(self.path))
        self._db = None
        # Read-only media or a read-only folder: SQLite cannot make the WAL index it needs there,
        # so the file is read as it is (immutable), as optilog's own queries do.
        for mode in ("?mode=ro", "?immutable=1"):
            try:
                db = sqlite3.connect(base + mode, uri=True)
                db.execute("PRAGMA query_only = ON")
                self._tables = {name for (name,) in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
                self._run_columns = [row[1] for row in db.execute("PRAGMA table_info(runs)")]
                self._db = db
                break
            except sqlite3.DatabaseError as error:
                if "db" in locals():
                    db.close()
                last = error
                if "unable to open" not in str(last):
                    break
        if self._db is None:
            what = "cannot open it, even read-only" if "unable to open" in str(last) else "not an SQLite database"
            raise sqlite3.DatabaseError(f"{self.path}: {what} ({last})") from last
        missing = [table for table in _REQUIRED_TABLES if table not in self._tables]
        if missing:
            self._db.close()
            raise sqlite3.DatabaseError(
                f"{self.path}: not an optilog store (no table {', '.join(missing)})")
        self._zstd = zstandard.ZstdDecompressor()

    def close(self):
        """Closes the connection."""
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def runs(self, include_archived=False):
        """One row per run, by run id.

        Columns: every column of `runs` (`id` renamed `run`), `study` (the study's name or
        None), `archived_at` (Unix seconds or NaN), `archive_reason` (if the store records one),
        `archived` (bool), then `opt.<key>` for every key of any run's optimizer configuration
        (NaN/None where a run lacks it; nested values stay dicts) and `tag.<key>` for every tag
        key (NaN where a run lacks it).
        """
        where, params = self._where(None, include_archived)
        extra = ""
        if "archived_at" not in self._run_columns:
            extra += f", {self._archived_at()} AS archived_at"
        if "run_archive" in self._tables:
            extra += ", (SELECT a.reason FROM run_archive a WHERE a.run_id = r.id) AS archive_reason"
        frame = self._query(f"SELECT r.*, s.name AS study{extra} FROM runs r "
                            f"LEFT JOIN studies s ON s.id = r.study_id {where} ORDER BY r.id", params)
        frame = frame.rename(columns={"id": "run"})
        frame["archived_at"] = frame["archived_at"].astype(float)
        frame["archived"] = frame["archived_at"].notna()
        settings = [json.loads(text) for text in frame["optimizer_configuration"]]
        frame = pd.concat([frame, pd.DataFrame(settings, index=frame.index).add_prefix("opt.")], axis=1)
        if "run_tags" in self._tables:
            tags = self._query("SELECT run_id, key, value FROM run_tags")
            if len(tags):
                wide = tags.pivot(index="run_id", columns="key", values="value").add_prefix("tag.")
                frame = frame.join(wide, on="run")
        frame.columns.name = None
        return frame

    def epochs(self, runs=None, include_archived=False):
        """One row per logged epoch: `run, uid, task, optimizer, seed`, then every column of
        `epochs` but run_id (`epoch, loss, metric, val_loss, val_metric, grad_norm_mean/min/max/
        last, learning_rate, optimizer_checksum, seconds, samples_per_second, committed_at`).
        NULL (a non-finite value) reads as NaN. `runs`: a run id or a list of them."""
        where, params = self._where(runs, include_archived)
        frame = self._query(f"SELECT {_RUN_KEYS}, e.* FROM epochs e JOIN runs r ON r.id = e.run_id "
                            f"{where} ORDER BY e.run_id, e.epoch", params)
        frame = frame.drop(columns="run_id")
        for column in _EPOCH_REALS:
            if column in frame:
                frame[column] = frame[column].astype(float)
        return frame

    def steps(self, runs=None, include_archived=False):
        """One row per training step: `run, uid, task, optimizer, seed, epoch, step, loss,
        grad_norm`. `step` is the run's global step, from 1; `loss` and `grad_norm` are the
        logged float32 values, exactly, in float64 columns. Raises ValueError if a series does
        not decode to its `steps` values."""
        where, params = self._where(runs, include_archived)
        cursor = self._db.execute(
            f"SELECT {_RUN_KEYS}, t.epoch, t.first_step, t.steps, t.losses, t.grad_norms "
            f"FROM step_series t JOIN runs r ON r.id = t.run_id {where} ORDER BY t.run_id, t.epoch",
            params)
        keys, counts, steps, losses, norms = [], [], [], [], []
        for run, uid, task, optimizer, seed, epoch, first_step, count, loss_blob, norm_blob in cursor:
            keys.append((run, uid, task, optimizer, seed, epoch))
            counts.append(count)
            steps.append(np.arange(first_step + 1, first_step + count + 1, dtype=np.int64))
            losses.append(self._floats(loss_blob, count, f"run {run} epoch {epoch}: losses"))
            norms.append(self._floats(norm_blob, count, f"run {run} epoch {epoch}: grad_norms"))
        frame = pd.DataFrame(keys, columns=["run", "uid", "task", "optimizer", "seed", "epoch"])
        frame = frame.loc[frame.index.repeat(counts)].reset_index(drop=True)
        frame["step"] = np.concatenate(steps) if steps else np.empty(0, dtype=np.int64)
        frame["loss"] = np.concatenate(losses) if losses else np.empty(0)
        frame["grad_norm"] = np.concatenate(norms) if norms else np.empty(0)
        return frame

    def layer_norms(self, runs=None, include_archived=False):
        """One row per (run, epoch, layer): `run, uid, task, optimizer, seed, epoch, layer,
        grad_norm` (the layer's gradient norm at the epoch's last step)."""
        where, params = self._where(runs, include_archived)
        frame = self._query(f"SELECT {_RUN_KEYS}, l.epoch, l.layer, l.norm AS grad_norm "
                            f"FROM layer_norms l JOIN runs r ON r.id = l.run_id {where} "
                            f"ORDER BY l.run_id, l.epoch, l.layer", params)
        frame["grad_norm"] = frame["grad_norm"].astype(float)
        return frame

    def notes(self):
        """Every run's notes, archived runs' too: `run, created_at, text`, oldest first per run.
        Empty (with those columns) if the store has no notes table."""
        if "run_notes" not in self._tables:
            return pd.DataFrame({"run": pd.Series(dtype="int64"),
                                 "created_at": pd.Series(dtype="float64"),
                                 "text": pd.Series(dtype="object")})
        return self._query("SELECT run_id AS run, created_at, text FROM run_notes "
                           "ORDER BY run_id, created_at")

    # Helpers

    def _query(self, sql, params=()):
        return pd.read_sql_query(sql, self._db, params=list(params))

    def _archived_at(self):
        """SQL for run r's archive time (NULL: not archived), in either layout of the mark: a
        `run_archive` table or a `runs.archived_at` column; NULL in stores older than both."""
        if "run_archive" in self._tables:
            return "(SELECT a.archived_at FROM run_archive a WHERE a.run_id = r.id)"
        if "archived_at" in self._run_columns:
            return "r.archived_at"
        return "NULL"

    def _where(self, runs, include_archived):
        """The WHERE clause (on runs r) and its parameters for a runs= argument."""
        clauses, params = [], []
        if runs is not None:
            ids = [runs] if isinstance(runs, (int, np.integer)) else list(runs)
            ids = [operator.index(run) for run in ids]  # TypeError for anything but integers
            clauses.append("r.id IN (" + ", ".join("?" * len(ids)) + ")")
            params.extend(ids)
        if not include_archived:
            clauses.append(self._archived_at() + " IS NULL")
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _floats(self, blob, count, what):
        """A step_series blob (one zstd frame of `count` little-endian float32) as float64."""
        size = 4 * count
        try:
            declared = zstandard.frame_content_size(blob)  # -1: not in the frame header
            if declared not in (-1, size):
                raise ValueError(f"{what}: the zstd frame holds {declared} bytes, {size} expected")
            raw = self._zstd.decompress(blob, max_output_size=size, allow_extra_data=False)
        except zstandard.ZstdError as error:
            raise ValueError(f"{what}: not one zstd frame of {size} bytes ({error})") from error
        if len(raw) != size:
            raise ValueError(f"{what}: decoded to {len(raw)} bytes, {size} expected")
        return np.frombuffer(raw, dtype="<f4").astype(np.float64)
