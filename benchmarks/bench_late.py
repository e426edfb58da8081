"""Late fusion on the UCI Multiple Features digits (6 views): skfusion vs scikit-learn.

Prints four figures, each beside its scikit-learn baseline measured in the same run:

1. fit time of StackingLateFusion vs StackingClassifier (same branches, cv=5,
   n_jobs=2; target ratio <= 0.7);
2. GridSearchCV over 10 values of the final LogisticRegression's C, skfusion with
   ``memory`` vs the same search over StackingClassifier (target ratio <= 0.2);
3. 10-fold stratified accuracy of StackingLateFusion, WeightedVoteFusion
   (weights="learn") and StackingClassifier / soft VotingClassifier, with
   StandardScaler+LogisticRegression branches and with StandardScaler+SVC branches;
4. the same models on test rows where each view is blanked with probability 0.3
   (at least one kept), scikit-learn's models mean-imputing the blanked views.

scikit-learn's branches are pipelines that select their view with a
ColumnTransformer (in figures 3 and 4 also mean-imputing, for the blanked test
views of figure 4; a no-op on complete training data). BLAS is
pinned to one thread in this process for both sides (joblib's loky workers get
cpu_count // n_jobs threads each, for both sides alike).

Run ``python benchmarks/bench_late.py`` (several minutes on 2 cores) or with
``--quick`` for a smoke run on a subset.
"""

import argparse
import os
import statistics
import tempfile
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from skfusion import NoModalityPresentWarning, StackingLateFusion, WeightedVoteFusion
from skfusion.datasets import load_mfeat

N_JOBS = 2
CV = 5


def logistic():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def svc(probability):
    # SVC(probability=True) is deprecated in scikit-learn 1.9 in favour of this
    model = CalibratedClassifierCV(SVC(), ensemble=False, cv=3) if probability else SVC()
    return make_pipeline(StandardScaler(), model)


def sklearn_branches(modalities, branch, impute=False):
    """scikit-learn's way to give each base estimator one view (and, for test rows
    with blanked views, to mean-impute them: a no-op on complete training data)."""
    imputer = [SimpleImputer()] if impute else []
    return [
        (
            name,
            make_pipeline(
                ColumnTransformer([("select", "passthrough", list(cols))]),
                *imputer,
                clone(branch),
            ),
        )
        for name, cols in modalities.items()
    ]


def timed(fit):
    start = time.perf_counter()
    fit()
    return time.perf_counter() - start


def row(label, value, baseline, unit="s", target=None):
    ratio = value / baseline
    verdict = (
        ""
        if target is None
        else ("  (target <= %.1f: %s)" % (target, "met" if ratio <= target else "NOT met"))
    )
    print(
        f"  {label:<44} {value:8.2f}{unit}  baseline {baseline:8.2f}{unit}  ratio {ratio:5.2f}{verdict}"
    )


# ---------------------------------------------------------------- figure 1


def figure_fit_time(X, y, modalities, repeats):
    ours = StackingLateFusion(
        logistic(),
        modalities=modalities,
        final_estimator=LogisticRegression(max_iter=1000),
        cv=CV,
        n_jobs=N_JOBS,
    )
    theirs = StackingClassifier(
        sklearn_branches(modalities, logistic()),
        final_estimator=LogisticRegression(max_iter=1000),
        cv=CV,
        n_jobs=N_JOBS,
    )
    clone(ours).fit(X, y)  # warm up: worker pool, imports
    clone(theirs).fit(X, y)
    ours_times, theirs_times = [], []
    for _ in range(repeats):  # interleaved, so that load from elsewhere hits both
        theirs_times.append(timed(lambda: clone(theirs).fit(X, y)))
        ours_times.append(timed(lambda: clone(ours).fit(X, y)))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\n1. Fit time, 6 branches x ({CV} folds + refit), n_jobs={N_JOBS}, median of {repeats}")
    print(f"   (load average {load} on {os.cpu_count()} cores as it starts, warm-up included: other")
    print("    processes slow both sides and take the core a parallel speed-up needs)")
    print(f"   StackingClassifier runs: {', '.join(f'{t:.2f}' for t in theirs_times)} s")
    print(f"   StackingLateFusion runs: {', '.join(f'{t:.2f}' for t in ours_times)} s")
    row(
        "StackingLateFusion vs StackingClassifier",
        statistics.median(ours_times),
        statistics.median(theirs_times),
        target=0.7,
    )
    # The floor: the same fits run one after another in this process, split
    # perfectly over the workers with no overhead at all.
    serial = timed(lambda: clone(ours).set_params(n_jobs=1).fit(X, y))
    row(
        f"floor: serial fit / {N_JOBS} (perfect scaling)",
        serial / N_JOBS,
        statistics.median(theirs_times),
    )


# ---------------------------------------------------------------- figure 2


def figure_grid_search(X, y, modalities, n_values):
    grid = {"final_estimator__C": np.logspace(-2, 2, n_values)}
    theirs = StackingClassifier(
        sklearn_branches(modalities, logistic()),
        final_estimator=LogisticRegression(max_iter=1000),
        cv=CV,
        n_jobs=N_JOBS,
    )
    with tempfile.TemporaryDirectory() as cache:
        ours = StackingLateFusion(
            logistic(),
            modalities=modalities,
            final_estimator=LogisticRegression(max_iter=1000),
            cv=CV,
            n_jobs=N_JOBS,
            memory=cache,
        )
        ours_search = GridSearchCV(ours, grid, cv=5)
        ours_time = timed(lambda: ours_search.fit(X, y))
    theirs_search = GridSearchCV(theirs, grid, cv=5)
    theirs_time = timed(lambda: theirs_search.fit(X, y))
    print(f"\n2. GridSearchCV(cv=5) over {n_values} values of the final C, fit time (cold cache)")
    row("StackingLateFusion(memory=...) vs StackingClassifier", ours_time, theirs_time, target=0.2)
    print(
        f"   best C: ours {ours_search.best_params_['final_estimator__C']:.3g} "
        f"(score {ours_search.best_score_:.4f}), scikit-learn "
        f"{theirs_search.best_params_['final_estimator__C']:.3g} (score {theirs_search.best_score_:.4f})"
    )


