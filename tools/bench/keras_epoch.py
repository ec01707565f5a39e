"""Keras side of optilog-bench: one study model trained with Adam, batch 32, on random data of
the canonical shapes; one warm-up epoch, then N timed epochs; prints `RESULT {json}`.

usage: KERAS_BACKEND=tensorflow python keras_epoch.py TASK SAMPLES EPOCHS
       TASK: boston | fashion_mnist | imdb | jena      BENCH_THREADS=n sets TF's thread pools.
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
from keras import layers

if os.environ.get("BENCH_THREADS") and keras.backend.backend() == "tensorflow":
    import tensorflow as tf
    n = int(os.environ["BENCH_THREADS"])
    tf.config.threading.set_intra_op_parallelism_threads(n)
    tf.config.threading.set_inter_op_parallelism_threads(n)


def model_and_data(task, n, rs):
    if task == "boston":
        m = keras.Sequential([keras.Input((13,)), layers.Dense(64, activation="relu"),
                              layers.Dense(64, activation="relu"), layers.Dense(1)])
        return m, rs.normal(size=(n, 13)), rs.normal(size=(n, 1)), "mae"
    if task == "fashion_mnist":
        m = keras.Sequential([keras.Input((28, 28, 1)),
                              layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                              layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                              layers.Flatten(), layers.Dense(128, activation="relu"),
                              layers.Dense(10, activation="softmax")])
        y = np.eye(10)[rs.randint(0, 10, size=n)]
        return m, rs.uniform(size=(n, 28, 28, 1)), y, "categorical_crossentropy"
    if task == "imdb":
        m = keras.Sequential([keras.Input((500,), dtype="int32"), layers.Embedding(10000, 128),
                              layers.Conv1D(32, 7, activation="relu"), layers.MaxPooling1D(5),
                              layers.Conv1D(32, 7, activation="relu"), layers.GlobalMaxPooling1D(),
                              layers.Dense(1, activation="sigmoid")])
        x = rs.randint(1, 10000, size=(n, 500)).astype("int32")
        return m, x, rs.randint(0, 2, size=(n, 1)), "binary_crossentropy"
    if task == "jena":
        m = keras.Sequential([keras.Input((120, 14)), layers.LSTM(32), layers.Dense(1)])
        return m, rs.normal(size=(n, 120, 14)), rs.normal(size=(n, 1)), "mae"
    raise SystemExit(f"unknown task {task}")


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
