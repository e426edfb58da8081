"""Fit/predict time and peak memory of skfusion at a million rows.

Data (generated, float32): ``--rows`` rows (default 1,000,000) x (16 tabular +
384 embedding) columns, a binary target linear in both modalities. Each case
runs in a fresh ``python`` subprocess that generates the data, fits, predicts
and reports its own peak resident memory (``resource.getrusage(RUSAGE_SELF)``),
so that peaks never mix. BLAS/OpenMP (and torch) are pinned to one thread in
every case, baseline included, and every fit uses ``n_jobs=None``.

Cases and the baseline each is compared with (same run, same data):

- ``branches`` (baseline): each modality's SGDClassifier fitted alone on its
  columns, ``X[:, columns]`` (fit times summed).
- ``vote``: WeightedVoteFusion of those branches with fixed (equal) weights,
  i.e. no out-of-fold fits. Target: fit <= 1.3x ``branches``.
- ``vote-learn``: the same with ``weights="learn"`` over ``--cv`` folds.
  Target: fit <= (cv + 1)x ``branches`` + 10%.
- ``stacking``: StackingLateFusion over ``--cv`` folds. Target: fit <=
  (cv + 1)x ``branches`` + 10%.
- ``early`` / ``scaled-sgd`` (its baseline): FeatureFusion + SGDClassifier
  against StandardScaler + SGDClassifier on all columns.
- ``intermediate``: IntermediateFusionClassifier for one epoch (torch, CPU);
  no baseline, time and memory only.

Memory target for every case: peak RSS <= 3x the size of X (the column
"w/o imports" also subtracts the interpreter and imported libraries, measured
before the data is generated; it matters only for small ``--rows``).

Usage::

    python benchmarks/bench_scale.py                 # full run (about 5 GB peak per case)
    python benchmarks/bench_scale.py --rows 20000    # smoke run
    python benchmarks/bench_scale.py --cases vote stacking --cv 3 --repeats 2

With ``--repeats`` the cases run interleaved; the fastest fit (and predict)
of each case counts, and its largest peak memory.
"""

import argparse
import json
import os
import subprocess
import sys
import time

N_TABULAR, N_EMBEDDING = 16, 384
CASES = ["branches", "vote", "vote-learn", "stacking", "scaled-sgd", "early", "intermediate"]
BASELINE_OF = {
    "vote": "branches", "vote-learn": "branches", "stacking": "branches", "early": "scaled-sgd",
}


# ------------------------------------------------------------------ worker side


def make_data(n_rows, seed=0):
    """X float32 (n_rows, 400) generated in place (no float64 temporaries), y binary."""
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, N_TABULAR + N_EMBEDDING), dtype=np.float32)
    w = rng.standard_normal(N_TABULAR + N_EMBEDDING).astype(np.float32)
    w[N_TABULAR:] *= np.sqrt(N_TABULAR / N_EMBEDDING)  # both modalities carry signal
    score = X @ w + rng.standard_normal(n_rows, dtype=np.float32) * 2.0
    y = (score > 0).astype(np.int64)
    modalities = {"tabular": list(range(N_TABULAR)),
                  "embedding": list(range(N_TABULAR, N_TABULAR + N_EMBEDDING))}
    return X, y, modalities


def sgd():
    from sklearn.linear_model import SGDClassifier

    # A fixed number of epochs (tol=None), so that every fit does the same work.
    return SGDClassifier(loss="log_loss", max_iter=3, tol=None, random_state=0)


def peak_rss_bytes():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def run_case(case, n_rows, cv):
    """Fit and predict one case; return its timings and memory."""
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore", ConvergenceWarning)
    threadpool_limits(1)
    model = None if case == "branches" else _model(case, {"a": [0]}, cv)  # imports, before the data
    rss_before_data = peak_rss_bytes()
    X, y, modalities = make_data(n_rows)

    if case == "branches":
        fit_s = predict_s = 0.0
        for columns in modalities.values():
            block = X[:, columns[0]:columns[-1] + 1]  # a view, as a user would slice
            model = sgd()
            start = time.perf_counter()
            model.fit(block, y)
            fit_s += time.perf_counter() - start
            start = time.perf_counter()
            model.predict_proba(block)
            predict_s += time.perf_counter() - start
        return _result(case, X, fit_s, predict_s, rss_before_data)

    model = _model(case, modalities, cv)
    start = time.perf_counter()
    model.fit(X, y)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    proba = model.predict_proba(X)
    predict_s = time.perf_counter() - start
    accuracy = float(np.mean(model.classes_[proba.argmax(axis=1)] == y))
    return _result(case, X, fit_s, predict_s, rss_before_data, accuracy)


