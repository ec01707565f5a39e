#!/usr/bin/env python3
"""Concurrency soak: 8 processes train into one store while a reader runs `optilog best` in a
loop, for --minutes. Reports lock errors (goal 0), lost epochs (goal 0: every run's epochs are
1…epochs_done, and every finished run has all it planned), and `best`'s latency while the writes
go on, against the same query on the idle store afterwards.

    python3 tools/soak/concurrency_soak.py --minutes 3 [--writers 8] [--optilog .build/release/optilog]

Standard library only; exit status 0 when both goals are met.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

OPTIMIZERS = ["adadelta", "adagrad", "adam", "adamax", "ftrl", "nadam", "rmsprop", "sgd"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--optilog", default=".build/release/optilog")
    args = parser.parse_args()
    binary = os.path.abspath(args.optilog)
    db = os.path.join(tempfile.mkdtemp(prefix="optilog-concurrency-"), "shared.sqlite")
    deadline = time.time() + args.minutes * 60
    errors, runs_started = [], [0]
    lock = threading.Lock()

    def writer(index):
        rng = random.Random(index)
        while time.time() < deadline:
            optimizer = OPTIMIZERS[(index + runs_started[0]) % len(OPTIMIZERS)]
            r = subprocess.run([binary, "run", "--task", "boston", "--optimizer", optimizer, "--epochs", str(rng.randint(20, 80)),
                                "--seed", str(rng.randint(1, 10**6)), "--checkpoint-every", "0", "--db", db],
                               capture_output=True, text=True)
            with lock:
                runs_started[0] += 1
                if r.returncode != 0:
                    errors.append(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}")

    def best_latency():
        t = time.perf_counter()
        r = subprocess.run([binary, "best", "--db", db], capture_output=True, text=True)
        elapsed = time.perf_counter() - t
        # Before the first writer has created the store there is nothing to read yet.
        if r.returncode != 0 and "no such file" not in r.stderr and "not an optilog store yet" not in r.stderr:
            with lock:
                errors.append("best: " + r.stderr.strip())
        return elapsed if r.returncode == 0 else None

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(args.writers)]
    for t in threads:
        t.start()
    busy = []
    while time.time() < deadline:
        latency = best_latency()
        if latency is not None:
            busy.append(latency)
        time.sleep(0.05)
    for t in threads:
        t.join()
    idle = [x for x in (best_latency() for _ in range(30)) if x is not None]

    check = subprocess.run([binary, "sql", """
        SELECT COUNT(*) AS runs,
               COALESCE(SUM(r.epochs_done != (SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.id)), 0)
             + COALESCE(SUM(r.status = 'completed' AND r.epochs_done != r.epochs_planned), 0) AS lost,
               (SELECT COUNT(*) FROM epochs) AS epochs
        FROM runs r""", "--db", db, "--format", "tsv"], capture_output=True, text=True)
    runs, lost, total_epochs = (int(x) for x in check.stdout.splitlines()[1].split("\t"))
    verify = subprocess.run([binary, "verify", "--db", db], capture_output=True, text=True)
    locks = sum(1 for e in errors if "locked" in e or "busy" in e)

    def ms(values, q):
        return sorted(values)[min(len(values) - 1, int(len(values) * q))] * 1000

    print(f"{args.writers} writers for {args.minutes:g} min: {runs} runs, {total_epochs} epochs committed into one store")
    print(f"lock errors: {locks} (goal 0); other errors: {len(errors) - locks}")
    print(f"lost epochs (runs whose epochs are not 1…epochs_done, or completed short of plan): {lost} (goal 0)")
    print(f"verify: {'all well' if verify.returncode == 0 else 'PROBLEMS'}")
    print(f"optilog best while writing: median {ms(busy, 0.5):.1f} ms, p99 {ms(busy, 0.99):.1f} ms over {len(busy)} calls")
    print(f"optilog best idle afterwards: median {ms(idle, 0.5):.1f} ms, p99 {ms(idle, 0.99):.1f} ms")
    for e in errors[:5]:
        print("  error:", e)
    sys.exit(0 if locks == 0 and lost == 0 and not errors and verify.returncode == 0 else 1)


if __name__ == "__main__":
    main()
