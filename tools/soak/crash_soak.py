#!/usr/bin/env python3
"""Crash soak: trains runs across tasks and optimizers, SIGKILLs them at random moments, resumes
them, and reports what the issue's goals count:

  integrity failures   `optilog verify` (SQLite integrity + every checkpoint) failing after a kill   goal 0
  committed epochs lost  epochs seen committed before a kill that are gone or changed after it     goal 0
  not bit-identical    finished runs whose epochs (losses, val_loss, optimizer checksum) differ
                       from an uninterrupted twin's                                             goal 0

    python3 tools/soak/crash_soak.py --kills 60 [--optilog .build/release/optilog] [--seed 1]

Each run has its own store (run id 1); half checkpoint every epoch, half every 0.3 s. Exit status
0 when every goal is met. Standard library only.
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

RUNS = [  # task, optimizer, epochs, samples
    ("boston", "adam", 1500, None), ("boston", "sgd", 1500, None), ("boston", "rmsprop", 1500, None), ("boston", "nadam", 1500, None),
    ("boston", "adagrad", 1500, None), ("boston", "adadelta", 1500, None), ("boston", "adamax", 1500, None), ("boston", "ftrl", 1500, None),
    ("fashion_mnist", "adam", 4, 768), ("fashion_mnist", "rmsprop", 4, 768), ("jena", "nadam", 4, 512), ("jena", "sgd", 4, 512),
    ("imdb", "adamax", 3, 192), ("imdb", "adagrad", 3, 192),
]


def optilog(binary, *args, check=True):
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise SystemExit(f"optilog {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def epochs(binary, db):
    if not os.path.exists(db):
        return {}
    r = optilog(binary, "sql", "SELECT epoch, loss, val_loss, optimizer_checksum FROM epochs WHERE run_id = 1 ORDER BY epoch",
                "--db", db, "--format", "tsv", check=False)
    if r.returncode != 0:
        return {}
    rows = [line.split("\t") for line in r.stdout.splitlines()[1:] if line]
    return {int(row[0]): tuple(row[1:]) for row in rows}


def status(binary, db):
    r = optilog(binary, "sql", "SELECT status FROM runs WHERE id = 1", "--db", db, "--format", "tsv", check=False)
    lines = r.stdout.splitlines()
    return lines[1] if r.returncode == 0 and len(lines) > 1 else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--optilog", default=".build/release/optilog")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    binary = os.path.abspath(args.optilog)
    work = tempfile.mkdtemp(prefix="optilog-crash-soak-")
    kills = integrity_failures = lost = mismatched = 0
    for i, (task, optimizer, n, samples) in enumerate(RUNS):
        # Kills still owed, spread over the runs left (a run that ends early passes its share on).
        per_run_kills = max(1, -(-(args.kills - kills) // (len(RUNS) - i)))
        base = ["--task", task, "--optimizer", optimizer, "--epochs", str(n), "--checkpoint-every", "0" if i % 2 == 0 else "0.3"]
        if samples:
            base += ["--samples", str(samples), "--validation-samples", str(samples // 4)]
        twin, victim = f"{work}/twin-{i}.sqlite", f"{work}/victim-{i}.sqlite"
        t = time.time()
        optilog(binary, "run", *base, "--db", twin)
        twin_seconds = time.time() - t
        started = False
        run_kills = 0
        while True:
            # Killed before its run was created: start it again.
            started = started and status(binary, victim) is not None
            command = ["run", *base] if not started else ["resume", "1"]
            process = subprocess.Popen([binary, *command, "--db", victim], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            started = True
            if run_kills < per_run_kills:
                # A moment within what is left of the run (the twin says how long it takes).
                remaining = (n - len(epochs(binary, victim))) / n
                time.sleep(rng.uniform(0.02, max(0.1, 0.9 * twin_seconds * remaining)))
                seen = epochs(binary, victim)          # committed before the kill (maybe more commit meanwhile)
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                    process.wait()
                    kills += 1
                    run_kills += 1
                    if optilog(binary, "verify", "--db", victim, check=False).returncode != 0:
                        integrity_failures += 1
                    after = epochs(binary, victim)
                    lost += sum(1 for e, row in seen.items() if after.get(e) != row)
                    continue
            process.wait()
            if status(binary, victim) == "completed":
                break
            if process.returncode not in (0, -9):
                raise SystemExit(f"run {task}/{optimizer} failed: {process.stderr.read().decode().strip()}")
        same = epochs(binary, victim) == epochs(binary, twin)
        mismatched += 0 if same else 1
        print(f"{task:14} {optimizer:9} {run_kills} kills  {'bit-identical' if same else 'DIFFERENT'} to its twin", flush=True)
    print()
    print(f"kills: {kills} across {len(RUNS)} runs")
    print(f"integrity failures: {integrity_failures} (goal 0)")
    print(f"committed epochs lost: {lost} (goal 0)")
    print(f"runs not bit-identical to their uninterrupted twins: {mismatched} of {len(RUNS)} (goal 0)")
    sys.exit(0 if integrity_failures == lost == mismatched == 0 and kills >= args.kills else 1)


if __name__ == "__main__":
    main()
