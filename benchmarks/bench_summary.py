"""Which fusion when? The table behind the documentation's decision guide.

Runs :func:`skfusion.model_selection.compare_fusion` on the bundled UCI Multiple
Features digits and on synthetic problems that isolate one effect each, and
writes the results, with the date and machine they were measured on, to

- ``docs/_generated_benchmarks.rst`` (included by ``docs/which_fusion.rst``),
- ``docs/_generated_benchmarks.csv`` (one row per case and strategy).

Every score is the mean over the same cross-validation folds for all strategies
of a case; the baseline of each case is its best single modality (``gain`` is
the score minus the baseline's) and fit times are also given as a ratio to the
early-fusion fit time measured in the same run. BLAS runs on one thread for
every strategy (compare_fusion pins it), so times are comparable.

Usage::

    python benchmarks/bench_summary.py            # every case, about 3-4 minutes on 2 cores
    python benchmarks/bench_summary.py --quick    # fewer rows and folds, for a smoke test
    python benchmarks/bench_summary.py --no-write # print only
"""

import argparse
import csv
import datetime
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import skfusion  # noqa: E402
from skfusion.datasets import load_mfeat, make_multimodal_classification  # noqa: E402
from skfusion.model_selection import STRATEGY_NAMES, compare_fusion  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"
SEED = 0


def _extra_strategies(modalities, case):
    """Strategies beyond the built-in ones that a case is about."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skfusion import FeatureFusion, InteractionFusion

    def early(fusion):
        return Pipeline([("fusion", fusion), ("model", LogisticRegression(max_iter=300))])

    if case == "wide_weak":
        return [
            ("standardise + concatenate",
             make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))),
            ("early, centred only",
             early(FeatureFusion(modalities, standardize=False, block_scaling=None))),
            ("early, block_scaling='mfa'",
             early(FeatureFusion(modalities, transformers=StandardScaler(), block_scaling="mfa"))),
        ]
    if case == "interaction":
        return [("early + tensor interactions",
                 early(InteractionFusion(modalities, n_components=2, random_state=SEED)))]
    if case == "missing":
        # the usual single-table answer to gaps: impute column means
        return [("impute means + concatenate",
                 make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=300)))]
    return []


def cases(quick):
    """``[(key, title, description, X, y, modalities, cv)]``: the problems compared."""
    n = 300 if quick else 600
    mfeat = load_mfeat()
    X_m, y_m = mfeat.data, mfeat.target
    if quick:
        rows = np.random.default_rng(SEED).permutation(len(y_m))[:600]
        X_m, y_m = X_m[rows], y_m[rows]
    yield (
        "mfeat",
        "UCI Multiple Features digits (real data)",
        f"{len(y_m)} digits, 10 classes, six modalities of 6 to 240 columns "
        "(load_mfeat). The modalities overlap (they describe the same images) "
        "but each adds something.",
        X_m, y_m, mfeat.modalities, 3 if quick else 5,
    )
    X, y, mod = make_multimodal_classification(
        n, widths={"narrow": 4, "wide": 400}, signal={"narrow": 1.5, "wide": 0.5},
        random_state=SEED,
    )
    yield (
        "wide_weak",
        "A wide weak modality next to a narrow strong one",
        f"{n} rows: 'narrow' has 4 columns and strong signal, 'wide' has 400 "
        "columns and weak signal (make_multimodal_classification, "
        "signal={'narrow': 1.5, 'wide': 0.5}).",
        X, y, mod, 5,
    )
    X, y, mod = make_multimodal_classification(
        n, widths={"a": 8, "b": 8}, signal=0.0, interaction=3.0, random_state=SEED,
    )
    yield (
        "interaction",
        "A cross-modal interaction",
        f"{n} rows, two modalities of 8 columns; the label depends only on the "
        "product of a latent of each, so either modality alone is at chance "
        "(signal=0, interaction=3).",
        X, y, mod, 5,
    )
    X, y, mod = make_multimodal_classification(
        n, widths={"a": 10, "b": 10, "c": 10}, missing_rate=0.3, random_state=SEED,
    )
    yield (
        "missing",
        "Modalities missing at random",
        f"{n} rows, three complementary modalities of 10 columns, each missing "
        "(all NaN) in about 30% of the rows (missing_rate=0.3).",
        X, y, mod, 5,
    )


def _machine():
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = "not installed"
    return {
        "date": datetime.date.today().isoformat(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "skfusion": skfusion.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "torch": torch_version,
    }


def run(quick=False):
    results = []
    for key, title, description, X, y, modalities, cv in cases(quick):
        strategies = [*_default_strategies(), *_extra_strategies(modalities, key)]
        start = time.perf_counter()
        # error_score=nan: a strategy that refuses the data (e.g. NaN) shows as failed
        comparison = compare_fusion(
            X, y, modalities, strategies=strategies, cv=cv, random_state=SEED,
            error_score=np.nan,
        )
        elapsed = time.perf_counter() - start
        results.append((key, title, description, comparison, elapsed))
        print(f"\n== {title} ({elapsed:.0f} s)\n{comparison}")
        frame = comparison.to_frame()
        if "early" in frame.index:
            ratio = frame["fit_time_mean"] / frame.loc["early", "fit_time_mean"]
            print("fit time / early fit time: " + ", ".join(f"{k} {v:.2f}" for k, v in ratio.items()))
    return results


def _default_strategies():
    """compare_fusion's "default": every built-in strategy, the network only with torch."""
    try:
        import skorch  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return [name for name in STRATEGY_NAMES if name != "intermediate"]
    return list(STRATEGY_NAMES)


