#!/usr/bin/env python3
"""Batch-linking throughput and memory: runs `tailor link` on a generated JSONL corpus (see
make_corpus.py) and samples its resident memory from /proc every 0.2 s.

    cargo build --release
    python3 eval/link/make_corpus.py --megabytes 100 --out /tmp/bench/corpus.jsonl
    python3 eval/link/bench_batch.py --corpus /tmp/bench/corpus.jsonl [-- --no-fuzzy]

Prints tailor's own summary (documents, tokens, mentions per second, MB/s) and the resident
memory once the KB is loaded (the first sample after linking starts), at the end, and its peak.
Arguments after `--` go to `tailor link`.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    ap = argparse.ArgumentParser()
    ap.add_argument("--tailor", default="target/release/tailor")
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", default=None, help="default: a temporary directory of parts")
    args = ap.parse_args(argv)
    work = tempfile.mkdtemp(prefix="tailor-bench-")
    out = args.out or os.path.join(work, "parts")
    log = os.path.join(work, "stderr.log")
    cmd = [args.tailor, "link", args.corpus, "--out", out, *extra]
    print("$", " ".join(cmd), flush=True)
    with open(log, "w") as err:
        t0 = time.time()
        proc = subprocess.Popen(cmd, stderr=err)
        samples = []
        while proc.poll() is None:
            r = rss_kb(proc.pid)
            if r:
                samples.append((time.time() - t0, r))
            time.sleep(0.2)
    wall = time.time() - t0
    text = open(log).read()
    # tailor's summary lines: what was linked, and (with the model) what the encoder did
    summary = [l for l in text.splitlines() if l.startswith(("linked ", "encoder: "))]
    print("\n".join(summary) if summary else "(no summary)")
    if proc.returncode != 0:
        print(text)
        sys.exit(proc.returncode)
    # The KB and retriever are loaded in the first seconds: the sample at 10% of the run is
    # "start" (linking under way), the last one "end".
    mid = [r for t, r in samples if t >= wall * 0.10]
    start = mid[0] if mid else samples[0][1]
    end = samples[-1][1]
    peak = max(r for _, r in samples)
    print(
        f"wall {wall:.1f}s; resident memory: start {start / 1024:.0f} MiB, "
        f"end {end / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB ({len(samples)} samples)"
    )
    quarter = [r for t, r in samples if t >= wall * 0.25]
    if quarter:
        print(
            f"from 25% of the run to its end: min {min(quarter) / 1024:.0f} MiB, "
            f"max {max(quarter) / 1024:.0f} MiB"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
