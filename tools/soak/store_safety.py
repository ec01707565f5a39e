#!/usr/bin/env python3
"""Store safety: aims every command that writes a file at the store and its companions, and
every writing command at files that are not sound optilog stores, and checks by SHA-256 that
not one byte changed.

  output paths   report -o / export -o [--force] / curves --svg / surface --svg at the store, at
                 it through ./, a symbolic and a hard link, and at its -wal and -shm (the store's
                 last epochs still in its WAL, as a kill leaves them): refused, nothing changed;
                 null and full devices and a FIFO written in place, still what they were; merge
                 --publish onto them and --db pointing at a FIFO refused at once
  foreign files  another program's SQLite file (rollback and WAL mode, with its own `runs` table,
                 with another application_id, with only a view, with only a user_version), a
                 text file, stores with one damaged page header,
                 a store of a newer schema: run, study, resume --all, merge -o, merge --publish -o,
                 tag, note, archive, unarchive, delete --yes, checkpoints --keep-last and vacuum all
                 refuse, and the file, its -wal and the presence of its -shm are unchanged
  publish        merge --publish of a killed store onto itself: whole, no stale -wal or -shm

    python3 tools/soak/store_safety.py [--optilog .build/debug/optilog]

Prints one line per group and a summary; exit status 0 when every attempt was refused as it
should be and nothing changed. Standard library only; runs in CI (well under a minute).
"""
import argparse
import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time


