#!/usr/bin/env bash
# Set up a virtual environment with the project and its test tools, and seed the keras
# weight cache from ../shared/weights when that folder exists (machines without internet).
# Installs the tested versions pinned in constraints.txt into .venv (TensorFlow for the CPU;
# TL_GPU=1 installs the GPU build instead). TL_LATEST=1 installs
# the latest releases instead (no constraints, upgraded each run) into .venv-latest:
#   TL_LATEST=1 bash scripts/setup.sh && .venv-latest/bin/python -m pytest -q -rs -n 2 --dist loadfile
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ "${TL_LATEST:-0}" = 1 ]; then
  VENV=.venv-latest; PINS=(--upgrade --upgrade-strategy eager)
else
  VENV=.venv; PINS=(-c constraints.txt)
fi
if [ ! -x "$VENV/bin/python" ]; then "$PY" -m venv "$VENV"; fi
"$VENV/bin/python" -m pip install -q --upgrade pip
# TensorFlow by extra: [cpu] (tensorflow-cpu, no CUDA download) or, with TL_GPU=1, [gpu]
# (tensorflow[and-cuda], for a machine with an NVIDIA GPU and driver).
TF_EXTRA=cpu; if [ "${TL_GPU:-0}" = 1 ]; then TF_EXTRA=gpu; fi
"$VENV/bin/python" -m pip install -q "${PINS[@]}" -e ".[$TF_EXTRA,test]"
SHARED=${TL_SHARED:-$(cd .. && pwd)/shared}
if [ -d "$SHARED/weights" ]; then
  models="${KERAS_HOME:-$HOME/.keras}/models"
  mkdir -p "$models"
  for f in "$SHARED"/weights/*.h5; do
    [ -e "$models/$(basename "$f")" ] || cp "$f" "$models/"
  done
  echo "keras weight cache seeded from $SHARED/weights -> $models"
fi
