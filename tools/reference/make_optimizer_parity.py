"""Keras optimizer parity fixture: the 18 configurations OptimizerParityTests holds to 0 ulp.

Two parts, both float32 on TensorFlow's CPU kernels:

* fixed_gradient_trace: a [3,4] variable named "w" (so slot paths read `<opt>/w_<slot>`) and
  20 fixed gradient steps from `numpy.random.default_rng(20261201)`: row 1 about ten times larger,
  row 2 about 1e-4, element (0,0) always zero, about 15% random zeros, step 8 all zeros, and at
  step 13 element (1,1) = 50. For each configuration: the variable after every step in eager mode
  (`apply_gradients`) and inside `tf.function` (what model.fit runs; Grappler rewrites a few
  expressions there), and every optimizer variable (iteration, learning_rate, slots) after every
  eager step.
* trajectories: 200 steps on Beale from (1, 1.5) and Rosenbrock from (-1.5, 2); the point, loss
  and tf.GradientTape gradient before each step (201 entries), and the first non-finite index.

Configurations: every optimizer at Keras's defaults, plus SGD at lr 0.001 / momentum 0.9 /
Nesterov, RMSprop centered / momentum / both, Adam amsgrad, Ftrl with l1 and l2, Ftrl with every
option (learning_rate_power -0.6), Adadelta at lr 1.0.

usage: KERAS_BACKEND=tensorflow .build-peers/venv/bin/python tools/reference/make_optimizer_parity.py fixtures/keras_optimizer_parity.json
(from the repository root; needs `pip install tensorflow-cpu keras`; a minute or two)
"""
import json
import math
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
import tensorflow as tf

SEED = 20261201
TRACE_STEPS = 20
PATH_STEPS = 200

CONFIGURATIONS = [
    ("adadelta", "Adadelta", {}),
    ("adagrad", "Adagrad", {}),
    ("adam", "Adam", {}),
    ("adamax", "Adamax", {}),
    ("ftrl", "Ftrl", {}),
    ("nadam", "Nadam", {}),
    ("rmsprop", "RMSprop", {}),
    ("sgd", "SGD", {}),
    ("sgd_lr0.001", "SGD", {"learning_rate": 0.001}),
    ("sgd_momentum", "SGD", {"momentum": 0.9}),
    ("sgd_nesterov", "SGD", {"momentum": 0.9, "nesterov": True}),
    ("rmsprop_centered", "RMSprop", {"centered": True}),
    ("rmsprop_momentum", "RMSprop", {"momentum": 0.9}),
    ("rmsprop_centered_momentum", "RMSprop", {"centered": True, "momentum": 0.9}),
    ("adam_amsgrad", "Adam", {"amsgrad": True}),
    ("ftrl_l1_l2", "Ftrl", {"l1_regularization_strength": 0.01, "l2_regularization_strength": 0.01}),
    ("ftrl_all_options", "Ftrl", {"l1_regularization_strength": 0.01, "l2_regularization_strength": 0.01,
                                  "l2_shrinkage_regularization_strength": 0.01, "beta": 0.1,
                                  "learning_rate_power": -0.6}),
    ("adadelta_lr1", "Adadelta", {"learning_rate": 1.0}),
]


def number(v):
    """One float32 as JSON: the float64 it is exactly (repr round-trips), or a string if non-finite."""
    d = float(np.float32(v))
    if math.isnan(d):
        return "NaN"
    if math.isinf(d):
        return "Infinity" if d > 0 else "-Infinity"
    return d


def numbers(a):
    a = np.ravel(np.asarray(a))
    if a.dtype.kind in "iu":
        return [int(v) for v in a]
    return [number(v) for v in a.astype(np.float32)]


def bits(a):
    return ["%08x" % v for v in np.ravel(np.asarray(a, np.float32)).view(np.uint32)]


def new_optimizer(class_name, kwargs):
    return getattr(keras.optimizers, class_name)(**kwargs)


def stress_inputs():
    rng = np.random.default_rng(SEED)
    initial = rng.uniform(-1.0, 1.0, size=(3, 4)).astype(np.float32)
    steps = []
    for step in range(TRACE_STEPS):
        g = rng.standard_normal((3, 4))
        g[1] *= 10.0                             # large row
        g[2] *= 1e-4                             # tiny row
        g[rng.random((3, 4)) < 0.15] = 0.0       # scattered zeros
        g[0, 0] = 0.0                            # never updated by a gradient
        if step == 7:
            g[...] = 0.0                         # a step with no gradient at all
        if step == 12:
            g[1, 1] = 50.0                       # a spike
        steps.append(g.astype(np.float32))
    return initial, steps