# ---------------------------------------------------------------- figures 3 and 4


def blank_views(X, modalities, rng, rate=0.3):
    """Each view of each row blanked (all NaN) with probability ``rate``; one kept per row."""
    X = X.copy()
    blanked = rng.random_sample((X.shape[0], len(modalities))) < rate
    lost = np.flatnonzero(blanked.all(axis=1))
    blanked[lost, rng.randint(len(modalities), size=lost.size)] = False
    for j, cols in enumerate(modalities.values()):
        X[np.ix_(blanked[:, j], cols)] = np.nan
    return X


def evaluate_fold(X, y, modalities, train, test, family, fold):
    stack_branch, vote_branch = family
    with tempfile.TemporaryDirectory() as cache:
        # Both skfusion models share one cache: when their branches and methods
        # agree, the vote reuses the stacking's out-of-fold fits.
        models = {
            "StackingLateFusion": StackingLateFusion(
                stack_branch,
                modalities=modalities,
                final_estimator=LogisticRegression(max_iter=1000),
                cv=CV,
                n_jobs=N_JOBS,
                memory=cache,
            ),
            "WeightedVoteFusion(learn)": WeightedVoteFusion(
                vote_branch, modalities=modalities, cv=CV, n_jobs=N_JOBS, memory=cache
            ),
            "StackingClassifier": StackingClassifier(
                sklearn_branches(modalities, stack_branch, impute=True),
                final_estimator=LogisticRegression(max_iter=1000),
                cv=CV,
                n_jobs=N_JOBS,
            ),
            "VotingClassifier(soft)": VotingClassifier(
                sklearn_branches(modalities, vote_branch, impute=True), voting="soft", n_jobs=N_JOBS
            ),
        }
        X_blank = blank_views(X[test], modalities, np.random.RandomState(fold))
        scores = {}
        for name, model in models.items():
            model.fit(X[train], y[train])
            scores[name] = (model.score(X[test], y[test]), model.score(X_blank, y[test]))
    return scores


def figure_accuracy(X, y, modalities, n_splits):
    families = {
        "StandardScaler + LogisticRegression": (logistic(), logistic()),
        "StandardScaler + SVC (stack: decision_function; vote: calibrated)": (
            svc(False),
            svc(True),
        ),
    }
    splitter = StratifiedKFold(n_splits, shuffle=True, random_state=0)
    results = {}
    for family_name, family in families.items():
        folds = [
            evaluate_fold(X, y, modalities, train, test, family, fold)
            for fold, (train, test) in enumerate(splitter.split(X, y))
        ]
        results[family_name] = {name: np.array([fold[name] for fold in folds]) for name in folds[0]}
    for index, title in (
        (0, "3. Accuracy"),
        (1, "4. Accuracy, test views blanked w.p. 0.3 (scikit-learn: mean imputation)"),
    ):
        print(f"\n{title}, StratifiedKFold({n_splits}, shuffle=True, random_state=0), mean (std)")
        for family_name, scores in results.items():
            print(f"   {family_name}")
            for ours, theirs in (
                ("StackingLateFusion", "StackingClassifier"),
                ("WeightedVoteFusion(learn)", "VotingClassifier(soft)"),
            ):
                a, b = scores[ours][:, index], scores[theirs][:, index]
                print(
                    f"     {ours:<27} {a.mean():.4f} ({a.std():.4f})   "
                    f"{theirs:<23} {b.mean():.4f} ({b.std():.4f})   difference {a.mean() - b.mean():+.4f}"
                )


# ---------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run on a subset")
    parser.add_argument(
        "--figures",
        nargs="+",
        type=int,
        choices=[1, 2, 3, 4],
        default=[1, 2, 3, 4],
        help="figures to measure (3 and 4 share their fits)",
    )
    parser.add_argument("--repeats", type=int, default=None, help="fit-time repeats (figure 1)")
    args = parser.parse_args()
    bunch = load_mfeat()
    X, y, modalities = bunch.data, bunch.target, bunch.modalities
    if args.quick:
        keep = StratifiedKFold(4, shuffle=True, random_state=0).split(X, y).__next__()[1]
        X, y = X[keep], y[keep]
    repeats, n_values, n_splits = (2, 3, 3) if args.quick else (7, 10, 10)
    repeats = args.repeats or repeats
    print(
        f"load_mfeat: {X.shape[0]} rows, views {dict((k, len(v)) for k, v in modalities.items())}"
        f"{'  [--quick subset]' if args.quick else ''}"
    )
    warnings.simplefilter("ignore", NoModalityPresentWarning)
    with threadpool_limits(1):
        Parallel(n_jobs=N_JOBS)(delayed(abs)(i) for i in range(N_JOBS))  # start the workers
        if 1 in args.figures:
            figure_fit_time(X, y, modalities, repeats)
        if 2 in args.figures:
            figure_grid_search(X, y, modalities, n_values)
        if 3 in args.figures or 4 in args.figures:
            figure_accuracy(X, y, modalities, n_splits)


if __name__ == "__main__":
    main()
