"""Keras layer and loss references for optilog's engine tests.

For each case: a Keras 3 layer with weights drawn from a fixed NumPy RandomState, an input,
the forward output, and the gradients of L = sum(r * y) (r fixed) with respect to the input
and every weight, from tf.GradientTape. Losses: value and d(loss)/d(predictions).

usage: KERAS_BACKEND=tensorflow python make_layer_reference.py ../../fixtures/keras_layers.json
(needs `pip install tensorflow-cpu keras`; about 10 s)
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import keras
import tensorflow as tf
from keras import layers

rng = np.random.RandomState(20261129)


def f32(a):
    return np.asarray(a, np.float32)


def flat(a):
    return [float(v) for v in np.ravel(np.asarray(a, np.float32))]


def layer_case(name, layer, x, integer_input=False, init_scale=0.5):
    x = f32(x)
    tx = tf.constant(x.astype(np.int32) if integer_input else x)
    y = layer(tx)  # builds
    weights = [f32(rng.uniform(-init_scale, init_scale, size=w.shape)) for w in layer.get_weights()]
    layer.set_weights(weights)
    r = f32(rng.normal(size=tuple(y.shape)))
    with tf.GradientTape() as tape:
        if not integer_input:
            tape.watch(tx)
        y = layer(tx, training=False)
        loss = tf.reduce_sum(y * r)
    sources = ([] if integer_input else [tx]) + list(layer.trainable_variables)
    grads = tape.gradient(loss, sources)
    grads = [tf.convert_to_tensor(g) for g in grads]  # IndexedSlices -> dense
    case = dict(name=name, config=layer.get_config(), input_shape=list(x.shape), input=flat(x),
                weights=[dict(shape=list(w.shape), values=flat(w)) for w in weights],
                output_shape=list(y.shape), output=flat(y), upstream=flat(r))
    if integer_input:
        case["input_gradient"] = None
        case["weight_gradients"] = [flat(g) for g in grads]
    else:
        case["input_gradient"] = flat(grads[0])
        case["weight_gradients"] = [flat(g) for g in grads[1:]]
    return case


def loss_case(name, loss, y_true, y_pred):
    yp = tf.Variable(f32(y_pred))
    with tf.GradientTape() as tape:
        value = loss(tf.constant(f32(y_true)), yp)
    g = tape.gradient(value, yp)
    return dict(name=name, config=loss.get_config(), targets=flat(y_true), target_shape=list(np.shape(y_true)),
                predictions=flat(y_pred), prediction_shape=list(np.shape(y_pred)),
                value=float(np.float32(value)), gradient=flat(g))


def main(out):
    cases = []
    for act in ["relu", "sigmoid", "tanh", "softmax", "linear"]:
        cases.append(layer_case(f"dense_{act}", layers.Dense(4, activation=act), rng.normal(size=(3, 5))))
    cases.append(layer_case("conv2d_relu", layers.Conv2D(4, 3, activation="relu"), rng.normal(size=(2, 6, 5, 3))))
    cases.append(layer_case("conv2d_linear_k2x3", layers.Conv2D(2, (2, 3)), rng.normal(size=(2, 4, 5, 2))))
    cases.append(layer_case("max_pooling2d", layers.MaxPooling2D(2), rng.normal(size=(2, 5, 5, 3))))
    cases.append(layer_case("conv1d_relu", layers.Conv1D(4, 3, activation="relu"), rng.normal(size=(2, 12, 3))))
    cases.append(layer_case("max_pooling1d", layers.MaxPooling1D(5), rng.normal(size=(2, 11, 3))))
    cases.append(layer_case("global_max_pooling1d", layers.GlobalMaxPooling1D(), rng.normal(size=(2, 7, 3))))
    ids = np.array([[1, 3, 3, 0, 6, 3], [2, 2, 5, 1, 1, 4]])  # repeated ids; row 0 and 6 used once
    cases.append(layer_case("embedding", layers.Embedding(8, 3), ids, integer_input=True))
    cases.append(layer_case("lstm", layers.LSTM(3), rng.normal(size=(2, 5, 4))))
    for act in ["relu", "sigmoid", "tanh", "softmax"]:
        cases.append(layer_case(f"activation_{act}", layers.Activation(act), rng.normal(size=(3, 4))))

    losses = []
    yt = f32(rng.normal(size=(4, 2)))
    yp = f32(rng.normal(size=(4, 2)))
    losses.append(loss_case("mean_absolute_error", keras.losses.MeanAbsoluteError(), yt, yp))
    losses.append(loss_case("mean_squared_error", keras.losses.MeanSquaredError(), yt, yp))
    bt = f32(rng.randint(0, 2, size=(5, 1)))
    bp = f32([[0.1], [0.7], [0.5], [1e-9], [0.999]])
    losses.append(loss_case("binary_crossentropy", keras.losses.BinaryCrossentropy(), bt, bp))
    logits = rng.normal(size=(3, 4))
    probs = f32(np.exp(logits) / np.exp(logits).sum(1, keepdims=True))
    onehot = f32(np.eye(4)[[0, 2, 3]])
    losses.append(loss_case("categorical_crossentropy", keras.losses.CategoricalCrossentropy(), onehot, probs))
    unnormalised = f32(rng.uniform(0.1, 1.0, size=(3, 4)))
    losses.append(loss_case("categorical_crossentropy_unnormalised", keras.losses.CategoricalCrossentropy(),
                            onehot, unnormalised))
    losses.append(loss_case("sparse_categorical_crossentropy", keras.losses.SparseCategoricalCrossentropy(),
                            f32([[0], [2], [3]]), probs))

    doc = dict(generator="tools/reference/make_layer_reference.py", keras_version=keras.__version__,
               tensorflow_version=tf.__version__, numpy_version=np.__version__,
               description="L = sum(upstream * layer(input)); gradients from tf.GradientTape; weights in Keras's get_weights() order",
               layers=cases, losses=losses)
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=None, separators=(",", ":"))
        fh.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
