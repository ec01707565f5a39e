"""Keras side of optilog-bench: one study model trained with Adam, batch 32, on random data of
the canonical shapes; one warm-up epoch, then N timed epochs; prints `RESULT {json}`.

usage: KERAS_BACKEND=tensorflow|jax python keras_epoch.py TASK SAMPLES EPOCHS
       TASK: boston | fashion_mnist | imdb | jena
BENCH_THREADS=n keeps the process on n cores (CPU affinity, so no backend can use more) and sizes
TensorFlow's thread pools or XLA's Eigen pool to n.
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
THREADS = int(os.environ.get("BENCH_THREADS", "0"))
if THREADS:
    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:THREADS]))
    if os.environ.get("KERAS_BACKEND") == "jax":
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + f" --xla_cpu_multi_thread_eigen={'true' if THREADS > 1 else 'false'}"
                                   + f" intra_op_parallelism_threads={THREADS}").strip()
import numpy as np
import keras
from keras import layers

if THREADS and keras.backend.backend() == "tensorflow":
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)


def study_model(task, shape):
    """One of the study's four models (as optilog's Architectures builds them) for inputs of
    `shape`, with its loss and metric; peers.py's Keras scripts use the same definitions."""
    if task == "boston":
        return keras.Sequential([keras.Input(shape), layers.Dense(64, activation="relu"),
                                 layers.Dense(64, activation="relu"), layers.Dense(1)]), "mae", ["mae"]
    if task == "fashion_mnist":
        return keras.Sequential([keras.Input(shape),
                                 layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                                 layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                                 layers.Flatten(), layers.Dense(128, activation="relu"),
                                 layers.Dense(10, activation="softmax")]), "categorical_crossentropy", ["accuracy"]
    if task == "imdb":
        return keras.Sequential([keras.Input(shape, dtype="int32"), layers.Embedding(10000, 128),
                                 layers.Conv1D(32, 7, activation="relu"), layers.MaxPooling1D(5),
                                 layers.Conv1D(32, 7, activation="relu"), layers.GlobalMaxPooling1D(),
                                 layers.Dense(1, activation="sigmoid")]), "binary_crossentropy", ["accuracy"]
    if task == "jena":
        return keras.Sequential([keras.Input(shape), layers.LSTM(32), layers.Dense(1)]), "mae", ["mae"]
    raise SystemExit(f"unknown task {task}")


def model_and_data(task, n, rs):
    shapes = {"boston": (13,), "fashion_mnist": (28, 28, 1), "imdb": (500,), "jena": (120, 14)}
    if task not in shapes:
        raise SystemExit(f"unknown task {task}")
    m, loss, _ = study_model(task, shapes[task])
    if task == "fashion_mnist":
        return m, rs.uniform(size=(n, 28, 28, 1)), np.eye(10)[rs.randint(0, 10, size=n)], loss
    if task == "imdb":
        return m, rs.randint(1, 10000, size=(n, 500)).astype("int32"), rs.randint(0, 2, size=(n, 1)), loss
    return m, rs.normal(size=(n, *shapes[task])), rs.normal(size=(n, 1)), loss


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def main():
    task, n, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rs = np.random.RandomState(0)
    keras.utils.set_random_seed(0)
    model, x, y, loss = model_and_data(task, n, rs)
    x = x if x.dtype == np.int32 else x.astype("float32")
    model.compile(optimizer=keras.optimizers.Adam(), loss=loss)
    timer = EpochTimer()
    model.fit(x, y.astype("float32"), batch_size=32, epochs=1 + epochs, shuffle=True, verbose=0, callbacks=[timer])
    rates = sorted(n / s for s in timer.seconds[1:])
    print("RESULT " + json.dumps(dict(task=task, keras=keras.__version__, backend=keras.backend.backend(),
                                      samples=n, warmup_s=timer.seconds[0], epoch_s=timer.seconds[1:],
                                      samples_per_s_median=float(np.median(rates)),
                                      params=int(model.count_params()))))


if __name__ == "__main__":
    main()
