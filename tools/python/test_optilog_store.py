"""Tests of optilog_store against the optilog binary and its `export`.

    python3 -m unittest discover -s tools/python -p 'test_*.py' -v     (from the repository root)

The binary is $OPTILOG_BIN, or .build/debug/optilog under the repository root. Without it, or
without numpy/pandas/zstandard, the tests are skipped (the ones that need no binary still run
when the packages are there).
"""

import hashlib
import io
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.abspath(os.environ.get("OPTILOG_BIN", os.path.join(ROOT, ".build", "debug", "optilog")))
sys.path.insert(0, HERE)

try:
    import numpy as np
    import pandas as pd
    import zstandard  # noqa: F401  (optilog_store needs it)
    from optilog_store import Store
    MISSING = None
except ImportError as error:
    MISSING = str(error)

EPOCH_VALUES = ["loss", "metric", "val_loss", "val_metric", "grad_norm_mean", "grad_norm_min",
                "grad_norm_max", "grad_norm_last", "learning_rate"]
RUN_KEYS = ["run", "uid", "task", "optimizer", "seed"]


def require_packages():
    if MISSING:
        raise unittest.SkipTest(f"needs numpy, pandas and zstandard ({MISSING}); "
                                "python3 -m pip install pandas zstandard")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read_csv(text):
    """The export's CSV, every shortest-repr double read back exactly: before pandas 3.1 that
    takes the round-trip parser (3.1 deprecates the option: its one parser is exact)."""
    if tuple(int(part) for part in pd.__version__.split(".")[:2]) < (3, 1):
        return pd.read_csv(io.StringIO(text), float_precision="round_trip")
    return pd.read_csv(io.StringIO(text))


class FailurePaths(unittest.TestCase):
    """What opening refuses; needs no binary."""

    @classmethod
    def setUpClass(cls):
        require_packages()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="optilog-store-test-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def assertRefusedUnchanged(self, path):
        before, listing = sha256(path), sorted(os.listdir(self.tmp))
        with self.assertRaises(sqlite3.DatabaseError) as caught:
            Store(path)
        self.assertIn(path, str(caught.exception))
        self.assertEqual(sha256(path), before, "the refused file changed")
        self.assertEqual(sorted(os.listdir(self.tmp)), listing, "files appeared beside it")
        return str(caught.exception)

    def test_missing_file(self):
        path = os.path.join(self.tmp, "none.sqlite")
        with self.assertRaises(FileNotFoundError) as caught:
            Store(path)
        self.assertIn(path, str(caught.exception))
        self.assertEqual(os.listdir(self.tmp), [], "opening a missing store created a file")

    def test_not_sqlite(self):
        path = os.path.join(self.tmp, "notes.sqlite")
        with open(path, "wb") as f:
            f.write(b"epoch,loss\n1,0.5\n" * 500)
        self.assertIn("not an SQLite database", self.assertRefusedUnchanged(path))

    def test_another_programs_sqlite(self):
        path = os.path.join(self.tmp, "other.sqlite")
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT)")
        db.close()
        self.assertIn("not an optilog store", self.assertRefusedUnchanged(path))


