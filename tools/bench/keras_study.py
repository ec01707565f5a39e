"""Keras side of peers.py: the quick study's grid — 4 tasks × 8 optimizers at Keras's defaults,
the preset's samples and epochs, batch 32, validation every epoch — on random data of the
shapes optilog's data sets have here; prints `RESULT {json}` with the wall time of all 32 fits.

usage: KERAS_BACKEND=tensorflow BENCH_THREADS=1 python keras_study.py '{"boston": "13", ...}'
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
from keras_epoch import study_model

# Importing keras_epoch also applies BENCH_THREADS to TensorFlow's thread pools.

OPTIMIZERS = ["adadelta", "adagrad", "adam", "adamax", "ftrl", "nadam", "rmsprop", "sgd"]
# The quick preset (Sources/Study/StudyPlan.swift): epochs, training and validation samples.
PRESET = {"boston": (20, 404, 102), "fashion_mnist": (3, 2048, 512), "imdb": (2, 512, 256), "jena": (2, 1024, 256)}


def data(task, shape, n, rs):
    if task == "fashion_mnist":
        return rs.uniform(size=(n, *shape)).astype("float32"), np.eye(10, dtype="float32")[rs.randint(0, 10, size=n)]
    if task == "imdb":
        return rs.randint(1, 10000, size=(n, *shape)).astype("int32"), rs.randint(0, 2, size=(n, 1)).astype("float32")
    return rs.normal(size=(n, *shape)).astype("float32"), rs.normal(size=(n, 1)).astype("float32")


def main():
    shapes = {task: tuple(int(d) for d in text.split("×")) for task, text in json.loads(sys.argv[1]).items()}
    rs = np.random.RandomState(1)
    start = time.perf_counter()
    for task, (epochs, n, nv) in PRESET.items():
        x, y = data(task, shapes[task], n, rs)
        xv, yv = data(task, shapes[task], nv, rs)
        for optimizer in OPTIMIZERS:
            keras.utils.set_random_seed(1)
            m, loss, metrics = study_model(task, shapes[task])
            m.compile(optimizer=optimizer, loss=loss, metrics=metrics)
            m.fit(x, y, batch_size=32, epochs=epochs, validation_data=(xv, yv), verbose=0)
    seconds = time.perf_counter() - start
    described = ", ".join(f"{t} {'×'.join(map(str, s))}" for t, s in shapes.items())
    print("RESULT " + json.dumps({"seconds": seconds, "shapes": described}))


if __name__ == "__main__":
    main()