def _rows(results):
    for key, _, _, comparison, _ in results:
        frame = comparison.to_frame()
        metric = comparison.primary_metric
        early_time = frame["fit_time_mean"].get("early", np.nan)
        for name, row in frame.iterrows():
            yield {
                "case": key,
                "strategy": name,
                "kind": row["kind"],
                "metric": metric,
                "score_mean": row[f"{metric}_mean"],
                "score_std": row[f"{metric}_std"],
                "gain_over_best_single": row["gain"],
                "fit_time_s": row["fit_time_mean"],
                "fit_time_vs_early": row["fit_time_mean"] / early_time,
                "predict_ms_per_1k_rows": row["predict_ms_per_1k_mean"],
                "best": name == comparison.best_,
            }


def _fmt(value, spec):
    return "failed" if value is None or np.isnan(value) else format(value, spec)


def write_rst(results, machine, path):
    lines = [
        ".. This file is generated by benchmarks/bench_summary.py; do not edit it by hand.",
        "",
        f"Measured on {machine['date']} on {machine['platform']} ({machine['processor']}, "
        f"{machine['cpu_count']} CPUs), BLAS on one thread; Python {machine['python']}, "
        f"skfusion {machine['skfusion']}, scikit-learn {machine['scikit-learn']}, "
        f"NumPy {machine['numpy']}, torch {machine['torch']}. "
        "Regenerate with ``python benchmarks/bench_summary.py``; the raw numbers are in "
        "``docs/_generated_benchmarks.csv``.",
        "",
    ]
    rows = list(_rows(results))
    for key, title, description, comparison, elapsed in results:
        n_splits = comparison.n_splits
        lines += [
            title,
            "-" * len(title),
            "",
            f"{description} {n_splits}-fold cross-validation, {comparison.primary_metric}; "
            f"best single modality: ``{comparison.best_single_}``; the whole case took "
            f"{elapsed:.0f} s.",
            "",
            ".. list-table::",
            "   :header-rows: 1",
            "   :class: benchmark-table",
            "",
            "   * - strategy",
            "     - kind",
            f"     - {comparison.primary_metric}",
            "     - gain over best single",
            "     - fit time (s)",
            "     - fit time / early",
            "     - predict (ms per 1,000 rows)",
        ]
        for row in (r for r in rows if r["case"] == key):
            name = f"**{row['strategy']}**" if row["best"] else row["strategy"]
            score = _fmt(row["score_mean"], ".3f")
            if score != "failed":
                score += f" ± {row['score_std']:.3f}"
            lines += [
                f"   * - {name}",
                f"     - {row['kind']}",
                f"     - {score}",
                f"     - {_fmt(row['gain_over_best_single'], '+.3f')}",
                f"     - {_fmt(row['fit_time_s'], '.3f')}",
                f"     - {_fmt(row['fit_time_vs_early'], '.2f')}",
                f"     - {_fmt(row['predict_ms_per_1k_rows'], '.1f')}",
            ]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def write_csv(results, machine, path):
    rows = list(_rows(results))
    with path.open("w", newline="", encoding="utf-8") as file:
        file.write(
            f"# bench_summary.py, {machine['date']}, {machine['platform']}, "
            f"{machine['cpu_count']} CPUs, skfusion {machine['skfusion']}\n"
        )
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rows and folds (smoke test)")
    parser.add_argument("--no-write", action="store_true", help="print the tables only")
    args = parser.parse_args(argv)
    machine = _machine()
    print(", ".join(f"{k}: {v}" for k, v in machine.items()))
    start = time.perf_counter()
    with threadpool_limits(1):
        results = run(quick=args.quick)
    print(f"\ntotal: {time.perf_counter() - start:.0f} s")
    if not args.no_write:
        write_rst(results, machine, DOCS / "_generated_benchmarks.rst")
        write_csv(results, machine, DOCS / "_generated_benchmarks.csv")
        print(f"wrote {DOCS / '_generated_benchmarks.rst'} and .csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
