#!/usr/bin/env bash
# Creates a Python environment with the peers optilog is measured against: Keras 3 on TensorFlow
# (CPU) and on JAX (CPU) for optilog-bench's --keras and peers.py, PyTorch's CPU build for
# optilog-bench's --torch, and MLflow for peers.py.
# usage: tools/bench/setup_peers.sh [VENV_DIR]   (default .build-peers/venv; ~1.5 GB from PyPI and
# PyTorch's CPU index; PyPI's own torch wheel is the CUDA build, which pulls in gigabytes of CUDA)
set -euo pipefail
venv=${1:-.build-peers/venv}
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet tensorflow-cpu keras "jax[cpu]" mlflow
"$venv/bin/pip" install --quiet torch --index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple \
    || echo "setup_peers: PyTorch's CPU build did not install; optilog-bench --torch will report it as failed"
"$venv/bin/python" -c "import keras, tensorflow as tf, jax, mlflow; print('keras', keras.__version__, 'tensorflow', tf.__version__, 'jax', jax.__version__, 'mlflow', mlflow.__version__)"
"$venv/bin/python" -c "import torch; print('torch', torch.__version__)" || true
echo "then: .build/release/optilog-bench --keras $venv/bin/python --torch   and   python3 tools/bench/peers.py --python $venv/bin/python"
