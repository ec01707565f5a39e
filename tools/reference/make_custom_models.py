"""Your-own-model fixtures and Keras references for optilog's tests and README example.

From the data optilog already ships in fixtures/ (made from registry packages by
tools/fixtures/make_fixtures.py), three small problems, each with a Keras 3 model:
  mlp   Boston housing, standardized, Dense(32, relu) → Dense(16, relu) → Dense(1), MAE
  cnn   the 28×28 digits, 600 train / 200 validation, Conv2D(8, 3, same) → MaxPool → Conv2D(16, 3,
        same, strides 2) → AveragePooling2D → Flatten → Dense(10, softmax), categorical cross-entropy
  lstm  JFK hourly weather, 24-hour windows of 4 standardized features → next hour's temperature,
        LSTM(16, return_sequences) → LSTM(8) → Dense(1), MSE
And builtin/{boston,fashion_mnist,imdb,jena}.json: the study's four networks as a user would write
them in Keras, to show that a user's model of a built-in shape is the built-in model (same layers,
fused stages and kernels: the same bits and speed).
For each of the three: the model's JSON (model.to_json()) (for cnn and lstm also a compiled .keras
file holding the initial weights), its initial weights (np.savez of get_weights()), the
data (np.savez: x_train, y_train, x_val, y_val), and Keras's fit history with shuffle=False for
3 epochs with Adam and with SGD (batch 32) from those weights: per-epoch loss, val_loss, metric.

usage (from the repository root):
  KERAS_BACKEND=tensorflow .build-peers/venv/bin/python tools/reference/make_custom_models.py fixtures/custom
"""
import csv
import gzip
import io
import json
import os
import pathlib
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import numpy as np
import keras
from keras import layers

root = pathlib.Path(__file__).resolve().parent.parent.parent
fixtures = root / "fixtures"


def idx(path):
    data = gzip.decompress(path.read_bytes())
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data[4 + 4 * dims:], np.uint8).reshape(shape)


def standardize(train, val):
    mean, std = train.mean(axis=0), train.std(axis=0)
    std[std == 0] = 1
    return ((train - mean) / std).astype(np.float32), ((val - mean) / std).astype(np.float32)


def boston():
    rows = list(csv.reader(io.StringIO((fixtures / "boston_house_prices.csv").read_text())))
    table = np.array(rows[1:], np.float64)
    x, y = table[:, :13], table[:, 13:14].astype(np.float32)
    x_train, x_val = standardize(x[:404], x[404:])
    return x_train, y[:404], x_val, y[404:]


def digits():
    images = idx(fixtures / "digits-28x28-train-images-idx3-ubyte.gz").astype(np.float32) / 255
    labels = idx(fixtures / "digits-28x28-train-labels-idx1-ubyte.gz")
    x = images[:800, :, :, None]
    y = np.eye(10, dtype=np.float32)[labels[:800]]
    return x[:600], y[:600], x[600:], y[600:]


def weather():
    rows = list(csv.reader(io.StringIO(gzip.decompress((fixtures / "nycflights13-weather-jfk-hourly.csv.gz").read_bytes()).decode())))
    table = np.array([[float(v) for v in r[1:5]] for r in rows[1:]], np.float64)[:1200]
    train, val = standardize(table[:900], table[900:])
    def windows(series):
        xs = np.stack([series[i:i + 24] for i in range(0, len(series) - 24, 3)])
        ys = np.array([series[i + 24, 1] for i in range(0, len(series) - 24, 3)], np.float32)[:, None]
        return xs.astype(np.float32), ys
    (x_train, y_train), (x_val, y_val) = windows(train), windows(val)
    return x_train, y_train, x_val, y_val


def models():
    keras.utils.set_random_seed(20261202)
    mlp = keras.Sequential([keras.Input((13,)), layers.Dense(32, activation="relu"), layers.Dense(16, activation="relu"), layers.Dense(1)],
                           name="boston_mlp")
    cnn = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, padding="same", activation="relu"), layers.MaxPooling2D(2),
                            layers.Conv2D(16, 3, strides=2, padding="same", activation="relu"), layers.AveragePooling2D(2),
                            layers.Flatten(), layers.Dense(10, activation="softmax")], name="digits_cnn")
    lstm = keras.Sequential([keras.Input((24, 4)), layers.LSTM(16, return_sequences=True), layers.LSTM(8), layers.Dense(1)],
                            name="weather_lstm")
    return [("mlp", mlp, boston(), "mae", "mae"), ("cnn", cnn, digits(), "categorical_crossentropy", "accuracy"),
            ("lstm", lstm, weather(), "mse", "mae")]


def builtin():
    return {
        "boston": keras.Sequential([keras.Input((13,)), layers.Dense(64, activation="relu"), layers.Dense(64, activation="relu"),
                                    layers.Dense(1)]),
        "fashion_mnist": keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                                           layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
                                           layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")]),
        "imdb": keras.Sequential([keras.Input((500,), dtype="int32"), layers.Embedding(10000, 128), layers.Conv1D(32, 7, activation="relu"),
                                  layers.MaxPooling1D(5), layers.Conv1D(32, 7, activation="relu"), layers.GlobalMaxPooling1D(),
                                  layers.Dense(1, activation="sigmoid")]),
        "jena": keras.Sequential([keras.Input((120, 14)), layers.LSTM(32), layers.Dense(1)]),
    }


def main(out):
    out = pathlib.Path(out)
    (out / "builtin").mkdir(parents=True, exist_ok=True)
    reference = {"keras": keras.__version__, "backend": keras.backend.backend(), "epochs": 3, "batch_size": 32, "cases": {}}
    for name, model, (x_train, y_train, x_val, y_val), loss, metric in models():
        (out / f"{name}.json").write_text(model.to_json())
        weights = [np.asarray(w, np.float32) for w in model.get_weights()]
        np.savez(out / f"{name}-weights.npz", *weights)
        if name in ("cnn", "lstm"):
            # The same model and initial weights as a compiled .keras file (config.json with its
            # compile() settings, model.weights.h5).
            saved = keras.models.model_from_json(model.to_json())
            saved.set_weights(weights)
            saved.compile(optimizer="adam", loss=loss, metrics=[metric])
            saved.save(out / f"{name}.keras")
        np.savez_compressed(out / f"{name}-data.npz", x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val)
        runs = {}
        for optimizer in ["adam", "sgd"]:
            clone = keras.models.model_from_json(model.to_json())
            clone.set_weights(weights)
            clone.compile(optimizer=optimizer, loss=loss, metrics=[metric])
            history = clone.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=3, batch_size=32, shuffle=False, verbose=0)
            runs[optimizer] = {k: [float(v) for v in vs] for k, vs in history.history.items()}
        reference["cases"][name] = {"loss": loss, "metric": metric, "train": len(x_train), "validation": len(x_val), "runs": runs}
        print(name, {o: [round(v, 5) for v in r["loss"]] for o, r in runs.items()})
    (out / "keras_fit_reference.json").write_text(json.dumps(reference, indent=1) + "\n")
    keras.backend.clear_session()  # layer names from dense, conv2d, … again
    for name, model in builtin().items():
        (out / "builtin" / f"{name}.json").write_text(model.to_json())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(fixtures / "custom"))
