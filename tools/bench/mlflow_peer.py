"""MLflow side of peers.py (SQLite tracking backend, local artifact folder); prints `RESULT {json}`.

usage: python mlflow_peer.py logging   1,600 epoch records: 4 tasks × 8 optimizers × 50 epochs, six metrics
       python mlflow_peer.py query     best val_loss per optimizer per task over 2,000 runs × 100 epochs
"""
import json
import logging
import os
import random
import sys
import tempfile
import time

logging.getLogger("mlflow").setLevel(logging.ERROR)
logging.getLogger("alembic").setLevel(logging.ERROR)
import mlflow
from mlflow.tracking import MlflowClient

TASKS = ["boston", "fashion_mnist", "imdb", "jena"]
OPTIMIZERS = ["adadelta", "adagrad", "adam", "adamax", "ftrl", "nadam", "rmsprop", "sgd"]


def tracking(work):
    db = os.path.join(work, "mlflow.db")
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    experiment = mlflow.create_experiment("study", artifact_location=os.path.join(work, "artifacts"))
    return db, experiment


def size(work):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(work) for f in files)


def logging_benchmark():
    work = tempfile.mkdtemp(prefix="mlflow-peer-")
    rng = random.Random(3)
    start = time.perf_counter()
    db, experiment = tracking(work)          # creating the store is part of logging, as for optilog
    for task in TASKS:
        for optimizer in OPTIMIZERS:
            with mlflow.start_run(experiment_id=experiment):
                mlflow.log_params({"task": task, "optimizer": optimizer, "learning_rate": 0.001, "batch_size": 32, "seed": 1})
                for epoch in range(1, 51):
                    v = lambda: 1 / epoch + rng.random() * 0.01
                    mlflow.log_metrics({"loss": v(), "metric": v(), "val_loss": v(), "val_metric": v(),
                                        "grad_norm_mean": v(), "learning_rate": 0.001}, step=epoch)
    seconds = time.perf_counter() - start
    print("RESULT " + json.dumps({"seconds": seconds, "bytes": size(work)}))


def query_benchmark():
    from mlflow.entities import Metric
    work = tempfile.mkdtemp(prefix="mlflow-peer-")
    _, experiment = tracking(work)
    client = MlflowClient()
    rng = random.Random(2)
    start = time.perf_counter()
    for r in range(2000):
        run = client.create_run(experiment, tags={"task": TASKS[r % 4], "optimizer": OPTIMIZERS[(r // 4) % 8]})
        now = int(time.time() * 1000)
        client.log_batch(run.info.run_id, metrics=[Metric("val_loss", 1 / e + rng.random(), now, e) for e in range(1, 101)])
        client.set_terminated(run.info.run_id)
    build = time.perf_counter() - start

    t = time.perf_counter()
    runs = mlflow.search_runs(experiment_ids=[experiment], max_results=100000)
    last = runs.groupby(["tags.task", "tags.optimizer"])["metrics.val_loss"].min()
    search = time.perf_counter() - t
    assert len(last) == 32

    t = time.perf_counter()
    best = {}
    for run in client.search_runs([experiment], max_results=50000):
        key = (run.data.tags["task"], run.data.tags["optimizer"])
        value = min(m.value for m in client.get_metric_history(run.info.run_id, "val_loss"))
        best[key] = min(best.get(key, value), value)
    history = time.perf_counter() - t
    assert len(best) == 32
    print("RESULT " + json.dumps({"build_seconds": build, "search_seconds": search, "history_seconds": history}))


if __name__ == "__main__":
    {"logging": logging_benchmark, "query": query_benchmark}[sys.argv[1]]()
