"""Alignment and cooperative fusion: skfusion vs scikit-learn baselines in the same run.

Prints three tables, each with ratios against a named baseline measured in this run:

1. UCI Multiple Features digits (6 views, 2000 x 649), 10-fold stratified CV
   (shuffled, random_state=0): MultiviewCCA (automatic Ledoit-Wolf shrinkage)
   + LogisticRegression vs the baseline StandardScaler + LogisticRegression on
   the concatenation (accuracy, fit time per fold).
2. Fit time of MultiviewCCA (regularization=0, i.e. plain CCA) vs scikit-learn's
   two-view ``CCA`` on the two widest views, fac (216) and pix (240), all 2000
   rows, for a few ``n_components``; the leading canonical correlations of both
   are printed to show they fit the same model.
3. CooperativeFusion (lasso) over a grid of ``rho`` on
   ``make_multimodal_regression`` with shared latent factors, 10-fold CV MSE;
   baseline: scikit-learn's Lasso on the concatenation (= rho 0, early fusion).
4. ContrastiveAlignment (torch, CPU) on two mfeat views, fou (76) and kar (64):
   cross-modal retrieval recall@{1,5,10} (fou -> kar) of 500 held-out digits
   in a 10-dimensional shared space, mean ± sd over 5 seeds, and its fit time;
   baseline: MultiviewCCA on the same split (recall and time ratios). Skipped
   without the torch extra.

BLAS/OpenMP are pinned to one thread for both sides (threadpoolctl).

Usage::

    python benchmarks/bench_alignment.py            # full run (about a minute or two)
    python benchmarks/bench_alignment.py --quick    # smoke run on a subset
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.cross_decomposition import CCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skfusion import CooperativeFusion, MultiviewCCA
from skfusion.datasets import load_mfeat, make_multimodal_regression


def _cv(model, X, y, cv, scoring):
    scores = cross_validate(model, X, y, cv=cv, scoring=scoring)
    return scores["test_score"], scores["fit_time"]


def mfeat_accuracy(X, y, modalities, n_folds, components):
    cv = StratifiedKFold(n_folds, shuffle=True, random_state=0)
    logistic = dict(max_iter=2000)
    baseline = make_pipeline(StandardScaler(), LogisticRegression(**logistic))
    base_acc, base_time = _cv(baseline, X, y, cv, "accuracy")
    print(f"\n1. mfeat {X.shape[0]} x {X.shape[1]}, {len(modalities)} views, {n_folds}-fold stratified CV")
    print(f"{'model':<44}{'accuracy':>16}{'fit s/fold':>12}{'time ratio':>12}")
    label = "baseline: concat StandardScaler + LogReg"
    print(f"{label:<44}{_mean_sd(base_acc):>16}{base_time.mean():>12.3f}{1.0:>12.2f}")
    for k in components:
        for output in ("mean", "concat"):
            mcca = MultiviewCCA(modalities, n_components=k, output=output)
            model = make_pipeline(mcca, StandardScaler(), LogisticRegression(**logistic))
            acc, fit_time = _cv(model, X, y, cv, "accuracy")
            label = f"MultiviewCCA(k={k}, {output}) + LogReg"
            ratio = fit_time.mean() / base_time.mean()
            print(f"{label:<44}{_mean_sd(acc):>16}{fit_time.mean():>12.3f}{ratio:>12.2f}")
            print(f"{'  accuracy difference vs baseline':<44}{acc.mean() - base_acc.mean():>+16.3f}")


def cca_fit_time(X, modalities, components, repeats):
    views = {"fac": modalities["fac"], "pix": modalities["pix"]}
    A, B = X[:, views["fac"]], X[:, views["pix"]]
    two = np.hstack([A, B])
    two_views = {"fac": range(A.shape[1]), "pix": range(A.shape[1], two.shape[1])}
    print(f"\n2. fit time, two views fac ({A.shape[1]}) + pix ({B.shape[1]}), {X.shape[0]} rows, best of {repeats}")
    header = f"{'n_components':>12}{'sklearn CCA s':>15}{'MultiviewCCA s':>16}{'ratio':>8}"
    print(header + "   leading correlations (CCA | MCCA)")
    for k in components:
        cca, t_cca = _best_of(repeats, lambda: CCA(n_components=k, max_iter=1000).fit(A, B))
        mcca, t_mcca = _best_of(repeats, lambda: MultiviewCCA(two_views, n_components=k, regularization=0.0).fit(two))
        a_scores, b_scores = cca.transform(A, B)
        cca_corr = [np.corrcoef(a_scores[:, j], b_scores[:, j])[0, 1] for j in range(min(k, 3))]
        mcca_corr = mcca.canonical_correlations_[: min(k, 3)]
        print(
            f"{k:>12}{t_cca:>15.3f}{t_mcca:>16.3f}{t_mcca / t_cca:>8.3f}   "
            f"{' '.join(f'{c:.4f}' for c in cca_corr)} | {' '.join(f'{c:.4f}' for c in mcca_corr)}"
        )


def cooperative_path(n_samples, n_folds, rhos):
    widths = {"a": 40, "b": 40, "c": 40}
    X, y, modalities = make_multimodal_regression(
        n_samples, widths, n_informative=3, shared=0.8, noise=2.0, random_state=0
    )
    cv = KFold(n_folds, shuffle=True, random_state=0)
    alpha = 0.05
    baseline = make_pipeline(StandardScaler(), Lasso(alpha=alpha))
    base_scores, base_time = _cv(baseline, X, y, cv, "neg_mean_squared_error")
    base_mse = -base_scores.mean()
    print(f"\n3. CooperativeFusion, make_multimodal_regression({n_samples}, widths 3 x 40, shared=0.8, noise=2),")
    print(f"   lasso alpha={alpha} after StandardScaler, {n_folds}-fold CV")
    print(f"{'model':<46}{'CV MSE':>16}{'MSE ratio':>11}{'fit s/fold':>12}{'time ratio':>12}")
    label = "baseline: Lasso on concatenation"
    print(f"{label:<46}{_mean_sd(-base_scores):>16}{1.0:>11.3f}{base_time.mean():>12.4f}{1.0:>12.2f}")
    for rho in rhos:
        model = make_pipeline(StandardScaler(), CooperativeFusion(modalities, rho=rho, alpha=alpha))
        scores, fit_time = _cv(model, X, y, cv, "neg_mean_squared_error")
        note = " (early fusion)" if rho == 0 else " (late fusion)" if rho == 1 else ""
        print(
            f"{f'CooperativeFusion(rho={rho}){note}':<46}{_mean_sd(-scores):>16}{-scores.mean() / base_mse:>11.3f}"
            f"{fit_time.mean():>12.4f}{fit_time.mean() / base_time.mean():>12.2f}"
        )


def contrastive_retrieval(X, y, modalities, epochs, seeds):
    try:
        import torch

        from skfusion.nn import ContrastiveAlignment
    except ImportError:
        print("\n4. ContrastiveAlignment skipped: the torch extra is not installed")
        return
    from sklearn.model_selection import train_test_split

    from skfusion.metrics import recall_at_k

    torch.set_num_threads(1)
    two = {"fou": modalities["fou"], "kar": modalities["kar"]}
    X_train, X_test = train_test_split(X, test_size=500, random_state=0, stratify=y)
    k, ks = 10, (1, 5, 10)

    def recalls(model):
        Z = model.transform(X_test)
        return [recall_at_k(Z[:, :k], Z[:, k:], k=top) for top in ks]

    start = time.perf_counter()
    mcca = MultiviewCCA(two, n_components=k, output="concat").fit(X_train)
    base_time = time.perf_counter() - start
    base = recalls(mcca)
    runs, times = [], []
    for seed in seeds:
        model = ContrastiveAlignment(
            two, latent_dim=k, max_epochs=epochs, output="concat", random_state=seed, device="cpu"
        )
        start = time.perf_counter()
        model.fit(X_train)
        times.append(time.perf_counter() - start)
        runs.append(recalls(model))
    runs = np.array(runs)
    print(f"\n4. ContrastiveAlignment, mfeat fou (76) + kar (64), {len(X_train)} train / 500 test rows, "
          f"shared dim {k}, {epochs} epochs, seeds {list(seeds)}; retrieval fou -> kar")
    print(f"{'model':<40}" + "".join(f"{f'recall@{top}':>17}" for top in ks) + f"{'fit s':>10}{'time ratio':>12}")
    label = "baseline: MultiviewCCA"
    print(f"{label:<40}" + "".join(f"{r:>17.4f}" for r in base) + f"{base_time:>10.3f}{1.0:>12.2f}")
    label = "ContrastiveAlignment"
    cells = "".join(f"{_mean_sd(runs[:, j]):>17}" for j in range(len(ks)))
    print(f"{label:<40}{cells}{np.mean(times):>10.3f}{np.mean(times) / base_time:>12.2f}")
    ratios = "".join(f"{runs[:, j].mean() / base[j]:>17.3f}" for j in range(len(ks)))
    print(f"{'  recall ratio to baseline':<40}{ratios}")
    print(f"{'chance':<40}" + "".join(f"{top / 500:>17.4f}" for top in ks))


def _best_of(repeats, fit):
    best, model = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        model = fit()
        best = min(best, time.perf_counter() - start)
    return model, best


def _mean_sd(values):
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run on a subset (seconds)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    mfeat = load_mfeat()
    X, y = mfeat.data, mfeat.target
    if args.quick:
        rows = StratifiedKFold(4, shuffle=True, random_state=0).split(X, y).__next__()[1]
        X, y = X[rows], y[rows]
    with threadpool_limits(1):
        mfeat_accuracy(X, y, mfeat.modalities, 3 if args.quick else 10, (10,) if args.quick else (10, 30, 60))
        cca_fit_time(X, mfeat.modalities, (2,) if args.quick else (2, 5, 10), 1 if args.quick else 3)
        rhos = (0.0, 0.5, 1.0) if args.quick else (0.0, 0.1, 0.3, 0.5, 1.0, 2.0)
        cooperative_path(150 if args.quick else 400, 3 if args.quick else 10, rhos)
        contrastive_retrieval(
            mfeat.data, mfeat.target, mfeat.modalities, 20 if args.quick else 100,
            range(2) if args.quick else range(5),
        )


if __name__ == "__main__":
    main()
