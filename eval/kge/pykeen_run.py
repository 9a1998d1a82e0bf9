#!/usr/bin/env python3
"""Trains one PyKEEN model on TSV splits with the settings tailor is given, so `bench.sh` can put
the two side by side: training triples per second (median epoch) and filtered test metrics
(both directions, realistic ties, train + valid filtered), printed as one JSON line.

Usage: pykeen_run.py DATA_DIR --model TransE --dim 32 --epochs 20 --negatives 64 \
           --loss marginranking --margin 6 [--lr 0.01] [--batch-size 256] [--norm 1]
DATA_DIR holds train.txt, valid.txt and test.txt (head<TAB>relation<TAB>tail, CoDEx's layout).
"""
import argparse
import json
import os
import resource
import time


def read_split(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\r\n").split("\t") for line in f if line.strip()]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data")
    p.add_argument("--model", default="TransE")
    p.add_argument("--dim", type=int, default=32)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--negatives", type=int, default=64)
    p.add_argument("--loss", default="marginranking", help="marginranking | nssa | softplus")
    p.add_argument("--margin", type=float, default=6.0)
    p.add_argument("--temperature", type=float, default=1.0, help="nssa adversarial temperature")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--norm", type=int, default=1, help="TransE distance norm, 1 or 2")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    # libgomp spin-waits between parallel regions; on a shared 2-core machine that multiplies
    # epoch times, which would flatter tailor in the comparison.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
    import numpy as np
    import torch
    from pykeen.pipeline import pipeline
    from pykeen.training.callbacks import TrainingCallback
    from pykeen.triples import TriplesFactory
    from pykeen.version import get_version

    torch.set_num_threads(a.threads)
    splits = {s: read_split(os.path.join(a.data, f"{s}.txt")) for s in ("train", "valid", "test")}
    entities = sorted({x for rows in splits.values() for h, _, t in rows for x in (h, t)})
    relations = sorted({r for rows in splits.values() for _, r, _ in rows})
    e2i = {e: i for i, e in enumerate(entities)}
    r2i = {r: i for i, r in enumerate(relations)}
    factories = {
        s: TriplesFactory.from_labeled_triples(
            np.array(rows, dtype=str), entity_to_id=e2i, relation_to_id=r2i
        )
        for s, rows in splits.items()
    }

    class EpochClock(TrainingCallback):
        def __init__(self):
            super().__init__()
            self.marks = []

        def pre_step(self, **kwargs):
            if not self.marks:
                self.marks.append(time.perf_counter())

        def post_epoch(self, epoch, epoch_loss, **kwargs):
            self.marks.append(time.perf_counter())

    clock = EpochClock()
    model_kwargs = {"embedding_dim": a.dim}
    if a.model.lower() == "transe":
        model_kwargs["scoring_fct_norm"] = a.norm
    loss_kwargs = {"margin": a.margin} if a.loss in ("marginranking", "nssa") else {}
    if a.loss == "nssa":
        loss_kwargs["adversarial_temperature"] = a.temperature
    result = pipeline(
        training=factories["train"],
        validation=factories["valid"],
        testing=factories["test"],
        model=a.model,
        model_kwargs=model_kwargs,
        loss=a.loss,
        loss_kwargs=loss_kwargs,
        optimizer="Adam",
        optimizer_kwargs={"lr": a.lr},
        training_loop="sLCWA",
        negative_sampler="basic",
        negative_sampler_kwargs={"num_negs_per_pos": a.negatives},
        training_kwargs={
            "num_epochs": a.epochs,
            "batch_size": a.batch_size,
            "callbacks": [clock],
            "use_tqdm": False,
        },
        evaluator_kwargs={"filtered": True},
        evaluation_kwargs={
            "additional_filter_triples": [factories["valid"].mapped_triples],
            "batch_size": 256,
            "use_tqdm": False,
        },
        random_seed=a.seed,
        device="cpu",
    )
    epochs = np.diff(clock.marks)
    metric = result.metric_results.get_metric
    record = {
        "tool": f"pykeen {get_version()} / torch {torch.__version__}",
        "model": a.model,
        "dim": a.dim,
        "epochs": a.epochs,
        "negatives": a.negatives,
        "loss": a.loss,
        "threads": a.threads,
        "train_triples": len(splits["train"]),
        "seconds_per_epoch": float(np.median(epochs)),
        "triples_per_s": float(len(splits["train"]) / np.median(epochs)),
        "train_seconds": float(result.train_seconds),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "mrr": float(metric("both.realistic.inverse_harmonic_mean_rank")),
        "hits1": float(metric("both.realistic.hits_at_1")),
        "hits10": float(metric("both.realistic.hits_at_10")),
    }
    print(json.dumps(record))


if __name__ == "__main__":
    main()
