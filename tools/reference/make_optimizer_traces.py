"""Keras optimizer traces for the options the shared reference does not cover.

Two variables (a [3,4] matrix and a [5] vector, so per-variable and global clipping differ),
15 fixed gradient steps (zeros, a spike, a tiny row), and for each configuration: Keras's
kwargs and get_config(), every step's values of both variables (eager mode, and inside
tf.function as model.fit runs it; float32 hex) and the final slots (eager). Configurations: every optimizer with non-default settings, each of
clipnorm / clipvalue / global_clipnorm / weight_decay, and the three learning-rate schedules;
every optimizer at its defaults as well. Also Keras's own paths (GradientTape gradients, 200
steps) on the saddle and Himmelblau surfaces, which ../shared/reference does not cover.

usage: KERAS_BACKEND=tensorflow python make_optimizer_traces.py ../../fixtures/keras_optimizer_options.json
(needs `pip install tensorflow-cpu keras`; a few seconds)
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
import tensorflow as tf

STEPS = 15


def hexes(a):
    return ["%08x" % v for v in np.ravel(np.asarray(a, np.float32)).view(np.uint32)]


def gradients(rs):
    out = []
    for step in range(STEPS):
        g0 = rs.normal(size=(3, 4)).astype(np.float32)
        g0[2] *= np.float32(1e-3)
        g0[rs.uniform(size=(3, 4)) < 0.15] = 0
        g1 = (rs.normal(size=5) * 3).astype(np.float32)
        if step == 6:
            g0[:] = 0
            g1[:] = 0
        if step == 10:
            g0[1, 2] = 40
        out.append((g0, g1))
    return out


def jsonable(value):
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    return value


def schedule(class_name, **config):
    return getattr(keras.optimizers.schedules, class_name)(**config)


CASES = [(name, cls, {}) for name, cls in [
    ("adadelta", "Adadelta"), ("adagrad", "Adagrad"), ("adam", "Adam"), ("adamax", "Adamax"),
    ("ftrl", "Ftrl"), ("nadam", "Nadam"), ("rmsprop", "RMSprop"), ("sgd", "SGD")]] + [
    ("sgd_options", "SGD", dict(learning_rate=0.05, momentum=0.5, nesterov=True)),
    ("adam_options", "Adam", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-5, amsgrad=True)),
    ("adamax_options", "Adamax", dict(learning_rate=0.02, beta_1=0.85, beta_2=0.95, epsilon=1e-6)),
    ("nadam_options", "Nadam", dict(learning_rate=0.01, beta_1=0.85, beta_2=0.99, epsilon=1e-6)),
    ("rmsprop_options", "RMSprop", dict(learning_rate=0.01, rho=0.8, momentum=0.5, epsilon=1e-6, centered=True)),
    ("adagrad_options", "Adagrad", dict(learning_rate=0.05, initial_accumulator_value=0.5, epsilon=1e-6)),
    ("adadelta_options", "Adadelta", dict(learning_rate=0.5, rho=0.9, epsilon=1e-6)),
    ("ftrl_options", "Ftrl", dict(learning_rate=0.05, initial_accumulator_value=0.2, l1_regularization_strength=0.001,
                                  l2_regularization_strength=0.002, beta=0.05)),
    ("adam_clipnorm", "Adam", dict(clipnorm=0.5)),
    ("sgd_clipvalue", "SGD", dict(momentum=0.9, clipvalue=0.3)),
    ("rmsprop_global_clipnorm", "RMSprop", dict(global_clipnorm=1.0)),
    ("adam_weight_decay", "Adam", dict(learning_rate=0.01, weight_decay=0.01)),
    ("sgd_weight_decay", "SGD", dict(weight_decay=0.004)),
    ("sgd_exponential_decay", "SGD", dict(learning_rate=("ExponentialDecay", dict(initial_learning_rate=0.05, decay_steps=5, decay_rate=0.5)))),
    ("adam_exponential_staircase", "Adam", dict(learning_rate=("ExponentialDecay", dict(initial_learning_rate=0.01, decay_steps=4, decay_rate=0.7, staircase=True)))),
    ("rmsprop_inverse_time_decay", "RMSprop", dict(learning_rate=("InverseTimeDecay", dict(initial_learning_rate=0.01, decay_steps=3, decay_rate=0.5)))),
    ("adagrad_piecewise", "Adagrad", dict(learning_rate=("PiecewiseConstantDecay", dict(boundaries=[3, 8], values=[0.1, 0.05, 0.01])))),
]


SURFACES = {
    # name: (start, float32 evaluation exactly as optilog's TestFunction writes it)
    "saddle": ((1.0, 0.001), lambda x, y: x * x - y * y),
    "himmelblau": ((0.0, 0.0), lambda x, y: (x * x + y - 11.0) * (x * x + y - 11.0) + (x + y * y - 7.0) * (x + y * y - 7.0)),
}


def surface_paths(steps=200):
    """Every optimizer at Keras's defaults on the surfaces the shared reference lacks."""
    out = []
    for function, (start, f) in SURFACES.items():
        runs = []
        for name, cls in [("adadelta", "Adadelta"), ("adagrad", "Adagrad"), ("adam", "Adam"), ("adamax", "Adamax"),
                          ("ftrl", "Ftrl"), ("nadam", "Nadam"), ("rmsprop", "RMSprop"), ("sgd", "SGD"),
                          ("sgd_momentum", "SGD")]:
            optimizer = getattr(keras.optimizers, cls)(**({"momentum": 0.9} if name == "sgd_momentum" else {}))
            xy = keras.Variable(np.array(start, np.float32), name="xy")
            xs, ys, losses = [], [], []
            for step in range(steps + 1):
                with tf.GradientTape() as tape:
                    loss = f(xy[0], xy[1])
                xs.append(float(xy[0].numpy())); ys.append(float(xy[1].numpy())); losses.append(float(loss.numpy()))
                if step < steps:
                    optimizer.apply_gradients([(tape.gradient(loss, xy), xy)])
            runs.append(dict(id=name, class_name=cls, kwargs={"momentum": 0.9} if name == "sgd_momentum" else {},
                             x=xs, y=ys, loss=losses))
        out.append(dict(function=function, start=list(start), steps=steps, runs=runs))
    return out