class AgainstOptilog(unittest.TestCase):
    """Two 3-epoch Boston runs (adam, sgd) logged by the binary, read back and compared."""

    @classmethod
    def setUpClass(cls):
        require_packages()
        if not os.access(BIN, os.X_OK):
            raise unittest.SkipTest(f"no optilog binary at {BIN} (swift build, or set OPTILOG_BIN)")
        cls.tmp = tempfile.mkdtemp(prefix="optilog-store-test-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp)
        cls.db = os.path.join(cls.tmp, "s.sqlite")
        for optimizer in ("adam", "sgd"):
            done = cls.optilog("run", "--task", "boston", "--optimizer", optimizer, "--epochs", "3", "--seed", "1")
            if done.returncode != 0:
                raise RuntimeError(f"optilog run failed ({done.returncode}): {done.stderr}")
        cls.store_sha256 = sha256(cls.db)  # the binary has exited: the main file is complete
        with Store(cls.db) as store:
            cls.runs, cls.epochs = store.runs(), store.epochs()
            cls.steps, cls.layers = store.steps(), store.layer_norms()

    @classmethod
    def optilog(cls, *args):
        return subprocess.run([BIN, *args, "--db", cls.db], cwd=cls.tmp, capture_output=True,
                              text=True, timeout=600)

    def export(self, *args):
        """`optilog export --format csv ARGS` as a frame."""
        done = self.optilog("export", "--format", "csv", *args)
        self.assertEqual(done.returncode, 0, done.stderr)
        return read_csv(done.stdout)

    def assertSameValues(self, ours, theirs, label):
        """Exactly equal floats (NaN equal to NaN), row by row."""
        ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
        same = (ours == theirs) | (np.isnan(ours) & np.isnan(theirs))
        if not same.all():
            i = int(np.argmin(same))
            self.fail(f"{label}: {int((~same).sum())} values differ, first at row {i}: "
                      f"{float(ours[i])!r} (module) != {float(theirs[i])!r} (export)")

    def test_the_store(self):
        self.assertEqual(list(self.runs["run"]), [1, 2])
        self.assertEqual(list(self.runs["optimizer"]), ["adam", "sgd"])
        self.assertIsInstance(self.runs.index, pd.RangeIndex)
        self.assertEqual(len(self.epochs), 6)
        self.assertEqual(list(self.epochs.columns[:6]), RUN_KEYS + ["epoch"])

    def test_runs_frame(self):
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            columns = [row[1] for row in db.execute("PRAGMA table_info(runs)")]
        db.close()
        expected = ["run" if c == "id" else c for c in columns]
        self.assertEqual(list(self.runs.columns[:len(expected)]), expected)
        self.assertEqual(list(self.runs["archived"]), [False, False])
        self.assertEqual(list(self.runs["opt.name"]), ["adam", "sgd"])
        adam, sgd = self.runs.iloc[0], self.runs.iloc[1]
        self.assertEqual(adam["opt.beta_1"], 0.9)
        self.assertTrue(pd.isna(sgd["opt.beta_1"]), "sgd has no beta_1")
        self.assertTrue(pd.isna(adam["opt.momentum"]), "adam has no momentum")
        for _, run in self.runs.iterrows():
            config = json.loads(run["optimizer_configuration"])
            for key, value in config.items():
                if value is None:
                    self.assertTrue(pd.isna(run["opt." + key]), key)
                else:
                    self.assertEqual(run["opt." + key], value, key)

    def test_runs_argument(self):
        with Store(self.db) as store:
            self.assertEqual(set(store.epochs(runs=2)["run"]), {2})
            self.assertEqual(set(store.epochs(runs=[1])["run"]), {1})
            self.assertEqual(set(store.steps(runs=np.int64(2))["run"]), {2})
            self.assertEqual(set(store.layer_norms(runs=[1, 2])["run"]), {1, 2})
            empty = store.steps(runs=[])
            self.assertEqual(len(empty), 0)
            self.assertEqual(list(empty.columns), RUN_KEYS + ["epoch", "step", "loss", "grad_norm"])
            with self.assertRaises(TypeError):
                store.epochs(runs=["1"])
            notes = store.notes()
            self.assertEqual((len(notes), list(notes.columns)), (0, ["run", "created_at", "text"]))

    def test_epochs_match_export_csv(self):
        csv = self.export()
        merged = self.epochs.merge(csv, on=["run", "epoch"], how="outer", suffixes=("", "_csv"),
                                   indicator=True)
        self.assertTrue((merged["_merge"] == "both").all(), "the (run, epoch) rows differ")
        for key in ["uid", "task", "optimizer", "seed"]:
            self.assertEqual(list(merged[key]), list(merged[key + "_csv"]), key)
        for column in EPOCH_VALUES:
            self.assertSameValues(merged[column], merged[column + "_csv"], column)

    def test_optimizer_settings_match_export_csv(self):
        csv = self.export()
        columns = [c for c in csv.columns if c.startswith("opt.")]
        self.assertIn("opt.learning_rate", columns)
        ours = self.runs.set_index("run")
        for run, rows in csv.groupby("run"):
            for column in columns:
                self.assertIn(column, ours.columns)
                theirs, mine = rows[column].iloc[0], ours.at[run, column]
                self.assertTrue(bool(same_setting(mine, theirs)), f"run {run} {column}: {mine!r} != {theirs!r}")

    def test_steps_match_export_csv(self):
        csv = self.export("--steps")
        self.assertEqual(list(csv.columns), RUN_KEYS + ["epoch", "step", "loss", "grad_norm"])
        merged = self.steps.merge(csv, on=["run", "epoch", "step"], how="outer", suffixes=("", "_csv"),
                                  indicator=True)
        self.assertTrue((merged["_merge"] == "both").all(), "the (run, epoch, step) rows differ")
        for key in ["uid", "task", "optimizer", "seed"]:
            self.assertEqual(list(merged[key]), list(merged[key + "_csv"]), key)
        for column in ["loss", "grad_norm"]:
            # Float32 values: the export may print the float's or the double's shortest repr;
            # both read back as the same float32, which is what is logged.
            self.assertSameValues(merged[column].astype(np.float32),
                                  merged[column + "_csv"].astype(np.float32), column)

    def test_layers_match_export_csv(self):
        csv = self.export("--layers")
        self.assertEqual(list(csv.columns), RUN_KEYS + ["epoch", "layer", "grad_norm"])
        merged = self.layers.merge(csv, on=["run", "epoch", "layer"], how="outer", suffixes=("", "_csv"),
                                   indicator=True)
        self.assertTrue((merged["_merge"] == "both").all(), "the (run, epoch, layer) rows differ")
        self.assertSameValues(merged["grad_norm"], merged["grad_norm_csv"], "grad_norm")

    def test_steps_agree_with_step_series_and_epochs(self):
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            series = pd.read_sql_query("SELECT run_id AS run, epoch, first_step, steps FROM step_series", db)
        db.close()
        counts = self.steps.groupby(["run", "epoch"]).size().rename("rows").reset_index()
        both = series.merge(counts, on=["run", "epoch"], how="left")
        self.assertEqual(list(both["rows"]), list(both["steps"]), "rows per (run, epoch) != steps")
        for run, rows in self.steps.groupby("run"):
            self.assertEqual(list(rows["step"]), list(range(1, len(rows) + 1)), f"run {run}: steps")
        for column in ["loss", "grad_norm"]:
            values = self.steps[column]
            self.assertEqual(values.dtype, np.float64)
            self.assertSameValues(values, values.astype(np.float32).astype(np.float64), column + " is float32")

        batch_size = self.runs.set_index("run")["batch_size"]
        for _, epoch in self.epochs.iterrows():
            rows = self.steps[(self.steps["run"] == epoch["run"]) & (self.steps["epoch"] == epoch["epoch"])]
            label = f"run {epoch['run']} epoch {epoch['epoch']}"
            # The epoch's loss is Keras's: the mean over samples, so a short last batch weighs
            # less than a full one, and the plain mean of the step losses misses it by up to
            # 0.6% here (404 Boston samples: 12 batches of 32, one of 20). Held: some last-batch
            # size r in 1..batch_size gives the epoch loss from the step losses to 1e-6.
            losses, b = rows["loss"].to_numpy(), int(batch_size[epoch["run"]])
            weighted = [(b * losses[:-1].sum() + r * losses[-1]) / (b * (len(losses) - 1) + r)
                        for r in range(1, b + 1)]
            self.assertTrue(any(math.isclose(w, epoch["loss"], rel_tol=1e-6) for w in weighted),
                            f"{label}: loss {epoch['loss']!r}, plain step mean {losses.mean()!r}")
            # The gradient norms' statistics are over steps; min, max and last are the logged
            # doubles of which the series holds the float32.
            norms = rows["grad_norm"].to_numpy()
            self.assertTrue(math.isclose(norms.mean(), epoch["grad_norm_mean"], rel_tol=1e-6), label)
            for name, value in [("min", norms.min()), ("max", norms.max()), ("last", norms[-1])]:
                self.assertEqual(np.float32(epoch["grad_norm_" + name]), np.float32(value), f"{label}: {name}")

    def test_reading_leaves_the_store_unchanged(self):
        listing = set(os.listdir(self.tmp))
        with Store(self.db) as store:
            store.runs(include_archived=True), store.epochs(), store.steps(), store.layer_norms(), store.notes()
        self.assertEqual(sha256(self.db), self.store_sha256)
        # SQLite's own -wal and -shm, which a read of a WAL store needs, and nothing else.
        self.assertLessEqual(set(os.listdir(self.tmp)) - listing, {"s.sqlite-wal", "s.sqlite-shm"})

    def test_a_damaged_step_series_is_refused(self):
        good = zstandard.ZstdCompressor().compress(np.zeros(13, dtype="<f4").tobytes())
        for name, blob in [("too short", zstandard.ZstdCompressor().compress(b"\0" * 48)),
                           ("two frames", good + good), ("not zstd", b"\0" * 52)]:
            with self.subTest(name):
                path = os.path.join(self.tmp, f"damaged-{name.replace(' ', '-')}.sqlite")
                with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as source, sqlite3.connect(path) as copy:
                    source.backup(copy)
                    copy.execute("UPDATE step_series SET losses = ? WHERE run_id = 1 AND epoch = 2", (blob,))
                source.close()
                copy.close()
                with Store(path) as store:
                    self.assertEqual(len(store.steps(runs=2)), 39)
                    with self.assertRaisesRegex(ValueError, "run 1 epoch 2: losses"):
                        store.steps()

    def test_tags_notes_and_archive(self):
        """Schema 4's annotations, in both layouts of the archive mark: a run_archive table (as
        sql/migrations/0004_annotations.sql has it) and a runs.archived_at column."""
        for layout in ("run_archive", "archived_at"):
            with self.subTest(layout=layout):
                path = os.path.join(self.tmp, f"annotated-{layout}.sqlite")
                self.annotated_copy(path, layout)
                with Store(path) as store:
                    runs = store.runs()
                    self.assertEqual(list(runs["run"]), [1])
                    self.assertEqual(list(runs["tag.lr_sweep"]), ["a"])
                    every = store.runs(include_archived=True)
                    self.assertEqual(list(every["archived"]), [False, True])
                    self.assertEqual(list(every["archived_at"].isna()), [True, False])
                    self.assertTrue(pd.isna(every["tag.lr_sweep"].iloc[1]))
                    self.assertEqual(every["tag.note"].iloc[1], "bad seed")
                    for frame in (store.epochs(), store.steps(), store.layer_norms(), store.epochs(runs=[1, 2])):
                        self.assertEqual(set(frame["run"]), {1})
                    self.assertEqual(set(store.steps(runs=2, include_archived=True)["run"]), {2})
                    self.assertEqual(list(store.notes()["text"]), ["first", "second"])

    def annotated_copy(self, path, layout):
        """A copy of the store with tags, notes and run 2 archived, written by hand (whether or
        not the binary has schema 4), the archive mark in the given layout."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as source, sqlite3.connect(path) as copy:
            source.backup(copy)
            copy.executescript("""
                CREATE TABLE IF NOT EXISTS run_tags (run_id INTEGER NOT NULL, key TEXT NOT NULL,
                    value TEXT NOT NULL, set_at REAL NOT NULL, PRIMARY KEY (run_id, key)) WITHOUT ROWID;
                CREATE TABLE IF NOT EXISTS run_notes (run_id INTEGER NOT NULL, created_at REAL NOT NULL,
                    text TEXT NOT NULL, PRIMARY KEY (run_id, created_at, text)) WITHOUT ROWID;
                INSERT INTO run_tags VALUES (1, 'lr_sweep', 'a', 1.0), (2, 'note', 'bad seed', 2.0);
                INSERT INTO run_notes VALUES (1, 5.0, 'first'), (2, 6.0, 'second');
                """)
            if layout == "run_archive":
                copy.executescript("""
                    CREATE TABLE IF NOT EXISTS run_archive (run_id INTEGER PRIMARY KEY,
                        archived_at REAL NOT NULL, reason TEXT);
                    INSERT INTO run_archive VALUES (2, 7.0, 'bad seed');
                    """)
            else:
                copy.executescript("DROP TABLE IF EXISTS run_archive;"
                                   "ALTER TABLE runs ADD COLUMN archived_at REAL;"
                                   "UPDATE runs SET archived_at = 7.0 WHERE id = 2;")
        source.close()
        copy.close()

    def test_annotations_by_optilog(self):
        """Tags, notes and the archive as optilog's own commands write them; the export and the
        module leave out the same archived run."""
        path = os.path.join(self.tmp, "annotated-by-optilog.sqlite")
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as source, sqlite3.connect(path) as copy:
            source.backup(copy)
        source.close()
        copy.close()
        for args in (["tag", "1", "lr_sweep=a"], ["tag", "2", "origin=rerun"], ["note", "1", "first"],
                     ["note", "2", "second"], ["archive", "2", "--reason", "bad seed"]):
            done = subprocess.run([BIN, *args, "--db", path], cwd=self.tmp, capture_output=True,
                                  text=True, timeout=600)
            self.assertEqual(done.returncode, 0, f"optilog {' '.join(args)}: {done.stderr}")
        exported = subprocess.run([BIN, "export", "--format", "csv", "--db", path], cwd=self.tmp,
                                  capture_output=True, text=True, timeout=600)
        self.assertEqual(exported.returncode, 0, exported.stderr)
        with Store(path) as store:
            runs = store.runs()
            self.assertEqual(list(runs["run"]), sorted(set(read_csv(exported.stdout)["run"])))
            self.assertEqual(list(runs["run"]), [1])
            self.assertEqual(list(runs["tag.lr_sweep"]), ["a"])
            every = store.runs(include_archived=True)
            self.assertEqual(list(every["archived"]), [False, True])
            self.assertEqual(every["tag.origin"].iloc[1], "rerun")
            self.assertEqual(set(store.steps()["run"]), {1})
            notes = store.notes()
            self.assertEqual(list(notes["run"]), [1, 2])
            self.assertEqual(list(notes["text"]), ["first", "second"])


def same_setting(mine, theirs):
    """An optimizer setting from the store's JSON against the one read from the export's CSV."""
    if mine is None or (isinstance(mine, float) and math.isnan(mine)):
        return pd.isna(theirs)
    if isinstance(mine, (dict, list)):
        return isinstance(theirs, str) and json.loads(theirs) == mine
    if isinstance(mine, (bool, np.bool_)):
        return str(theirs).lower() == str(mine).lower()
    if isinstance(mine, (int, float, np.number)):
        theirs = float(theirs)
        # Keras keeps settings as float32 (0.001 is logged as 0.0010000000474974513); optilog's
        # files may print them as configured (0.001, as `optilog runs` does): the same float32.
        return theirs == mine or (float(np.float32(mine)) == mine and np.float32(theirs) == np.float32(mine))
    return str(theirs) == str(mine)


if __name__ == "__main__":
    unittest.main()
