"""Write tests/align/data/snf_reference.npz: a small input and snfpy 0.2.2's fused matrix.

Run with a throw-away environment holding snfpy (never a dependency of skfusion)::

    python -m venv /tmp/snfref && /tmp/snfref/bin/pip install snfpy==0.2.2 scikit-learn numpy scipy
    /tmp/snfref/bin/python scripts/make_snf_reference.py

snfpy calls ``check_array(force_all_finite=...)``, which scikit-learn >= 1.6
refuses; the shim below renames the argument.
"""

import inspect
from pathlib import Path

import numpy as np
from sklearn.utils import validation

_check_array = validation.check_array
if "force_all_finite" not in inspect.signature(_check_array).parameters:

    def _shim(*args, force_all_finite=True, **kwargs):
        return _check_array(*args, ensure_all_finite=force_all_finite, **kwargs)

    validation.check_array = _shim

import snf
import snf.compute

snf.compute.check_array = validation.check_array

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
