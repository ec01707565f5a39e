#!/usr/bin/env python3
"""Crash soak: trains runs across tasks and optimizers, SIGKILLs `run` and `resume` at random
moments, resumes them, and reports what the goals count:

  integrity failures     `optilog verify` (SQLite integrity + every checkpoint) failing after a kill  goal 0
  epoch count decreases  two observations of a run where the later one holds fewer epochs         goal 0
  committed epochs lost  epochs seen committed before a kill that are gone or changed after it     goal 0
  not bit-identical      finished runs whose epochs (losses, val_loss, optimizer checksum) differ
                         from an uninterrupted twin's                                             goal 0
  nondeterministic       runs a resume marked so (a replayed epoch differed from the log)          goal 0

and how many epochs the resumes replayed and found equal to the log.

    python3 tools/soak/crash_soak.py --kills 60 [--optilog .build/release/optilog] [--seed 1]

Each run has its own store (run id 1) and the default checkpoint policy (10 s or 100 epochs), so
most kills land between checkpoints and the resumes replay logged epochs. Exit status 0 when
every goal is met. Standard library only.
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
    ("boston", "adam", 700, None), ("boston", "sgd", 700, None), ("boston", "rmsprop", 700, None), ("boston", "nadam", 700, None),
    ("boston", "adagrad", 700, None), ("boston", "adadelta", 700, None), ("boston", "adamax", 700, None), ("boston", "ftrl", 700, None),
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


def row(binary, db):
    r = optilog(binary, "sql", "SELECT status, epochs_replayed FROM runs WHERE id = 1", "--db", db, "--format", "tsv", check=False)
    lines = r.stdout.splitlines()
    return lines[1].split("\t") if r.returncode == 0 and len(lines) > 1 else None


def status(binary, db):
    r = row(binary, db)
    return r[0] if r else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--optilog", default=".build/release/optilog")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    binary = os.path.abspath(args.optilog)
    work = tempfile.mkdtemp(prefix="optilog-crash-soak-")
    kills = integrity_failures = lost = mismatched = decreases = observations = nondeterministic = replayed = resume_kills = 0
    for i, (task, optimizer, n, samples) in enumerate(RUNS):
        # Kills still owed, spread over the runs left (a run that ends early passes its share on).
        per_run_kills = max(1, -(-(args.kills - kills) // (len(RUNS) - i)))
        base = ["--task", task, "--optimizer", optimizer, "--epochs", str(n)]
        if samples:
            base += ["--samples", str(samples), "--validation-samples", str(samples // 4)]
        twin, victim = f"{work}/twin-{i}.sqlite", f"{work}/victim-{i}.sqlite"
        t = time.time()
        optilog(binary, "run", *base, "--db", twin)
        twin_seconds = time.time() - t
        started = False
        run_kills = 0
        highest = 0

        def observe():
            nonlocal highest, decreases, observations
            current = epochs(binary, victim)
            observations += 1
            if len(current) < highest:
                decreases += 1
            highest = max(highest, len(current))
            return current

        while True:
            # Killed before its run was created: start it again.
            started = started and status(binary, victim) is not None
            command = ["run", *base] if not started else ["resume", "1"]
            process = subprocess.Popen([binary, *command, "--db", victim], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            started = True
            if run_kills < per_run_kills:
                # A moment within what is left of the run (the twin says how long it takes).
                remaining = (n - len(observe())) / n
                time.sleep(rng.uniform(0.02, max(0.1, 0.9 * twin_seconds * remaining)))
                seen = observe()          # committed before the kill (maybe more commit meanwhile)
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                    process.wait()
                    kills += 1
                    run_kills += 1
                    resume_kills += command[0] == "resume"
                    if optilog(binary, "verify", "--db", victim, check=False).returncode != 0:
                        integrity_failures += 1
                    after = observe()
                    lost += sum(1 for e, r in seen.items() if after.get(e) != r)
                    continue
            process.wait()
            observe()
            if status(binary, victim) in ("completed", "nondeterministic"):
                break
            if process.returncode not in (0, -9):
                raise SystemExit(f"run {task}/{optimizer} failed: {process.stderr.read().decode().strip()}")
        final = row(binary, victim)
        nondeterministic += final[0] == "nondeterministic"
        replayed += int(final[1])
        same = epochs(binary, victim) == epochs(binary, twin)
        mismatched += 0 if same else 1
        print(f"{task:14} {optimizer:9} {run_kills} kills  {final[1]:>4} epochs replayed  {'bit-identical' if same else 'DIFFERENT'} to its twin", flush=True)
    print()
    print(f"kills: {kills} across {len(RUNS)} runs ({resume_kills} of them of a resume)")
    print(f"integrity failures: {integrity_failures} (goal 0)")
    print(f"epoch count decreases: {decreases} over {observations} observations (goal 0)")
    print(f"committed epochs lost: {lost} (goal 0)")
    print(f"runs not bit-identical to their uninterrupted twins: {mismatched} of {len(RUNS)} (goal 0)")
    print(f"runs marked nondeterministic: {nondeterministic} (goal 0); epochs replayed and equal to the log: {replayed}")
    sys.exit(0 if integrity_failures == lost == mismatched == decreases == nondeterministic == 0 and kills >= args.kills else 1)


if __name__ == "__main__":
    main()
