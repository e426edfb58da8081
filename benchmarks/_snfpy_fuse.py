"""Fuse views with snfpy 0.2.2 and time it; run by bench_graph.py with another environment's python.

Usage: python _snfpy_fuse.py INPUT.npz OUTPUT.npz K MU T
INPUT holds arrays view0, view1, ...; OUTPUT gets ``fused`` and ``seconds``.
Not part of skfusion: snfpy is never a dependency. The shim lets snfpy's
``check_array(force_all_finite=...)`` run on scikit-learn >= 1.6.
"""

import inspect
import sys
import time

import numpy as np
from sklearn.utils import validation

_check_array = validation.check_array
if "force_all_finite" not in inspect.signature(_check_array).parameters:

    def _shim(*args, force_all_finite=True, **kwargs):
        return _check_array(*args, ensure_all_finite=force_all_finite, **kwargs)

    validation.check_array = _shim

import snf.compute

snf.compute.check_array = validation.check_array


def main():
    source, target, K, mu, t = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    data = np.load(source)
    views = [data[f"view{i}"] for i in range(len(data.files))]
    start = time.perf_counter()
    affinities = snf.compute.make_affinity(*views, metric="sqeuclidean", K=K, mu=mu)
    fused = snf.compute.snf(*affinities, K=K, t=t)
    seconds = time.perf_counter() - start
    np.savez(target, fused=fused, seconds=seconds)


if __name__ == "__main__":
    main()
