#!/usr/bin/env python3
"""Writes a JSONL benchmark corpus by repeating the example corpus (examples/corpus/*.txt).

Each example file (or, with --unit paragraph, each paragraph) becomes one document,
`{"id": "doc-N", "text": ...}`, and they are cycled until the corpus reaches --megabytes of text. The output is generated,
never committed.

    python3 eval/link/make_corpus.py --megabytes 100 --out /tmp/bench/corpus.jsonl
"""
import argparse
import glob
import json
import os


def texts(root, unit):
    for path in sorted(glob.glob(os.path.join(root, "*.txt"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if unit == "file":
            yield text.strip()
            continue
        for para in text.split("\n"):
            if para.strip():
                yield para.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="examples/corpus")
    ap.add_argument("--megabytes", type=float, default=100.0)
    ap.add_argument("--unit", choices=["file", "paragraph"], default="file")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    paras = list(texts(args.corpus, args.unit))
    target = int(args.megabytes * 1_000_000)
    written = docs = 0
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        while written < target:
            text = paras[docs % len(paras)]
            out.write(json.dumps({"id": f"doc-{docs}", "text": text}) + "\n")
            written += len(text.encode("utf-8"))
            docs += 1
    print(f"{docs} documents, {written} bytes of text -> {args.out}")


if __name__ == "__main__":
    main()
