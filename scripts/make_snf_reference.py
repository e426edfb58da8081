"""Write tests/align/data/snf_reference.npz: a small input and snfpy 0.2.2's fused matrix.

Run with a throw-away environment holding snfpy (never a dependency of skfusion)::

    python -m venv /tmp/snfref && /tmp/snfref/bin/pip install snfpy==0.2.2 scikit-learn numpy scipy
    /tmp/snfref/bin/python scripts/make_snf_reference.py

snfpy calls ``check_array(force_all_finite=...)``, which scikit-learn >= 1.6
refuses; the shim in ``benchmarks/_snfpy_fuse.py`` renames the argument.
"""

import sys
from pathlib import Path

import numpy as np

# benchmarks/_snfpy_fuse.py holds the shim (bench_graph runs it in the same kind of
# environment); importing it installs the shim and imports snf.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import _snfpy_fuse  # noqa: E402, F401
import snf  # noqa: E402

rng = np.random.default_rng(17)
groups = np.repeat(np.arange(3), 14)
centres = rng.normal(size=(3, 5)) * 1.5
views = [
    centres[groups] + rng.normal(size=(42, 5)),
    centres[groups][:, :3] @ rng.normal(size=(3, 4)) + rng.normal(size=(42, 4)),
    rng.normal(size=(42, 3)) + 0.8 * groups[:, None],
]
X = np.hstack(views)
K, mu, t = 6, 0.5, 20
affinities = snf.make_affinity(*views, metric="sqeuclidean", K=K, mu=mu)
fused = snf.snf(*affinities, K=K, t=t)
out = Path(__file__).resolve().parents[1] / "tests" / "align" / "data" / "snf_reference.npz"
np.savez_compressed(
    out, X=X, widths=np.array([5, 4, 3]), K=K, mu=mu, t=t,
    fused=fused,
)
print(out, fused.shape, fused[:2, :4])
