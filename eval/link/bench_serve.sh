#!/usr/bin/env bash
# `tailor serve` under load from wrk on loopback only: p50/p99 latency and requests/s at 1, 8
# and 32 concurrent connections, each run bounded to DURATION seconds (default 10) with a 5 s
# request timeout. Needs `apt-get install wrk` and a release build.
#
#   bash eval/link/bench_serve.sh [target/release/tailor] [extra serve flags...]
set -euo pipefail
TAILOR=${1:-target/release/tailor}
shift || true
DURATION=${DURATION:-10}
PORT=${PORT:-18089}
ADDR=127.0.0.1:$PORT
HERE=$(cd "$(dirname "$0")" && pwd)
# Request bodies: the example articles' paragraphs, one document per request.
export BODIES=/tmp/tailor-bench-bodies.jsonl
python3 "$HERE/make_corpus.py" --unit paragraph --megabytes 0.02 --out "$BODIES" >/dev/null
echo "bodies: $(wc -l <"$BODIES") requests cycling over $(wc -c <"$BODIES") bytes"

"$TAILOR" -q serve --addr "$ADDR" "$@" 2>/tmp/tailor-bench-serve.log &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://$ADDR/health" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -sf "http://$ADDR/health"; echo
echo "rss_kb_start $(grep VmRSS /proc/$SERVER/status | awk '{print $2}')"
for c in 1 8 32; do
  threads=$(( c < 2 ? 1 : 2 ))
  echo "== $c connections, $threads wrk threads, ${DURATION}s"
  wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 5s -s "$HERE/serve_post.lua" \
    "http://$ADDR/link" | grep -E "RESULT|Non-2xx|Socket errors" || true
done
echo "rss_kb_end $(grep VmRSS /proc/$SERVER/status | awk '{print $2}')"
