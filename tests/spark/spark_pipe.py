#!/usr/bin/env python3
"""Checks the Spark recipe of docs/cluster.md for real: Spark in local mode links a Parquet
corpus with `RDD.pipe` through `tailor link - --out -`, and the union of its partitions' output
must equal a single-process `tailor link` over the same files, document for document.

    python3 tests/spark/spark_pipe.py --tailor target/debug/tailor --kb kb/default

Needs `pip install pyspark` and Java 17. Exits non-zero, saying why, on any difference.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile


def corpus_rows(root):
    rows = []
    for path in sorted(glob.glob(os.path.join(root, "*.txt"))):
        name = os.path.basename(path)[:-4]
        with open(path, encoding="utf-8") as f:
            paras = [p.strip() for p in f.read().split("\n") if p.strip()]
        rows += [(f"{name}-{i}", p) for i, p in enumerate(paras)]
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tailor", required=True)
    ap.add_argument("--kb", default="kb/default")
    ap.add_argument("--corpus", default="examples/corpus")
    ap.add_argument("--partitions", type=int, default=3)
    args = ap.parse_args()
    tailor = os.path.abspath(args.tailor)
    kb = os.path.abspath(args.kb)

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("tailor-link-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(args.partitions))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    work = tempfile.mkdtemp(prefix="tailor-spark-")
    corpus = os.path.join(work, "corpus")
    rows = corpus_rows(args.corpus)
    spark.createDataFrame(rows, "id string, text string").repartition(
        args.partitions
    ).write.parquet(corpus)

    # The reference: one process over the Parquet files Spark wrote.
    single = os.path.join(work, "single.jsonl")
    parts = sorted(glob.glob(os.path.join(corpus, "*.parquet")))
    subprocess.run(
        [tailor, "-q", "link", "--prior-only", "--kb", kb, *parts, "--out", single], check=True
    )
    with open(single, encoding="utf-8") as f:
        expected = {d["id"]: d for d in map(json.loads, f)}

    # The recipe: each partition's rows as JSON lines through one tailor process.
    command = f"{tailor} -q link --prior-only --kb {kb} - --out -"
    df = spark.read.parquet(corpus).select("id", "text")
    lines = df.rdd.map(lambda row: json.dumps(row.asDict(recursive=True)))
    piped = lines.pipe(command).collect()
    got = {}
    for line in piped:
        d = json.loads(line)
        if d["id"] in got:
            sys.exit(f"document {d['id']} was linked twice")
        got[d["id"]] = d
    spark.stop()

    if set(got) != set(expected):
        sys.exit(
            f"documents differ: {len(set(expected) - set(got))} missing, "
            f"{len(set(got) - set(expected))} extra"
        )
    differing = [i for i in expected if expected[i] != got[i]]
    if differing:
        sys.exit(f"{len(differing)} documents differ, e.g. {differing[0]}")
    mentions = sum(len(d["mentions"]) for d in got.values())
    if len(rows) != len(got) or mentions == 0:
        sys.exit(f"expected {len(rows)} documents with mentions, got {len(got)}, {mentions}")
    print(f"spark pipe: {len(got)} documents, {mentions} mentions, equal to one process")


if __name__ == "__main__":
    main()