def digest(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        return None


def snapshot(path):
    return (digest(path), digest(path + "-wal"), os.path.exists(path + "-shm"))


class Soak:
    def __init__(self, binary, work):
        self.binary, self.work = binary, work
        self.attempts = self.failures = 0

    def run(self, *args, env=None, cwd=None):
        environment = dict(os.environ, **(env or {}))
        return subprocess.run([self.binary, *args], capture_output=True, text=True, env=environment, cwd=cwd)

    def expect(self, ok, what):
        self.attempts += 1
        if not ok:
            self.failures += 1
            print(f"  FAILED: {what}", flush=True)

    def killed_store(self, name):
        db = os.path.join(self.work, name)
        self.run("run", "--task", "boston", "--optimizer", "sgd", "--epochs", "5", "--samples", "64", "--checkpoint-every", "0",
                 "--db", db, env={"OPTILOG_FAULT": "commit-epoch:3"})
        assert os.path.getsize(db + "-wal") > 0, "the kill left no WAL frames"
        return db

    def output_paths(self):
        db = self.killed_store("runs.sqlite")
        link, hard = os.path.join(self.work, "link.sqlite"), os.path.join(self.work, "hard.sqlite")
        os.symlink(db, link)
        os.link(db, hard)
        before = snapshot(db)
        count = 0
        for target in [db, "./runs.sqlite", link, hard, db + "-wal", db + "-shm"]:
            for command in (["report", "-o", target], ["export", "-o", target], ["export", "-o", target, "--force"],
                            ["curves", "--task", "boston", "--svg", target]):
                r = self.run(*command, "--db", db, cwd=self.work)
                self.expect(r.returncode == 1 and len(r.stderr.splitlines()) == 1, f"{command}: {r.returncode} {r.stderr.strip()}")
                count += 1
            r = self.run("surface", "--svg", target, env={"OPTILOG_DB": db}, cwd=self.work)
            self.expect(r.returncode == 1, f"surface --svg {target}: {r.returncode} {r.stderr.strip()}")
            count += 1
        self.expect(snapshot(db) == before, "the store or its WAL changed")
        r = self.run("sql", "SELECT COUNT(*) FROM epochs", "--db", db, "--format", "csv")
        self.expect(r.stdout == "COUNT(*)\n2\n", f"epochs after the attempts: {r.stdout!r}")
        # Devices and FIFOs are written in place, never replaced; merge --publish refuses them. As
        # root the devices are nodes of our own (a regression must not take the system's with it).
        if os.geteuid() == 0:
            devices = {os.path.join(self.work, "null"): 0, os.path.join(self.work, "full"): 1}
            os.mknod(os.path.join(self.work, "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            os.mknod(os.path.join(self.work, "full"), 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        else:
            devices = {"/dev/null": 0}
        for device, expected in devices.items():
            r = self.run("export", "-o", device, "--db", db)
            self.expect(r.returncode == expected, f"export -o {device}: {r.returncode}")
            if os.geteuid() == 0:
                r = self.run("merge", "--publish", db, "-o", device)
                self.expect(r.returncode == 1 and "not a regular file" in r.stderr, f"merge --publish -o {device}: {r.stderr.strip()}")
                count += 1
            self.expect(stat.S_ISCHR(os.lstat(device).st_mode), f"{device} is no longer a device")
            count += 1
        fifo = os.path.join(self.work, "fifo")
        os.mkfifo(fifo)
        received = []
        reader = threading.Thread(target=lambda: received.append(open(fifo, "rb").read()))
        reader.start()
        r = self.run("export", "-o", fifo, "--format", "ndjson", "--db", db)
        reader.join(timeout=30)
        self.expect(r.returncode == 0 and received and len(received[0].splitlines()) == 2 and stat.S_ISFIFO(os.lstat(fifo).st_mode),
                    "export into a FIFO")
        for command in (["merge", "--publish", db, "-o", fifo], ["runs", "--db", fifo], ["run", "--task", "boston", "--optimizer", "adam", "--db", fifo]):
            try:
                r = subprocess.run([self.binary, *command], capture_output=True, text=True, timeout=30)
                self.expect(r.returncode == 1 and "not a regular file" in r.stderr, f"{command[0]} on a FIFO: {r.stderr.strip()}")
            except subprocess.TimeoutExpired:
                self.expect(False, f"{command[0]} on a FIFO waited for a writer")
            count += 1
        print(f"output paths: {count} attempts at the store, its companions and devices; store bytes unchanged: {snapshot(db) == before}")

    def foreign_files(self):
        files = []

        def sqlite_file(name, sql, wal=False):
            path = os.path.join(self.work, name)
            c = sqlite3.connect(path)
            if wal:
                c.execute("PRAGMA journal_mode = WAL")
            c.executescript(sql)
            c.commit()
            c.close()
            files.append((path, "not an optilog store"))

        sqlite_file("notes.sqlite", "CREATE TABLE notes (x); INSERT INTO notes VALUES (1);")
        sqlite_file("notes-wal.sqlite", "CREATE TABLE notes (x); INSERT INTO notes VALUES (1);", wal=True)
        sqlite_file("own-runs.sqlite", "CREATE TABLE runs (id INTEGER PRIMARY KEY, task TEXT);")
        sqlite_file("app.sqlite", "PRAGMA application_id = 42; CREATE TABLE t (x);")
        sqlite_file("view-only.sqlite", "CREATE VIEW v AS SELECT 1 AS x;")
        sqlite_file("versioned.sqlite", "PRAGMA user_version = 3;")
        text = os.path.join(self.work, "notes.txt")
        with open(text, "w") as f:
            f.write("date,loss\n2026-01-01,0.5\n")
        files.append((text, "not an optilog store"))
        good = os.path.join(self.work, "good.sqlite")
        self.run("run", "--task", "boston", "--optimizer", "adam", "--epochs", "3", "--samples", "64", "--db", good)
        original = open(good, "rb").read()
        page = int.from_bytes(original[16:18], "big")
        damaged = 0
        for number in range(1, len(original) // page):
            if damaged >= 8 or original[number * page] not in (0x02, 0x05, 0x0A, 0x0D):
                continue
            copy = bytearray(original)
            copy[number * page] = 0x07
            path = os.path.join(self.work, f"damaged-{number}.sqlite")
            open(path, "wb").write(copy)
            try:
                c = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
                bad = c.execute("PRAGMA integrity_check").fetchall() != [("ok",)]
                c.close()
            except sqlite3.DatabaseError:
                bad = True
            if bad:
                files.append((path, "is damaged"))
                damaged += 1
        newer = os.path.join(self.work, "newer.sqlite")
        open(newer, "wb").write(original)
        c = sqlite3.connect(newer)
        c.execute("INSERT INTO grdb_migrations (identifier) VALUES ('0099_future')")
        c.execute("PRAGMA user_version = 99")
        c.commit()
        c.close()
        for companion in ("-wal", "-shm"):
            if os.path.exists(newer + companion):
                os.remove(newer + companion)
        files.append((newer, "newer optilog"))
        count = 0
        for path, words in files:
            before = snapshot(path)
            for command in (["run", "--task", "boston", "--optimizer", "adam", "--epochs", "1", "--samples", "32", "--db", path],
                            ["study", "--tasks", "boston", "--optimizers", "adam", "--epochs", "1", "--db", path],
                            ["resume", "--all", "--db", path], ["merge", good, "-o", path], ["merge", "--publish", good, "-o", path],
                            ["tag", "1", "k=v", "--db", path], ["note", "1", "text", "--db", path], ["archive", "1", "--db", path],
                            ["unarchive", "1", "--db", path], ["delete", "1", "--yes", "--db", path],
                            ["checkpoints", "--keep-last", "1", "--db", path], ["vacuum", "--db", path]):
                r = self.run(*command)
                errors = [line for line in r.stderr.splitlines() if line.startswith("optilog: error:")]
                self.expect(r.returncode == 1 and len(errors) == 1 and (words in errors[0] or command[1] == "--publish"),
                            f"{command[0]} on {os.path.basename(path)}: {r.returncode} {r.stderr.strip()}")
                count += 1
            self.expect(snapshot(path) == before, f"{os.path.basename(path)} changed")
        print(f"foreign, damaged ({damaged}) and newer files: {len(files)} files × 12 writing commands = {count} attempts")

    def publish(self):
        db = self.killed_store("w.sqlite")
        r = self.run("merge", "--publish", db, "-o", db)
        self.expect(r.returncode == 0, f"publish onto itself: {r.stderr.strip()}")
        self.expect(not os.path.exists(db + "-wal") and not os.path.exists(db + "-shm"), "a stale -wal or -shm was left")
        self.expect(self.run("verify", "--db", db).returncode == 0, "verify after publishing")
        print("publish onto a store with WAL frames: whole, verified")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--optilog", default=".build/debug/optilog")
    args = parser.parse_args()
    started = time.time()
    soak = Soak(os.path.abspath(args.optilog), tempfile.mkdtemp(prefix="optilog-store-safety-"))
    soak.output_paths()
    soak.foreign_files()
    soak.publish()
    print(f"store safety: {soak.attempts} checks, {soak.failures} failed (goal 0), {time.time() - started:.1f} s")
    sys.exit(0 if soak.failures == 0 else 1)


if __name__ == "__main__":
    main()
