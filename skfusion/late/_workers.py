"""How the flat joblib call of late fusion runs its jobs.

- :func:`single_blas_thread`: one BLAS/OpenMP thread per worker, so that n_jobs
  workers do not each start as many BLAS threads as there are cores (on two
  cores that oversubscription made a logistic regression 20x slower).
- :func:`streams_results`: whether results can be used as they come.
- :func:`shared_with_workers`: the input handed to process workers as ONE
  memory-mapped file that we write and remove. Left to joblib, every large
  argument is dumped to a temporary folder that joblib deletes when the call
  ends, racing the workers still releasing their maps: a lost race costs a
  0.1 s sleep (joblib.disk.delete_folder), measured in about half of the
  one-second fits of bench_late.
"""

import os
import shutil
import tempfile
import threading
from contextlib import contextmanager

import numpy as np
from joblib import effective_n_jobs
from joblib._parallel_backends import LokyBackend, MultiprocessingBackend
from joblib.parallel import get_active_backend
from threadpoolctl import ThreadpoolController

__all__ = ["single_blas_thread", "uses_threads", "streams_results", "shared_with_workers"]

# threadpoolctl limits are process-wide: with a threading backend, nested
# enter/exit of threadpool_limits from concurrent workers could restore the
# wrong value. The first worker in a process limits, the last one restores.
_limit_lock = threading.Lock()
_limit_state = {"depth": 0, "limiter": None, "controller": None}


def _controller():
    """This process's ThreadpoolController, inspected once (a fresh inspection costs
    milliseconds, a job of a branch fit on small data only tens of them)."""
    if _limit_state["controller"] is None:
        _limit_state["controller"] = ThreadpoolController()
    return _limit_state["controller"]


@contextmanager
def single_blas_thread(active):
    """One BLAS/OpenMP thread in this process while any worker runs (when ``active``)."""
    if not active:
        yield
        return
    with _limit_lock:
        if _limit_state["depth"] == 0:
            _limit_state["limiter"] = _controller().limit(limits=1)
        _limit_state["depth"] += 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_state["depth"] -= 1
            if _limit_state["depth"] == 0:
                _limit_state["limiter"].restore_original_limits()
                _limit_state["limiter"] = None


def uses_threads():
    """Whether the active joblib backend runs jobs in threads of this process."""
    backend, _ = get_active_backend()
    return bool(getattr(backend, "uses_threads", False))


def streams_results(n_jobs):
    """Whether Parallel should hand results over as they come: in parallel, when the
    active backend can (joblib's multiprocessing backend cannot: it returns them all
    at the end). In sequence there is nothing to overlap, and joblib's sequential
    generator cannot be closed early with ``verbose`` on (it reports progress with
    counters that only a parallel run sets)."""
    backend, _ = get_active_backend()
    return effective_n_jobs(n_jobs) != 1 and bool(
        getattr(backend, "supports_return_generator", False)
    )


# joblib's own threshold (max_nbytes="1M") for memory-mapping an argument
_SHARE_FROM_NBYTES = 1_000_000


def _is_memory_mapped(X):
    while X is not None:
        if isinstance(X, np.memmap):
            return True
        X = getattr(X, "base", None)
    return False


def _worth_sharing(X, n_jobs):
    """A large dense array, about to go to local worker processes, not mapped yet."""
    backend, _ = get_active_backend()
    return (
        os.name == "posix"  # elsewhere a mapped file cannot be removed while open
        and isinstance(backend, (LokyBackend, MultiprocessingBackend))
        and effective_n_jobs(n_jobs) > 1
        and isinstance(X, np.ndarray)
        and not X.dtype.hasobject
        and X.nbytes >= _SHARE_FROM_NBYTES
        and not _is_memory_mapped(X)
    )


def _temp_root(nbytes):
    """Where joblib would put it: $JOBLIB_TEMP_FOLDER, else /dev/shm when roomy."""
    if os.environ.get("JOBLIB_TEMP_FOLDER"):
        return os.environ["JOBLIB_TEMP_FOLDER"]
    try:
        stats = os.statvfs("/dev/shm")
        if stats.f_bavail * stats.f_frsize > 2 * nbytes and os.access("/dev/shm", os.W_OK):
            return "/dev/shm"
    except OSError:
        pass
    return None  # the system's temporary folder


@contextmanager
def shared_with_workers(X, n_jobs):
    """``X``, memory-mapped from a file of ours when process workers will read it.

    Workers then receive the file's name instead of a copy, and views of the
    map (a branch's columns) travel the same way. The file is removed on exit;
    maps still open in workers stay valid (POSIX). Anything else, or a failure
    to write the file, gives ``X`` unchanged.
    """
    if not _worth_sharing(X, n_jobs):
        yield X
        return
    folder = None
    try:
        folder = tempfile.mkdtemp(prefix="skfusion_", dir=_temp_root(X.nbytes))
        path = os.path.join(folder, "X.npy")
        np.save(path, X, allow_pickle=False)
        shared = np.load(path, mmap_mode="r")
    except OSError:
        shared = X
    try:
        yield shared
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
