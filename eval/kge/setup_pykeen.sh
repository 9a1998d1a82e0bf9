#!/usr/bin/env bash
# Installs the PyKEEN peer into .cache/pykeen-venv (PyPI only; about 3 GB with torch) and prints
# the interpreter to pass as PYKEEN_PYTHON to eval/kge/bench.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${PYKEEN_VENV:-.cache/pykeen-venv}
if ! "$VENV/bin/python" -c "import pykeen, torch" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r eval/kge/requirements-pykeen.txt
fi
echo "$VENV/bin/python"
