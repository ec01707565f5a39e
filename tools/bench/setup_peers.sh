#!/usr/bin/env bash
# Creates a Python environment with the peers optilog is measured against: Keras 3 on TensorFlow
# (CPU) for optilog-bench's --keras and peers.py, and MLflow for peers.py.
# usage: tools/bench/setup_peers.sh [VENV_DIR]   (default .build-peers/venv; ~800 MB from PyPI)
set -euo pipefail
venv=${1:-.build-peers/venv}
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet tensorflow-cpu keras mlflow
"$venv/bin/python" -c "import keras, tensorflow as tf, mlflow; print('keras', keras.__version__, 'tensorflow', tf.__version__, 'mlflow', mlflow.__version__)"
echo "then: .build/release/optilog-bench --keras $venv/bin/python   and   python3 tools/bench/peers.py --python $venv/bin/python"