def main(out):
    rs = np.random.RandomState(20261130)
    w0 = rs.uniform(-1, 1, size=(3, 4)).astype(np.float32)
    w1 = rs.uniform(-1, 1, size=5).astype(np.float32)
    grads = gradients(rs)
    runs = []
    for case_id, class_name, kwargs in CASES:
        def make():
            built = {k: (schedule(v[0], **v[1]) if isinstance(v, tuple) else v) for k, v in kwargs.items()}
            return built, getattr(keras.optimizers, class_name)(**built)

        # Graph mode (what model.fit runs): TensorFlow rewrites pow(x, 0.5) to sqrt there, which
        # is what optilog's Ftrl computes; eager mode runs Eigen's vectorised pow instead.
        _, graph_optimizer = make()
        g0v, g1v = keras.Variable(w0, name="w0"), keras.Variable(w1, name="w1")
        graph_step = tf.function(lambda a, b: graph_optimizer.apply_gradients([(a, g0v), (b, g1v)]))
        steps_graph = []
        for g0, g1 in grads:
            graph_step(tf.constant(g0), tf.constant(g1))
            steps_graph.append([hexes(g0v.numpy()), hexes(g1v.numpy())])

        built, optimizer = make()
        v0 = keras.Variable(w0, name="w0")
        v1 = keras.Variable(w1, name="w1")
        steps = []
        for g0, g1 in grads:
            optimizer.apply_gradients([(tf.constant(g0), v0), (tf.constant(g1), v1)])
            steps.append([hexes(v0.numpy()), hexes(v1.numpy())])
        serialized_kwargs = {k: (keras.saving.serialize_keras_object(v) if not isinstance(v, (int, float, bool)) else v)
                             for k, v in built.items()}
        slots = [dict(path=v.path, values_hex=hexes(v.numpy())) for v in optimizer.variables if v.dtype == "float32"]
        runs.append(dict(id=case_id, class_name=class_name, kwargs=jsonable(serialized_kwargs),
                         config=jsonable(optimizer.get_config()), steps=steps, steps_graph=steps_graph, final_slots=slots,
                         iterations=int(optimizer.iterations.numpy())))
    doc = dict(generator="tools/reference/make_optimizer_traces.py", keras_version=keras.__version__,
               tensorflow_version=tf.__version__, numpy_version=np.__version__,
               description="apply_gradients on two variables (eager); values as float32 hex after each step",
               initial_hex=[hexes(w0), hexes(w1)], gradients_hex=[[hexes(g0), hexes(g1)] for g0, g1 in grads], runs=runs,
               surfaces=surface_paths())
    with open(out, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
        fh.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
