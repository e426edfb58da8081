"""The fusion network with its defaults against linear models, on three cases.

Each case runs every model on the same folds and prints its score beside the
best logistic regression on a single modality (the baseline), as a difference
in points (100 x score difference; the issue's target is >= -0.5):

- ``digits``: ``load_mfeat`` (2,000 handwritten digits, 6 modalities),
  StratifiedKFold(10, shuffle=True, random_state=0), accuracy (target >= 0.988);
- ``embedding``: a strong wide embedding beside weak narrow tabular columns,
  ``make_multimodal_classification(20_000, {"embedding": 384, "tabular": 6},
  n_informative=8, signal={"embedding": 3.0, "tabular": 0.9}, random_state=0)``,
  StratifiedKFold(5, shuffle=True, random_state=0), ROC AUC;
- ``small``: 40 rows of two modalities (120 pure-noise columns + 21 columns
  that carry the label), ``make_multimodal_classification(40, {"wide": 120,
  "narrow": 21}, n_informative=2, signal={"wide": 0.0, "narrow": 10.0},
  random_state=0)``, RepeatedStratifiedKFold(5, 10 repeats, random_state=0),
  accuracy.

Models: logistic regression (StandardScaler + LogisticRegression) on each
modality alone, early fusion (``FeatureFusion`` + logistic regression), late
fusion (``StackingLateFusion`` of per-modality logistic regressions) and
``IntermediateFusionClassifier`` with its defaults. ``--ablation`` adds the
network with one default changed at a time: ``linear_skip=True`` (a linear
path from each modality to the output, wide-and-deep style) and
``early_stopping=False`` (the training of the defaults before early stopping:
all rows, ``max_epochs`` epochs).

Last, the time per training epoch of the network against a hand-written torch
loop over the same module (``bench_nn.bench_overhead``; target ratio <= 1.1).

torch and BLAS run on one thread on every side (``--threads``).

Usage::

    python benchmarks/bench_network.py                 # full run
    python benchmarks/bench_network.py --quick         # 5,000 rows in "embedding", 3 repeats in "small"
    python benchmarks/bench_network.py --case small --ablation
"""

import argparse
import time
import warnings

import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    RepeatedStratifiedKFold,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skfusion import FeatureFusion, SmallDataWarning, StackingLateFusion
from skfusion.datasets import load_mfeat, make_multimodal_classification
from skfusion.nn import IntermediateFusionClassifier

CASES = ("digits", "embedding", "small")


def _case(name, quick):
    """``(X, y, modalities, cv, scoring)`` of one case."""
    if name == "digits":
        bunch = load_mfeat()
        cv = StratifiedKFold(10, shuffle=True, random_state=0)
        return bunch.data, bunch.target, bunch.modalities, cv, "accuracy"
    if name == "embedding":
        X, y, modalities = make_multimodal_classification(
            5_000 if quick else 20_000, {"embedding": 384, "tabular": 6}, n_informative=8,
            signal={"embedding": 3.0, "tabular": 0.9}, random_state=0,
        )
        return X, y, modalities, StratifiedKFold(5, shuffle=True, random_state=0), "roc_auc"
    X, y, modalities = make_multimodal_classification(
        40, {"wide": 120, "narrow": 21}, n_informative=2,
        signal={"wide": 0.0, "narrow": 10.0}, random_state=0,
    )
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=3 if quick else 10, random_state=0)
    return X, y, modalities, cv, "accuracy"


def _logistic():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def _networks(modalities, ablation):
    rows = [("network, defaults", IntermediateFusionClassifier(modalities, device="cpu"))]
    if ablation:
        changes = [
            ("  ablation: linear_skip=True", {"linear_skip": True}),
            ("  ablation: early_stopping=False", {"early_stopping": False}),
        ]
        rows += [(label, IntermediateFusionClassifier(modalities, device="cpu", **params))
                 for label, params in changes]
    return rows


def bench_case(name, quick, ablation):
    X, y, modalities, cv, scoring = _case(name, quick)
    n_folds = cv.get_n_splits()
    print(f"\n{name}: X {X.shape}, modalities "
          f"{ {m: len(c) for m, c in modalities.items()} }, {type(cv).__name__} "
          f"({n_folds} fits), {scoring}")
    rows = [(f"logistic on {m!r} alone", _logistic(), cols) for m, cols in modalities.items()]
    rows += [
        ("early: FeatureFusion + logistic",
         make_pipeline(FeatureFusion(modalities, transformers=StandardScaler()),
                       LogisticRegression(max_iter=2000)), None),
        ("late: StackingLateFusion(logistic)", StackingLateFusion(_logistic(), modalities), None),
    ]
    rows += [(label, net, None) for label, net in _networks(modalities, ablation)]
    results = []
    for label, estimator, cols in rows:
        start = time.process_time()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SmallDataWarning)
            scores = cross_val_score(estimator, X if cols is None else X[:, cols], y, cv=cv,
                                     scoring=scoring)
        small = any(w.category is SmallDataWarning for w in caught)
        results.append((label, scores, (time.process_time() - start) / n_folds, small))
    baseline = max(scores.mean() for label, scores, _, _ in results[: len(modalities)])
    print(f"   {'':40s} {scoring:>9s} {'std':>7s} {'vs best single':>15s} {'CPU s/fit':>10s}")
    for label, scores, seconds, small in results:
        note = "  (SmallDataWarning)" if small else ""
        print(f"   {label:40s} {scores.mean():9.4f} {scores.std():7.4f} "
              f"{100 * (scores.mean() - baseline):+15.2f} {seconds:10.2f}{note}")
    net = results[len(modalities) + 2][1].mean()
    verdict = "met" if 100 * (net - baseline) >= -0.5 else "NOT met"
    print(f"   network with defaults - best single-modality logistic = "
          f"{100 * (net - baseline):+.2f} points (target >= -0.5: {verdict})")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rows and repeats")
    parser.add_argument("--ablation", action="store_true", help="one default changed at a time")
    parser.add_argument("--case", choices=CASES, action="append", help="run only these cases")
    parser.add_argument("--no-timing", action="store_true", help="skip the per-epoch timing")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} torch/BLAS thread(s)"
          f"{' (quick run)' if args.quick else ''}")
    with threadpool_limits(args.threads):
        for name in args.case or CASES:
            bench_case(name, args.quick, args.ablation)
        if not args.no_timing:
            from bench_nn import bench_overhead

            bench_overhead(args.quick)


if __name__ == "__main__":
    main()
