"""Writes the benchmark texts: one per line, each long enough to fill 128 tokens.

Texts come from the Reuters-128 gold benchmark (real news prose): document i joined with the
documents after it until the text passes 1,200 characters, so truncation makes every input
exactly as long as the measured token count. Standard library only.
"""

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCE = ROOT / "../shared/data/eval/elevant/reuters-128.benchmark.jsonl"


def main(out):
    docs = [json.loads(line)["text"] for line in SOURCE.read_text().splitlines() if line.strip()]
    docs = [" ".join(d.split()) for d in docs]
    lines = []
    for i in range(len(docs)):
        parts, j = [], i
        while sum(len(p) + 1 for p in parts) < 1200:
            parts.append(docs[j % len(docs)])
            j += 1
        lines.append(" ".join(parts))
    pathlib.Path(out).write_text("\n".join(lines) + "\n")
    print(f"wrote {out}: {len(lines)} texts", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