def fixed_trace(class_name, kwargs, initial, steps, graph):
    """The variable after each step, and (eager only) every optimizer variable after each step."""
    w = keras.Variable(initial.copy(), dtype="float32", name="w")
    optimizer = new_optimizer(class_name, kwargs)
    optimizer.build([w])

    def apply(g):
        optimizer.apply_gradients([(g, w)])

    if graph:
        apply = tf.function(apply)
    values, slots = [], []
    for g in steps:
        apply(tf.constant(g))
        values.append(np.array(w.numpy(), np.float32))
        if not graph:
            slots.append({v.path: numbers(v.numpy()) for v in optimizer.variables})
    return values, slots


def beale(x, y):
    t1 = 1.5 - x + x * y
    t2 = 2.25 - x + x * y * y
    t3 = 2.625 - x + x * y * y * y
    return t1 * t1 + t2 * t2 + t3 * t3


def rosenbrock(x, y):
    a = 1.0 - x
    b = y - x * x
    return a * a + 100.0 * b * b


FUNCTIONS = [("beale", beale, [1.0, 1.5]), ("rosenbrock", rosenbrock, [-1.5, 2.0])]


def trajectory(class_name, kwargs, f, start):
    point = keras.Variable(np.array(start, np.float32), dtype="float32", name="xy")
    optimizer = new_optimizer(class_name, kwargs)
    optimizer.build([point])
    rows = []                                    # (x, y, loss, grad_x, grad_y) before each step
    for step in range(PATH_STEPS + 1):
        with tf.GradientTape() as tape:
            p = point.value
            loss = f(p[0], p[1])
        grad = tape.gradient(loss, point.value)
        xy, g = point.numpy(), grad.numpy()
        rows.append((xy[0], xy[1], loss.numpy(), g[0], g[1]))
        if step < PATH_STEPS:
            optimizer.apply_gradients([(grad, point)])
    columns = [numbers([r[i] for r in rows]) for i in range(5)]
    run = dict(zip(["x", "y", "loss", "grad_x", "grad_y"], columns))
    bad = [i for i, r in enumerate(rows) if not (np.isfinite(r[0]) and np.isfinite(r[1]))]
    run["first_non_finite_index"] = bad[0] if bad else None
    return run


def main(out):
    initial, steps = stress_inputs()
    runs = []
    for run_id, class_name, kwargs in CONFIGURATIONS:
        eager, slots = fixed_trace(class_name, kwargs, initial, steps, graph=False)
        graph, _ = fixed_trace(class_name, kwargs, initial, steps, graph=True)
        differ = sum(int(np.sum(a.view(np.uint32) != b.view(np.uint32))) for a, b in zip(eager, graph))
        print(f"{run_id}: graph mode differs from eager in {differ} of {TRACE_STEPS * 12} values", flush=True)
        runs.append({"id": run_id, "class": class_name, "kwargs": kwargs,
                     "values_per_step_hex": [bits(v) for v in eager],
                     "values_per_step_graph_mode_hex": [bits(v) for v in graph],
                     "slots_per_step": slots})

    trajectories = []
    for name, f, start in FUNCTIONS:
        entry = {"function": name, "start": start, "steps": PATH_STEPS, "runs": []}
        for run_id, class_name, kwargs in CONFIGURATIONS:
            run = {"id": run_id, "class": class_name, "kwargs": kwargs}
            run.update(trajectory(class_name, kwargs, f, start))
            print(f"{name}/{run_id}: end ({run['x'][-1]}, {run['y'][-1]}), first non-finite "
                  f"{run['first_non_finite_index']}", flush=True)
            entry["runs"].append(run)
        trajectories.append(entry)

    doc = {
        "generator": "tools/reference/make_optimizer_parity.py",
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "tensorflow_version": tf.__version__,
        "numpy_version": np.__version__,
        "number_encoding": "*_hex: float32 IEEE-754 bit patterns as 8 hex digits, arrays row-major; other numbers: "
                           "the exact float64 value of the float32 (shortest repr), non-finite as \"NaN\", "
                           "\"Infinity\", \"-Infinity\"; integer optimizer variables (iteration) as integers",
        "fixed_gradient_trace": {
            "initial_value_hex": bits(initial),
            "gradients_hex": [bits(g) for g in steps],
            "optimizers": runs,
        },
        "trajectories": trajectories,
    }
    with open(out, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"), allow_nan=False)
        fh.write("\n")
    print("wrote", out, os.path.getsize(out), "bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "keras_optimizer_parity.json")
