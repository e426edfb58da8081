"""Shared test set-up (tests and doctests): one BLAS/OpenMP thread per process.

On 2-core machines BLAS threads multiplied by scikit-learn's own threads (and
by pytest-xdist workers) oversubscribe the cores badly, so every test process
runs single-threaded; parallel code is exercised through joblib's n_jobs.
"""

import os

import pytest
from threadpoolctl import threadpool_limits

os.environ.setdefault("OMP_NUM_THREADS", "1")
# scikit-learn's array API check (numpy namespace) runs only with this set, before scipy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
threadpool_limits(1)


def pytest_configure(config):
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)
