#!/usr/bin/env bash
# Set up a virtual environment with the project and its test tools, and seed the keras
# weight cache from ../shared/weights when that folder exists (machines without internet).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
SHARED=${TL_SHARED:-$(cd .. && pwd)/shared}
if [ -d "$SHARED/weights" ]; then
  models="${KERAS_HOME:-$HOME/.keras}/models"
  mkdir -p "$models"
  for f in "$SHARED"/weights/*.h5; do
    [ -e "$models/$(basename "$f")" ] || cp "$f" "$models/"
  done
  echo "keras weight cache seeded from $SHARED/weights -> $models"
fi
