#!/usr/bin/env bash
# Candidate lookup latency per mention, p50 and p99, exact and fuzzy, over the gold mention
# surfaces of the ELEVANT benchmarks (measuring only: nothing here tunes on them).
#
#   eval/retrieve/latency.sh [TAILOR_BINARY]     (default target/release/tailor)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/tailor}
mentions=$(mktemp)
python3 - "$mentions" ../shared/data/eval/elevant/{kore50,reuters-128,oke-2016-eval,derczynski,wiki-fair-v2}.benchmark.jsonl <<'PY'
import json, sys
out = open(sys.argv[1], "w", encoding="utf-8")
for path in sys.argv[2:]:
    for line in open(path, encoding="utf-8"):
        doc = json.loads(line)
        chars = doc["text"]
        for label in doc["labels"]:
            s, e = label["span"]
            out.write(chars[s:e].replace("\n", " ") + "\n")
PY
"$bin" -q candidates --latency "$mentions"
/usr/bin/time -f "resident memory of the loaded KB and alias index: %M KiB" \
  "$bin" -q candidates "Paris" >/dev/null
rm -f "$mentions"
