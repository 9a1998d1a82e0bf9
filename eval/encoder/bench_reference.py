"""Throughput of the reference encoder (sentence-transformers on PyTorch, CPU) on the texts of
bench_texts.py, printed as JSON lines like `tailor encode-bench`.

    python bench_reference.py TEXTS [--tokens 32,128] [--batch 1,64] [--sentences 256]
Threads: torch.set_num_threads(RAYON_NUM_THREADS or the CPU count), the same count candle uses.
"""

import argparse
import json
import os
import pathlib
import time

import torch
from sentence_transformers import SentenceTransformer

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("texts")
    parser.add_argument("--encoder", default=str(ROOT / ".cache/encoder/all-MiniLM-L6-v2"))
    parser.add_argument("--tokens", default="32,128")
    parser.add_argument("--batch", default="1,64")
    parser.add_argument("--sentences", type=int, default=256)
    args = parser.parse_args()

    threads = int(os.environ.get("RAYON_NUM_THREADS") or os.cpu_count())
    torch.set_num_threads(threads)
    lines = [l for l in pathlib.Path(args.texts).read_text().splitlines() if l.strip()]
    texts = [lines[i % len(lines)] for i in range(args.sentences)]
    model = SentenceTransformer(args.encoder, device="cpu")
    for tokens in map(int, args.tokens.split(",")):
        model.max_seq_length = tokens
        for batch in map(int, args.batch.split(",")):
            model.encode(texts[:batch], batch_size=batch, normalize_embeddings=True)
            started = time.perf_counter()
            with torch.inference_mode():
                model.encode(texts, batch_size=batch, normalize_embeddings=True)
            secs = time.perf_counter() - started
            row = {
                "impl_name": f"sentence-transformers-{torch.__version__}",
                "tokens": tokens,
                "batch": batch,
                "sentences": len(texts),
                "secs": secs,
                "sentences_per_s": len(texts) / secs,
                "threads": threads,
            }
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
