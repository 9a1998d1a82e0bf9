#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
