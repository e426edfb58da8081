"""skfusion.nn: time to predict ONE row, and whether it depends on ``batch_size``.

For each network (an ``IntermediateFusionClassifier`` with ``fusion="concat"``
and ``fusion="attention"``, and a ``ContrastiveAlignment``), fitted once on
CPU, prints the time of ``predict_proba`` (``transform`` for the alignment) on
one row, with the model's ``batch_size`` at 128 and then at ``2**20`` (the
same fitted model, ``set_params`` in between), and the ratio of the two.
Inference should not depend on the training batch size (target: <= 5 ms at
both). Baseline in the same run: the bare torch module's forward pass on the
same row under ``torch.no_grad()``, i.e. what a hand-written loop would pay.

torch and BLAS run on one thread (``--threads``) on every side; times are the
median of ``--repeats`` calls after two warm-up calls.

Usage::

    python benchmarks/bench_nn_latency.py
"""

import argparse
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from skfusion.nn import ContrastiveAlignment, IntermediateFusionClassifier


def _synthetic(n_samples, widths, seed=0):
    rng = np.random.default_rng(seed)
    blocks = [rng.standard_normal((n_samples, w)) for w in widths]
    y = ((blocks[0][:, 0] * blocks[1][:, 0] + 0.5 * blocks[1][:, 1]) > 0).astype(np.int64)
    starts = np.cumsum([0, *widths])
    modalities = {f"m{i}": list(range(starts[i], starts[i + 1])) for i in range(len(widths))}
    return np.concatenate(blocks, axis=1), y, modalities


def _median_seconds(call, repeats):
    for _ in range(2):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _bare_forward(estimator, row):
    """The torch module on one row, data already standardised: the floor."""
    module = estimator.net_.module_ if hasattr(estimator, "net_") else estimator.module_
    module.eval()
    x = torch.zeros((1, row.shape[1]), dtype=torch.float32)
    present = torch.ones((1, 2), dtype=torch.bool)

    def call():
        with torch.no_grad():
            return module(x, present) if hasattr(estimator, "net_") else None

    return call


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    X, y, modalities = _synthetic(2000, (16, 112))
    row = X[:1]
    print(f"torch {torch.__version__}, {args.threads} thread(s); one-row latency, model fitted "
          f"on {X.shape[0]} x {X.shape[1]} (2 modalities); median of {args.repeats} calls")
    print(f"   {'model':44s} {'bs=128 ms':>10s} {'bs=2**20 ms':>12s} {'ratio':>7s} "
          f"{'bare module ms':>15s}")
    models = [
        ("IntermediateFusionClassifier(concat)", "predict_proba",
         IntermediateFusionClassifier(modalities, fusion="concat", max_epochs=1, batch_size=128,
                                      device="cpu", random_state=0)),
        ("IntermediateFusionClassifier(attention)", "predict_proba",
         IntermediateFusionClassifier(modalities, fusion="attention", max_epochs=1,
                                      batch_size=128, device="cpu", random_state=0)),
        ("ContrastiveAlignment", "transform",
         ContrastiveAlignment(modalities, max_epochs=1, batch_size=128, device="cpu",
                              random_state=0)),
    ]
    with threadpool_limits(args.threads):
        for name, method, estimator in models:
            if method == "predict_proba":
                estimator.fit(X, y)
            else:
                estimator.fit(X)
            small = _median_seconds(lambda: getattr(estimator, method)(row), args.repeats)
            estimator.set_params(batch_size=2**20)
            large = _median_seconds(lambda: getattr(estimator, method)(row), args.repeats)
            bare = _median_seconds(_bare_forward(estimator, row), args.repeats)
            bare_text = f"{1e3 * bare:15.3f}" if hasattr(estimator, "net_") else f"{'-':>15s}"
            print(f"   {name:44s} {1e3 * small:10.3f} {1e3 * large:12.3f} "
                  f"{large / small:7.2f} {bare_text}")
    print("   target: <= 5 ms at both batch sizes (ratio ~1)")


if __name__ == "__main__":
    main()
