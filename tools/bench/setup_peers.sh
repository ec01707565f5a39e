#!/usr/bin/env bash
# Creates a Python environment with Keras 3 on TensorFlow (CPU) for optilog-bench's --keras.
# usage: tools/bench/setup_peers.sh [VENV_DIR]   (default .build-peers/venv; ~600 MB from PyPI)
set -euo pipefail
venv=${1:-.build-peers/venv}
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet tensorflow-cpu keras
"$venv/bin/python" -c "import keras, tensorflow as tf; print('keras', keras.__version__, 'tensorflow', tf.__version__)"
echo "then: .build/release/optilog-bench --keras $venv/bin/python"