def _model(case, modalities, cv):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import skfusion

    if case == "vote":
        return skfusion.WeightedVoteFusion(sgd(), modalities=modalities, weights=None)
    if case == "vote-learn":
        return skfusion.WeightedVoteFusion(sgd(), modalities=modalities, cv=cv)
    if case == "stacking":
        return skfusion.StackingLateFusion(sgd(), modalities=modalities, cv=cv)
    if case == "scaled-sgd":
        return make_pipeline(StandardScaler(), sgd())
    if case == "early":
        return make_pipeline(skfusion.FeatureFusion(modalities), sgd())
    if case == "intermediate":
        import torch

        from skfusion.nn import IntermediateFusionClassifier

        torch.set_num_threads(1)
        return IntermediateFusionClassifier(
            modalities, max_epochs=1, batch_size=1024, device="cpu", random_state=0
        )
    raise ValueError(f"unknown case {case!r}; choose from {CASES}")


def _result(case, X, fit_s, predict_s, rss_before_data, accuracy=None):
    return {
        "case": case, "fit_s": fit_s, "predict_s": predict_s, "data_bytes": X.nbytes,
        "rss_before_data": rss_before_data, "peak_rss": peak_rss_bytes(), "accuracy": accuracy,
    }


# ------------------------------------------------------------------ driver side


def _environment():
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    return env


def measure(case, n_rows, cv):
    """Run one case in a fresh interpreter, so that its peak memory is its own."""
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", case, "--rows", str(n_rows), "--cv", str(cv)],
        capture_output=True, text=True, env=_environment(),
    )
    if completed.returncode != 0:
        raise RuntimeError(f"case {case!r} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def target_text(case, cv):
    if case == "vote":
        return "fit <= 1.3x", 1.3
    if case in ("stacking", "vote-learn"):
        limit = (cv + 1) * 1.1
        return f"fit <= {limit:.1f}x", limit
    return "", None


def report(results, cv):
    gib = 1024**3
    data = next(iter(results.values()))["data_bytes"]
    print(f"X: {data / gib:.2f} GiB float32; BLAS/OpenMP/torch threads pinned to 1; cv={cv}")
    header = (f"{'case':<13}{'fit s':>9}{'predict s':>11}{'fit ratio':>11}{'baseline':>12}"
              f"{'peak GiB':>10}{'peak/X':>8}{'(w/o imports)':>14}{'accuracy':>10}  targets")
    print(header)
    print("-" * len(header))
    for case, res in results.items():
        base = BASELINE_OF.get(case)
        ratio = res["fit_s"] / results[base]["fit_s"] if base in results else None
        text, limit = target_text(case, cv)
        peak_ratio = res["peak_rss"] / res["data_bytes"]
        # the same, less the interpreter and imports measured before the data existed
        net_ratio = (res["peak_rss"] - res["rss_before_data"]) / res["data_bytes"]
        verdicts = []
        if limit is not None and ratio is not None:
            verdicts.append(f"{text}: {'ok' if ratio <= limit else 'MISSED'}")
        verdicts.append(f"peak <= 3x: {'ok' if peak_ratio <= 3 else 'MISSED'}")
        accuracy = "" if res["accuracy"] is None else f"{res['accuracy']:.3f}"
        print(f"{case:<13}{res['fit_s']:>9.2f}{res['predict_s']:>11.2f}"
              f"{'' if ratio is None else f'{ratio:.2f}x':>11}{base or '':>12}"
              f"{res['peak_rss'] / gib:>10.2f}{peak_ratio:>7.2f}x{net_ratio:>13.2f}x"
              f"{accuracy:>10}  "
              + "; ".join(verdicts))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--cases", nargs="+", choices=CASES, default=CASES)
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per case (each in a fresh process); the fastest counts")
    parser.add_argument("--worker", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run_case(args.worker, args.rows, args.cv)))
        return
    cases = list(args.cases)
    for case in list(cases):  # a ratio needs its baseline in the same run
        base = BASELINE_OF.get(case)
        if base and base not in cases:
            cases.insert(0, base)
    runs = {case: [] for case in cases}
    for repeat in range(args.repeats):  # interleaved, so that load drifts hit every case
        for case in cases:
            print(f"running {case} ({repeat + 1}/{args.repeats}) ...", file=sys.stderr, flush=True)
            runs[case].append(measure(case, args.rows, args.cv))
    results = {}
    for case, measured in runs.items():
        best = min(measured, key=lambda res: res["fit_s"])
        best = dict(best, peak_rss=max(res["peak_rss"] for res in measured),
                    predict_s=min(res["predict_s"] for res in measured))
        results[case] = best
    report(results, args.cv)


if __name__ == "__main__":
    main()
