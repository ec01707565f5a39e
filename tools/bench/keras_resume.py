"""Keras side of peers.py's resume comparison: the Fashion-MNIST CNN (2,048 random samples,
Adam, batch 32) trained 4 epochs with `keras.callbacks.BackupAndRestore`, interrupted after
epoch 2 and resumed, against 4 uninterrupted epochs from the same seed; and the per-epoch cost
of the backup. Prints `RESULT {json}`.
"""
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
from keras_epoch import study_model

# Importing keras_epoch also applies BENCH_THREADS to TensorFlow's thread pools.


def build():
    m, loss, _ = study_model("fashion_mnist", (28, 28, 1))
    m.compile(optimizer="adam", loss=loss)
    return m


class Stop(Exception):
    pass


class InterruptAfter(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise Stop()


def main():
    rs = np.random.RandomState(1)
    x = rs.uniform(size=(2048, 28, 28, 1)).astype("float32")
    y = np.eye(10, dtype="float32")[rs.randint(0, 10, size=2048)]

    keras.utils.set_random_seed(1)
    plain = build()
    t = time.perf_counter()
    plain.fit(x, y, batch_size=32, epochs=4, verbose=0)
    plain_seconds = time.perf_counter() - t

    backup = tempfile.mkdtemp(prefix="keras-backup-")
    keras.utils.set_random_seed(1)
    model = build()
    try:
        model.fit(x, y, batch_size=32, epochs=4, verbose=0,
                  callbacks=[keras.callbacks.BackupAndRestore(backup), InterruptAfter(2)])
    except Stop:
        pass
    keras.utils.set_random_seed(1)          # a new process would start from its seed again
    resumed = build()
    resumed.fit(x, y, batch_size=32, epochs=4, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(backup)])
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(plain.get_weights(), resumed.get_weights()))

    keras.utils.set_random_seed(1)
    timed = build()
    t = time.perf_counter()
    timed.fit(x, y, batch_size=32, epochs=4, verbose=0,
              callbacks=[keras.callbacks.BackupAndRestore(tempfile.mkdtemp(prefix="keras-backup-"), delete_checkpoint=False)])
    backup_seconds = time.perf_counter() - t
    print("RESULT " + json.dumps({"identical": difference == 0, "max_difference": difference,
                                  "backup_ms": max(0.0, backup_seconds - plain_seconds) / 4 * 1000}))


if __name__ == "__main__":
    main()
