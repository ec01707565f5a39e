#!/usr/bin/env python3
"""optilog against the tools users would otherwise pick, side by side on this machine, in one run.

    tools/bench/setup_peers.sh .build-peers/venv          # Keras 3 + TensorFlow CPU + MLflow, from PyPI
    make bench-peers                                        # or: python3 tools/bench/peers.py --python .build-peers/venv/bin/python

Measures, each as optilog / peer ratios, and writes a Markdown report (--out):
  study     `optilog study --preset quick` (data, training, logging, checkpoints) against the same
            grid as a Keras loop (8 optimizers × 4 tasks, same shapes, samples, epochs, batch 32,
            validation each epoch), both on 1 thread;
  logging   1,600 epoch records (4 tasks × 8 optimizers × 50 epochs, six metrics each) through
            optilog's store and through MLflow's SQLite tracking backend; time and size on disk;
  query     best val_loss per optimizer per task over 2,000 runs × 100 epochs: optilog's named
            query against MLflow's search_runs (which sees only each run's last value) and
            against MLflow answering the actual question (every run's metric history);
  resume    what each can resume and at what cost: optilog's checkpoint in each epoch's
            transaction and bit-identical resume, Keras's BackupAndRestore (per-epoch cost, and
            whether the resumed weights equal an uninterrupted run's), MLflow (logs only).
Training throughput per model is `optilog-bench --keras` (see README.md); --throughput adds it.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def sh(*args, env=None, check=True):
    r = subprocess.run(args, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if check and r.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {r.stderr.strip()[-2000:]}")
    return r


def peer(python, script, *args, env=None):
    """Runs a peer script under the peer environment's Python and returns its RESULT json."""
    r = sh(python, os.path.join(HERE, script), *args, env={"TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow", **(env or {})})
    line = [l for l in r.stdout.splitlines() if l.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=os.path.join(ROOT, ".build-peers/venv/bin/python"))
    parser.add_argument("--optilog", default=os.path.join(ROOT, ".build/release/optilog"))
    parser.add_argument("--bench", default=os.path.join(ROOT, ".build/release/optilog-bench"))
    parser.add_argument("--out", default=os.path.join(ROOT, "bench-results/peers.md"))
    parser.add_argument("--skip", default="", help="comma-separated: study,logging,query,resume")
    parser.add_argument("--throughput", action="store_true", help="also run optilog-bench --keras (long)")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    lines = []

    def emit(s=""):
        print(s, flush=True)
        lines.append(s)

    versions = sh(args.python, "-c", "import keras, tensorflow as tf, mlflow; print(keras.__version__, tf.__version__, mlflow.__version__)").stdout.split()
    emit("# optilog against its peers")
    emit()
    emit(f"Date: {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; {os.cpu_count()} cores; load average at start "
         f"{os.getloadavg()[0]:.2f}; Keras {versions[0]}, TensorFlow {versions[1]} (CPU), MLflow {versions[2]}.")
    emit(f"Command: `python3 tools/bench/peers.py {' '.join(sys.argv[1:])}`")
    rows = []

    if "study" not in skip:
        work = tempfile.mkdtemp(prefix="optilog-peers-study-")
        datasets = json.loads(sh(args.optilog, "datasets", "--format", "json").stdout)
        t = time.perf_counter()
        sh(args.optilog, "study", "--preset", "quick", "--db", os.path.join(work, "quick.sqlite"))
        optilog_study = time.perf_counter() - t
        shapes = {d["task"]: d["input_shape"] for d in datasets}
        keras = peer(args.python, "keras_study.py", json.dumps(shapes), env={"BENCH_THREADS": "1"})
        emit()
        emit("## The quick study, end to end")
        emit()
        emit("| | optilog | Keras | optilog / Keras |")
        emit("|---|---|---|---|")
        emit(f"| 32 runs (4 tasks × 8 optimizers), 1 thread, seconds | {optilog_study:.1f} | {keras['seconds']:.1f} | "
             f"{keras['seconds'] / optilog_study:.2f}× faster |")
        emit()
        emit("optilog's time includes reading its data, logging every epoch and step and writing checkpoints; Keras's "
             "is `model.fit` with validation on random data of the same shapes (" + keras["shapes"] + "), nothing logged.")
        rows.append(("`study --preset quick` (1 thread)", f"{optilog_study:.1f} s", f"{keras['seconds']:.1f} s (Keras)", keras["seconds"] / optilog_study))

    store = {}
    if not ({"logging", "query"} <= skip):
        out = sh(args.bench, "--peers-store").stdout
        store = {k: float(v) for k, v in re.findall(r"^(optilog_\w+)=([0-9.e+-]+)$", out, re.M)}
    if "logging" not in skip:
        ml = peer(args.python, "mlflow_peer.py", "logging")
        emit()
        emit("## Logging 1,600 epoch records (4 tasks × 8 optimizers × 50 epochs, six metrics each)")
        emit()
        emit("| | optilog store | MLflow (SQLite backend) | ratio |")
        emit("|---|---|---|---|")
        emit(f"| time, seconds | {store['optilog_logging_seconds']:.3f} | {ml['seconds']:.2f} | {ml['seconds'] / store['optilog_logging_seconds']:.0f}× faster |")
        emit(f"| size on disk, bytes | {int(store['optilog_logging_bytes']):,} | {ml['bytes']:,} | {ml['bytes'] / store['optilog_logging_bytes']:.1f}× smaller |")
        emit()
        emit("Both commit every epoch durably before going on (optilog: one transaction per epoch with "
             "`synchronous=FULL`; MLflow: `log_metrics` per epoch, each its own commit). optilog also records each run's "
             "optimizer configuration and keeps its best-so-far; MLflow the same parameters (`log_params`).")
        rows.append(("logging 1,600 epochs", f"{store['optilog_logging_seconds']:.3f} s", f"{ml['seconds']:.2f} s (MLflow)",
                     ml["seconds"] / store["optilog_logging_seconds"]))
        rows.append(("store size for them", f"{int(store['optilog_logging_bytes']):,} B", f"{ml['bytes']:,} B (MLflow)",
                     ml["bytes"] / store["optilog_logging_bytes"]))
    if "query" not in skip:
        ml = peer(args.python, "mlflow_peer.py", "query")
        t = store["optilog_query_seconds"]
        emit()
        emit("## Best val_loss per optimizer per task, 2,000 runs × 100 epochs")
        emit()
        emit("| | seconds | optilog faster by |")
        emit("|---|---|---|")
        emit(f"| optilog (`sql/queries/best_val_loss_per_optimizer_per_task.sql`, in process) | {t:.4f} | |")
        emit(f"| MLflow `search_runs` + pandas group-by (last logged value, not the best) | {ml['search_seconds']:.3f} | {ml['search_seconds'] / t:.0f}× |")
        emit(f"| MLflow answering the question (`get_metric_history` of every run) | {ml['history_seconds']:.2f} | {ml['history_seconds'] / t:.0f}× |")
        emit()
        emit(f"The MLflow store was built with `log_batch` (100 values per run) in {ml['build_seconds']:.0f} s; optilog's through "
             f"its per-epoch transactions in {store['optilog_query_store_build_seconds']:.0f} s. `optilog best` as a command, process "
             "start included, is in README.md (about 20 ms).")
        rows.append(("best per optimizer per task", f"{t * 1000:.1f} ms", f"{ml['history_seconds']:.1f} s (MLflow, from histories)",
                     ml["history_seconds"] / t))
    if "resume" not in skip:
        keras = peer(args.python, "keras_resume.py", env={"BENCH_THREADS": "1"})
        emit()
        emit("## Resume")
        emit()
        emit("| | what is restored | cost per epoch | resumed = uninterrupted? |")
        emit("|---|---|---|---|")
        emit("| optilog | weights, optimizer slots and iterations, data order, RNG stream, the epoch's progress part-way "
             "(Ctrl-C / SIGTERM), all checked against the log (data and configuration fingerprints, optimizer checksum) | "
             "Fashion-MNIST checkpoint: 8.3 ms to encode + 16.7 ms commit (README, research log) | yes, bit for bit (tested for "
             "all 8 optimizers, SIGKILL at random moments) |")
        emit(f"| Keras `BackupAndRestore` | weights, optimizer state, epoch counter, at epoch ends | {keras['backup_ms']:.1f} ms "
             f"(Fashion-MNIST CNN, 2,048 samples) | {'yes' if keras['identical'] else 'no'}: max |Δw| = {keras['max_difference']:.3g} "
             "after resuming at epoch 3 of 4 |")
        emit("| MLflow | nothing of the model: it logs metrics and parameters; a run can be reopened to log more | – | – |")
    if rows:
        emit()
        emit("## Summary")
        emit()
        emit("| measure | optilog | peer | optilog ahead by |")
        emit("|---|---|---|---|")
        for name, ours, theirs, ratio in rows:
            emit(f"| {name} | {ours} | {theirs} | {ratio:.2f}× |" if ratio < 10 else f"| {name} | {ours} | {theirs} | {ratio:,.0f}× |")
    if args.throughput:
        emit()
        emit(sh(args.bench, "--threads", "1,2", "--keras", args.python).stdout)
    emit()
    emit(f"Load average at end: {os.getloadavg()[0]:.2f}.")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
