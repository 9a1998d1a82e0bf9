#!/usr/bin/env bash
# Ingest throughput on Wikidata JSON and load time of the default KB.
#
# The 100-entity real sample (10 MB) is repeated to about SIZE_MB megabytes, each copy's entity ids
# shifted so they stay unique, and ingested by `tailor ingest --wikidata`. Prints MB/s and
# entities/s of the whole command (read, parse, merge, write the store), then the default KB's
# load time and peak resident memory (`tailor kb stats`).
#
#   eval/ingest/bench.sh [SIZE_MB]        (default 1000)
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mb=${1:-1000}
work=${BENCH_DIR:-out/bench-ingest}
mkdir -p "$work"
dump="$work/wikidata-${size_mb}mb.json"
sample=../shared/data/wikidata/sample_wikidata_items.json

if [ ! -f "$dump" ]; then
  python3 - "$sample" "$dump" "$size_mb" <<'PY'
import json, sys
sample, out, size_mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
records = [l.rstrip().rstrip(",") for l in open(sample, encoding="utf-8")]
records = [json.loads(r) for r in records if r not in ("[", "]", "")]
copies = max(1, size_mb * 1024 * 1024 // sum(len(json.dumps(r)) for r in records))
with open(out, "w", encoding="utf-8") as f:
    f.write("[\n")
    for k in range(copies):
        for r in records:
            r = dict(r, id=f"{r['id'][0]}{int(r['id'][1:]) * 100000 + k}")
            f.write(json.dumps(r, ensure_ascii=False) + ",\n")
    f.write("]\n")
PY
fi

cargo build --release --quiet
bin=target/release/tailor
bytes=$(stat -c %s "$dump")
start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/ingest.rss" "$bin" -q ingest --wikidata "$dump" --out "$work/kb"
end=$(date +%s.%N)
entities=$("$bin" -q kb stats "$work/kb" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["entities"])')
python3 - "$bytes" "$start" "$end" "$entities" "$(cat "$work/ingest.rss")" <<'PY'
import sys
b, s, e, n, rss = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
t = e - s
print(f"ingest: {b/1e6:.0f} MB in {t:.1f} s = {b/1e6/t:.1f} MB/s, {n/t:,.0f} entities/s "
      f"(entities in store incl. referenced: {n:,}); peak RSS {rss/1024:.0f} MiB")
PY

for i in 1 2 3; do
  /usr/bin/time -f "load default KB: %e s wall, peak RSS %M KiB" "$bin" -q kb stats kb/default >/dev/null
done
