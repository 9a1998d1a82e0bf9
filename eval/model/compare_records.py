#!/usr/bin/env python3
"""Compares models by the records `tailor eval --records` writes, NIL apart from disambiguation.

The in-KB F1 that `tailor eval` prints counts a mention the model leaves NIL as a miss but not as
a false link, so a model that abstains more gains precision; how much the shipped NIL threshold
abstains swings with the training seed (55 to 220 of 1,230 in-KB mentions over three seeds).
This prints, per records file, the accuracy of the argmax candidate (NIL aside), the NIL count
and the accuracy with NIL counted wrong, per benchmark and over all in-KB gold mentions, so a
change is judged on which candidate it picks.

    python3 eval/model/compare_records.py base=runs/base-*.records.jsonl new=runs/new-*.records.jsonl

Each argument is NAME=GLOB; the files of one name (one per seed) are averaged on a last line.
"""

import glob
import json
import sys
from collections import defaultdict


def score(path, system):
    """{benchmark or 'all': [argmax right, NIL, linked right, in-KB mentions]} of one file."""
    out = defaultdict(lambda: [0, 0, 0, 0])
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if not r.get("gold_in_kb"):
                continue
            gold = r["gold"]["id"]
            p = dict(r["predictions"])[system]
            scores = p["scores"]
            best = max(range(len(scores)), key=scores.__getitem__) if scores else None
            argmax_right = best is not None and r["candidates"][best]["entity"] == gold
            for key in (r["benchmark"], "all"):
                row = out[key]
                row[0] += argmax_right
                row[1] += p["entity"] is None
                row[2] += p["entity"] == gold
                row[3] += 1
    return out


def line(label, table):
    cells = []
    for key in sorted(table, key=lambda k: (k == "all", k)):
        right, nil, linked, n = table[key]
        cells.append(f"{key} {100 * right / n:.1f}")
    right, nil, linked, n = table["all"]
    return f"{label:24} argmax acc: {'  '.join(cells)}  | NIL {nil}/{n}, acc {100 * linked / n:.1f}"


def main(args):
    system = "model"
    if args and args[0].startswith("--system="):
        system, args = args[0].split("=", 1)[1], args[1:]
    if not args:
        sys.exit(__doc__)
    for arg in args:
        name, _, pattern = arg.partition("=")
        files = sorted(glob.glob(pattern))
        if not files:
            sys.exit(f"{arg}: no records file matches")
        total = defaultdict(lambda: [0, 0, 0, 0])
        for path in files:
            table = score(path, system)
            print(line(f"{name} {path.rsplit('/', 1)[-1]}", table))
            for key, row in table.items():
                total[key] = [a + b for a, b in zip(total[key], row)]
        print(line(f"{name} (all {len(files)})", total))


if __name__ == "__main__":
    main(sys.argv[1:])
