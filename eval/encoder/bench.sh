#!/usr/bin/env bash
# Encoder throughput, tailor (candle) beside sentence-transformers (PyTorch), same machine,
# same texts, same thread count. Prints JSON lines; run from the repository root:
#     eval/encoder/bench.sh [PYTHON_WITH_SENTENCE_TRANSFORMERS]
# tailor is built in release for this (the dev profile optimizes candle too, but a figure should
# come from the build users run). Set RAYON_NUM_THREADS to fix the thread count (default: all).
set -euo pipefail
python=${1:-python3}
texts=$(mktemp --suffix=.txt)
trap 'rm -f "$texts"' EXIT

# TAILOR_BIN overrides the binary (e.g. a dev build, whose numeric crates are optimized too).
if [[ -z "${TAILOR_BIN:-}" ]]; then
    cargo build --release --quiet
    TAILOR_BIN=${CARGO_TARGET_DIR:-target}/release/tailor
fi
"$TAILOR_BIN" fetch-encoder --quiet >/dev/null
python3 eval/encoder/bench_texts.py "$texts"
"$TAILOR_BIN" encode-bench --quiet --texts "$texts" "${@:2}"
if "$python" -c "import sentence_transformers" 2>/dev/null; then
    "$python" eval/encoder/bench_reference.py "$texts" "${@:2}" 2>/dev/null
else
    echo "sentence-transformers not importable by $python: reference skipped" >&2
fi
