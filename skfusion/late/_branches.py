"""Branches of a late-fusion estimator: which columns and rows each one sees,
and how all of them are fitted at once.

A *branch* is one sub-estimator over one or more modalities. Both late-fusion
estimators (:class:`~skfusion.StackingLateFusion` and
:class:`~skfusion.WeightedVoteFusion`) use this module to

- parse the ``estimators`` specification into branches (:func:`parse_branches`),
- find the rows where a branch is present (all its modalities observed,
  :func:`branch_presence`),
- fit every branch on its own rows: out-of-fold predictions over the shared CV
  splits plus one refit on all its rows, as ONE flat joblib call over the
  (branch x fold) fits and the refits (:func:`fit_branches`), optionally cached
  with :class:`joblib.Memory`,
- ask each fitted branch about the rows where it is present, with its outputs
  aligned to the ensemble's classes (:func:`predict_branches`).
"""

import time
import warnings
from contextlib import closing, contextmanager
from dataclasses import dataclass

import joblib
import numpy as np
from joblib import effective_n_jobs
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils._tags import get_tags
from sklearn.utils.metadata_routing import _routing_enabled
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_memory, has_fit_parameter

from .._fit_context import fitting, same_type_with_message
from .._modalities import branch_columns, non_numeric_column, take_block, take_columns
from ._workers import (
    shared_with_workers,
    single_blas_thread,
    streams_results,
    uses_threads,
)

__all__ = [
    "Branch",
    "check_estimators_spec",
    "parse_branches",
    "branch_task",
    "branch_presence",
    "fit_branches",
    "predict_branches",
    "prefit_branches",
]

DROP = "drop"


@dataclass(frozen=True)
class Branch:
    """One branch: a name, its (unfitted) estimator and the modalities it reads."""

    name: str
    estimator: object
    modalities: tuple
    columns: np.ndarray

    def describe(self):
        """``"branch 'a' (modalities ['a'])"``, for error messages."""
        return f"branch {self.name!r} (modalities {list(self.modalities)})"


# ------------------------------------------------------------------ parsing


def iter_branch_specs(estimators, modality_names):
    """Yield ``(name, estimator, modality names or None)`` without validating.

    A single estimator gives one branch per modality; a 2-tuple names its
    modality by its name (``None`` here), a 3-tuple lists its modalities.
    """
    if not isinstance(estimators, (list, tuple)):
        for modality in modality_names:
            yield modality, estimators, (modality,)
        return
    for item in estimators:
        if len(item) == 2:
            yield item[0], item[1], None
        else:
            yield item[0], item[1], item[2]


def check_estimators_spec(estimators, *, reserved=()):
    """Check the shape of ``estimators`` (entries, names) before anything reads it."""
    if isinstance(estimators, (list, tuple)):
        _check_items(estimators, reserved)
    elif not hasattr(estimators, "fit"):
        raise TypeError(
            f"`estimators` must be a list of tuples or an estimator; got {estimators!r}."
        )


def _check_items(estimators, reserved):
    if isinstance(estimators, tuple) or not estimators:
        raise ValueError(
            "`estimators` must be a non-empty list of (name, estimator) or "
            "(name, estimator, [modality, ...]) tuples, or one estimator to clone "
            f"for every modality; got {estimators!r}."
        )
    names = []
    for item in estimators:
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise ValueError(
                "Each entry of `estimators` must be a (name, estimator) or "
                f"(name, estimator, [modality, ...]) tuple; got {item!r}."
            )
        if not isinstance(item[0], str):
            raise TypeError(f"Branch names must be strings; got {item[0]!r}.")
        if not (isinstance(item[1], str) and item[1] == DROP) and not hasattr(item[1], "fit"):
            raise TypeError(
                f"Branch {item[0]!r} must be an estimator with `fit` or 'drop'; got {item[1]!r}."
            )
        names.append(item[0])
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"Branch names must be unique; {duplicated} appear more than once.")
    clashing = sorted(set(names) & set(reserved))
    if clashing:
        raise ValueError(f"Branch names {clashing} clash with constructor parameters; rename them.")
    with_dunder = [name for name in names if "__" in name]
    if with_dunder:
        raise ValueError(
            f"Branch names must not contain '__' (used for <name>__<param>); got {with_dunder}."
        )


def _branch_modalities(name, modalities, known):
    if modalities is None:
        if name not in known:
            raise ValueError(
                f"Branch {name!r} is given as (name, estimator), so its name must be a "
                f"modality; known modalities are {list(known)}. Give its modalities as "
                f"a third element: ({name!r}, estimator, [modality, ...])."
            )
        return (name,)
    if isinstance(modalities, str):
        modalities = [modalities]
    modalities = tuple(modalities)
    if not modalities:
        raise ValueError(f"Branch {name!r} lists no modality.")
    unknown = [m for m in modalities if m not in known]
    if unknown:
        raise ValueError(
            f"Branch {name!r} reads unknown modality {unknown[0]!r}; known "
            f"modalities are {list(known)}."
        )
    return modalities


def parse_branches(estimators, modalities_, *, reserved=()):
    """Validate ``estimators`` against the resolved modalities.

    Returns
    -------
    list of Branch
        Every branch in order, including dropped ones (``estimator="drop"``).
    """
    check_estimators_spec(estimators, reserved=reserved)
    branches = []
    for name, estimator, modalities in iter_branch_specs(estimators, list(modalities_)):
        if not (isinstance(estimator, str) and estimator == DROP) and not hasattr(estimator, "fit"):
            raise TypeError(
                f"Branch {name!r} must be an estimator with `fit` or 'drop'; got {estimator!r}."
            )
        modalities = _branch_modalities(name, modalities, modalities_)
        columns = branch_columns(modalities_, list(modalities))
        branches.append(Branch(name, estimator, modalities, columns))
    if all(is_dropped(branch) for branch in branches):
        raise ValueError("All branches are 'drop'; at least one must be an estimator.")
    return branches


def is_dropped(branch):
    return isinstance(branch.estimator, str) and branch.estimator == DROP


def _estimator_type(estimator):
    """``"classifier"``, ``"regressor"`` or ``"other"`` (also for an object without tags)."""
    try:
        estimator_type = get_tags(estimator).estimator_type
    except AttributeError:  # not a scikit-learn estimator: fit says what is wrong
        return "other"
    return estimator_type if estimator_type in ("classifier", "regressor") else "other"


def branch_task(estimators, *, strict=True):
    """``"classifier"`` or ``"regressor"``: the type shared by all estimators.

    With ``strict=False`` (for tags, before ``fit`` validates), return None
    instead of raising when the type is mixed or unknown.
    """
    kinds = {}
    for name, estimator in estimators:
        kinds.setdefault(_estimator_type(estimator), []).append(name)
    if set(kinds) in ({"classifier"}, {"regressor"}):
        return next(iter(kinds))
    if not strict:
        return None
    if "other" in kinds:
        raise ValueError(
            f"Branches {kinds['other']} are neither classifiers nor regressors; "
            "every branch must be a classifier (classification) or every branch a "
            "regressor (regression)."
        )
    raise ValueError(
        "Branches mix classifiers and regressors: classifiers "
        f"{kinds['classifier']}, regressors {kinds['regressor']}. Use classifiers "
        "for classification or regressors for regression, not both."
    )


def branches_accept_sparse(estimators):
    """Tag helper: True when every branch estimator accepts sparse input."""
    return all(get_tags(estimator).input_tags.sparse for _, estimator in estimators)


# ------------------------------------------------------------------ rows


def branch_presence(presence, modalities_, branches):
    """Boolean ``(n_samples, n_branches)``: True where all of a branch's modalities are present."""
    position = {name: j for j, name in enumerate(modalities_)}
    out = np.empty((presence.shape[0], len(branches)), dtype=bool)
    for k, branch in enumerate(branches):
        out[:, k] = presence[:, [position[m] for m in branch.modalities]].all(axis=1)
    return out


def _local_splits(splits, present):
    """The splits restricted to a branch's present rows, in that branch's row positions."""
    position = np.cumsum(present) - 1
    local = []
    for train, test in splits:
        local.append((position[train[present[train]]], position[test[present[test]]]))
    return local


def _tested_folds(local_splits):
    """The folds whose test part holds some of the branch's rows: the only ones it is
    fitted on. A modality missing in a block of rows (data sorted by date, one
    modality recorded from some day on) leaves unshuffled folds that test none of
    that branch's rows; the test folds partition the rows, so the other folds
    still give every one of its rows exactly one out-of-fold prediction."""
    return [fold for fold, (_, test) in enumerate(local_splits) if test.size]


def _check_branch_rows(branch, n_rows, n_total, y_b, local_splits, task):
    hint = "; drop it, or give it more rows where its modalities are present"
    if n_rows < 2:
        raise ValueError(
            f"The {branch.describe()} has {n_rows} of {n_total} rows where all its "
            f"modalities are present (n_samples={n_rows}); it needs at least 2{hint}."
        )
    if task == "classifier" and np.unique(y_b).size < 2:
        raise ValueError(
            f"The {branch.describe()} sees only one class in the {n_rows} rows where "
            f"its modalities are present; it needs samples of at least 2 classes{hint}."
        )
    for fold in _tested_folds(local_splits):
        _check_fold_training_rows(branch, fold, local_splits[fold], n_rows, y_b, task)


def _check_fold_training_rows(branch, fold, split, n_rows, y_b, task):
    """The rows a branch is trained on in a fold must be enough to predict its test rows
    from: as many as its refit needs (2 rows, 2 classes). A model of one row or one
    class would give out-of-fold predictions that say nothing, silently (a tree) or
    with an error naming neither branch nor fold (a linear model)."""
    train, test = split
    classes = np.unique(y_b[train]) if task == "classifier" else None
    if train.size >= 2 and (classes is None or classes.size >= 2):
        return
    if train.size < 2:
        found = "no training row" if train.size == 0 else "1 training row"
    else:
        found = f"training rows of class {classes.tolist()[0]!r} only"
    needs = "2 rows of 2 classes" if task == "classifier" else "2 rows"
    splitter = "StratifiedKFold" if task == "classifier" else "KFold"
    raise ValueError(
        f"The {branch.describe()} has {found} in CV fold {fold}, which tests {test.size} "
        f"of the {n_rows} rows where its modalities are present; it needs at least "
        f"{needs} to train on. Unshuffled folds over rows sorted by time or by label do "
        f"this: shuffle them (e.g. cv={splitter}(5, shuffle=True, random_state=0)), use "
        "fewer folds, or drop the branch."
    )


def subset_params(params, rows, n_samples):
    """Sample-aligned values of ``params`` restricted to ``rows``; others unchanged."""
    out = {}
    for key, value in params.items():
        if (
            value is not None
            and not isinstance(value, str)
            and hasattr(value, "__len__")
            and (len(value) == n_samples)
        ):
            out[key] = _safe_indexing(value, rows)
        else:
            out[key] = value
    return out


# ------------------------------------------------------------------ jobs


@contextmanager
def _naming_non_numeric_columns(X, prefix=""):
    """Add to a branch's error the column of ``X`` that holds no numbers, if one does.

    numpy's messages ("could not convert string to float", "can't multiply sequence")
    name no column. A branch may read text itself (a pipeline that encodes it), so
    its own message stays and the column comes as a hint after it.
    """
    try:
        yield
    except (ValueError, TypeError) as exc:
        column = non_numeric_column(X)
        if column is None:
            raise
        name, _, value = column
        message = (
            f"{prefix}{exc} (column {name!r} holds values that are not numbers, e.g. "
            f"{value!r}: encode it in the branch, e.g. a pipeline with an encoder, or "
            "first, e.g. with skfusion.tables.TableFusion)"
        )
        raise (same_type_with_message(exc, message) or ValueError(message)) from exc


def _sample_weight_params(estimator, params):
    """Without metadata routing, a Pipeline's sample weights go to its final step and
    to every other step whose ``fit`` takes them.

    A scaler followed by a model is the usual branch, and ``Pipeline.fit``
    refuses a bare ``sample_weight``; a weighted scaler (StandardScaler takes
    weights) keeps a weight of 2 the same as a row given twice.
    """
    if isinstance(estimator, Pipeline) and estimator.steps:
        params = dict(params)
        weights = params.pop("sample_weight")
        *steps, (last, final) = estimator.steps
        for name, step in steps:
            if not isinstance(step, str) and step is not None and has_fit_parameter(
                step, "sample_weight"
            ):
                params[f"{name}__sample_weight"] = weights
        params[f"{last}__sample_weight"] = weights
        return params, type(final).__name__
    return params, type(estimator).__name__


def fit_estimator(estimator, X, y, params, where):
    """``estimator.fit`` with errors that name ``where`` (a branch, the final estimator)."""
    with fitting(where), _naming_non_numeric_columns(X):
        if not _routing_enabled() and "sample_weight" in params:
            params, consumer = _sample_weight_params(estimator, params)
            try:
                estimator.fit(X, y, **params)
            except TypeError as exc:
                if "unexpected keyword argument 'sample_weight'" in str(exc):
                    raise TypeError(f"{consumer} does not support sample weights") from exc
                raise
        else:
            estimator.fit(X, y, **params)
    return estimator


def _class_positions(classes, labels, where):
    """Where ``labels`` would sit in the sorted ``classes`` (clipped to valid indices).

    Labels of another type than y's (a prefit branch trained on strings, y of
    ints) cannot be compared with them: say so rather than numpy's '<' error.
    """
    try:
        index = np.searchsorted(classes, labels)
    except TypeError:
        raise ValueError(
            f"The {where} has classes {np.unique(labels)[:5].tolist()} of another type than "
            f"y's classes {classes[:5].tolist()}; fit it on labels like y's."
        ) from None
    return np.clip(index, 0, len(classes) - 1)


def aligned_output(estimator, X, method, classes, where):
    """``estimator.<method>(X)`` with class columns in the ensemble's order.

    Probabilities of classes a branch never saw are 0. ``predict`` of a
    classifier gives the class index as a float.
    """
    with _naming_non_numeric_columns(X, prefix=f"The {where} failed to predict: "):
        output = getattr(estimator, method)(X)
    if classes is None:  # regression
        output = np.asarray(output, dtype=np.float64)
        return output.ravel() if output.ndim == 2 and output.shape[1] == 1 else output
    if method == "predict":
        output = np.asarray(output)
        index = _class_positions(classes, output, where)
        if not np.array_equal(classes[index], output):
            raise ValueError(f"The {where} predicted labels not seen in training.")
        return index.astype(np.float64)
    output = np.asarray(output, dtype=np.float64)
    seen = np.asarray(estimator.classes_)
    if seen.shape == classes.shape and np.array_equal(seen, classes):
        return output
    index = _class_positions(classes, seen, where)
    unknown = seen[classes[index] != seen]
    if unknown.size:
        raise ValueError(
            f"The {where} knows classes {unknown.tolist()} that are not in y "
            f"(classes {classes.tolist()})."
        )
    if method == "predict_proba":
        aligned = np.zeros((output.shape[0], classes.shape[0]))
        aligned[:, index] = output
        return aligned
    raise ValueError(
        f"The {where} saw only classes {seen.tolist()} of {classes.tolist()} in its "
        f"training rows, so its {method} cannot be aligned with the other classes; "
        "use stack_method='predict_proba', fewer folds, or more rows."
    )


def _fit_task(estimator, X, columns, y, params, fit_rows, test_rows, method, classes, where, limit):
    """One job of the flat Parallel call: a fold fit + its predictions, or a refit.

    ``X``, ``y`` and ``params`` hold all rows; ``fit_rows`` (None: all) and
    ``test_rows`` select this job's rows, ``columns`` the branch's columns of
    ``X`` (None: ``X`` is the branch's block already).
    """
    # Cloned here rather than by the caller: in parallel, the clones cost the
    # workers' time instead of delaying the first job.
    start = time.process_time()
    estimator = clone(estimator)
    with single_blas_thread(limit):
        if fit_rows is not None:
            y, params = y[fit_rows], subset_params(params, fit_rows, y.shape[0])
        fit_estimator(estimator, take_block(X, columns, fit_rows), y, params, where)
        if test_rows is not None:
            estimator = aligned_output(
                estimator, take_block(X, columns, test_rows), method, classes, where
            )
    # the job's CPU seconds go into the cache with its result (what a hit saves)
    return estimator, time.process_time() - start


# ------------------------------------------------------------------ caching


def _stored_branch_output(kind, key, value=None):
    """Identity: wrapped by joblib.Memory (``value`` ignored), it stores and loads by key."""
    return value


class _BranchCache:
    """Per-branch results in a joblib.Memory, keyed by hashes we compute once.

    The (branch x fold) fits are scheduled in one flat Parallel call, so the
    unit of caching (one branch's out-of-fold predictions, one branch's refit)
    is not one function call: we look up before the call and store after it.
    Each entry keeps the CPU seconds its computation took; ``reused_seconds``
    adds up those of the entries loaded, the work this fit did not repeat.
    """

    def __init__(self, memory):
        memory = check_memory(memory)
        self.enabled = getattr(memory, "location", None) is not None
        self.reused_seconds = 0.0
        if self.enabled:
            self._func = memory.cache(_stored_branch_output, ignore=["value"])

    def load(self, kind, key):
        if not self.enabled or not self._func.check_call_in_cache(kind, key):
            return None
        stored = self._func(kind, key)  # None if the entry vanished meanwhile
        if stored is None:
            return None
        value, seconds = stored
        self.reused_seconds += seconds
        return value

    def store(self, kind, key, value, seconds):
        if self.enabled and value is not None:
            self._func(kind, key, value=(value, seconds))


def _fit_key(data_key, branch, fit_params):
    """Cache key of a branch fit: the data (hashed once per fit), the branch's columns,
    parameters and fit metadata.

    A branch's rows (where its modalities are present) follow from the data. The
    key does not depend on the branch's name nor on the other branches, so that
    estimators sharing a branch (stacking, the vote, a hybrid) share its fits.
    """
    return joblib.hash((data_key, branch.columns, clone(branch.estimator), fit_params))


# ------------------------------------------------------------------ fitting


@dataclass
class FittedBranch:
    """A branch after fit: its refit estimator and its out-of-fold predictions."""

    branch: Branch
    estimator: object
    rows: np.ndarray  # training rows where the branch is present
    oof: np.ndarray = None  # out-of-fold predictions on those rows (None: not asked)


@dataclass
class _BranchPlan:
    """One branch's rows, splits and cache keys, and whatever the cache already had."""

    branch: Branch
    method: str
    rows: np.ndarray  # the rows where the branch is present
    splits: list  # in the branch's own row positions; None: no out-of-fold predictions
    keys: tuple = (None, None)  # (refit, out-of-fold) cache keys
    refit: object = None
    oof: np.ndarray = None


def _plan_branch(branch, present, y, splits, method, task, cache, data_key, classes, fit_params):
    rows = np.flatnonzero(present)
    local = None if splits is None else _local_splits(splits, present)
    _check_branch_rows(branch, rows.size, y.shape[0], y[rows], local or [], task)
    plan = _BranchPlan(branch, method, rows, local)
    if cache.enabled:
        fit_key = _fit_key(data_key, branch, fit_params)
        oof_key = None if local is None else joblib.hash((fit_key, local, method, classes))
        plan.keys = (fit_key, oof_key)
        plan.refit = cache.load("refit", fit_key)
        plan.oof = None if local is None else cache.load("oof", oof_key)
    return plan


def _jobs(k, plan):
    """The fits a branch still needs: (cost, branch index, fold or None for the refit)."""
    width = plan.branch.columns.size
    jobs = []
    if plan.refit is None:
        jobs.append((plan.rows.size * width, k, None))
    if plan.splits is not None and plan.oof is None:
        for fold in _tested_folds(plan.splits):
            jobs.append((plan.splits[fold][0].size * width, k, fold))
    return jobs


def _run_flat(jobs, plans, X, y, fit_params, classes, n_jobs, verbose, *, out_of_fold_first):
    """Yield ``(job, result)`` as the jobs of ONE Parallel call finish, in their order.

    Longest first (LPT scheduling: the last jobs to finish are short), after
    the out-of-fold jobs when ``out_of_fold_first`` (what needs only their
    predictions can then run while the refits do; in sequence, refits first
    gives a lower peak memory).
    """
    if not jobs:  # everything came from the cache: no call, no worker start-up
        return
    jobs.sort(key=lambda job: (out_of_fold_first and job[2] is None, -job[0]))
    limit = effective_n_jobs(n_jobs) != 1
    # BLAS limits are per process (and OpenBLAS ignores a limit set in a worker
    # thread once the main thread set one): limit around the call for thread
    # backends; process backends limit inside each job.
    threads = uses_threads()

    sources = {}

    def source(X_jobs, k):
        """What branch k's jobs read: all of X when it is a map shared with process
        workers (passed by reference, each job taking its columns), else the
        branch's block (less to send than all of X)."""
        if k not in sources:
            columns = plans[k].branch.columns
            shared = X_jobs is not X
            sources[k] = (X_jobs, columns) if shared else (take_columns(X, columns), None)
        return sources[k]

    def call(X_jobs, k, fold):
        # the rows are made as the job is dispatched, not all at once up front
        plan = plans[k]
        if fold is None:  # the refit
            where, method, test_rows = plan.branch.describe(), None, None
            fit_rows = None if plan.rows.size == y.shape[0] else plan.rows
        else:
            where, method = f"{plan.branch.describe()} on CV fold {fold}", plan.method
            train, test = plan.splits[fold]
            fit_rows, test_rows = plan.rows[train], plan.rows[test]
        return delayed(_fit_task)(
            plan.branch.estimator,
            *source(X_jobs, k),
            y,
            fit_params[k],
            fit_rows,
            test_rows,
            method,
            classes,
            where,
            limit and not threads,
        )

    # One job per batch: jobs are few (branches x (folds + 1)) and each is a model
    # fit, while auto-batching would group the last, short jobs on one worker.
    with shared_with_workers(X, n_jobs) as X_jobs, single_blas_thread(limit and threads):
        parallel = Parallel(
            n_jobs=n_jobs,
            verbose=verbose,
            batch_size=1,
            return_as="generator" if streams_results(n_jobs) else "list",
        )
        outputs = parallel(call(X_jobs, *job[1:]) for job in jobs)
        try:
            # outputs first: zip then draws the generator to its end, so it finishes
            # normally instead of being closed half-way (which joblib reports as an abort)
            yield from ((job, result) for result, job in zip(outputs, jobs))
        finally:
            if hasattr(outputs, "close"):  # a generator: stop the jobs still running
                with warnings.catch_warnings():
                    # we stop early only on an error, which says what went wrong
                    warnings.filterwarnings("ignore", "[0-9]+ tasks", UserWarning)
                    outputs.close()


def fit_branches(
    branches,
    X,
    y,
    presence,
    *,
    splits,
    methods,
    classes,
    task,
    fit_params,
    n_jobs=None,
    memory=None,
    verbose=0,
    while_refitting=None,
):
    """Fit every branch on its present rows, all fits in one flat Parallel call.

    Parameters
    ----------
    branches : list of Branch
        The branches to fit (none dropped).
    X : ndarray, sparse matrix or DataFrame of shape (n_samples, n_features)
        All columns; each branch takes its own.
    y : ndarray of shape (n_samples,)
        Targets, in the labels the branches are fitted on.
    presence : ndarray of bool, shape (n_samples, n_branches)
        From :func:`branch_presence`.
    splits : list of (train, test) or None
        CV splits over all rows, partitioning them; each branch uses
        their intersection with its present rows. None: refits only.
    methods : list of str
        The prediction method giving each branch's out-of-fold predictions.
    classes : ndarray or None
        Ensemble classes (classification) to align prediction columns with.
    task : {"classifier", "regressor"}
    fit_params : list of dict
        Per branch, fit parameters aligned with all rows (e.g. sample_weight).
    n_jobs, memory, verbose
        As for the estimators.
    while_refitting : callable, default=None
        Called with the list of FittedBranch (out-of-fold predictions in, refit
        estimators not yet) as soon as every out-of-fold prediction is in, while
        the refits may still run: what needs only the out-of-fold predictions
        (the final estimator, the vote's weights) overlaps them.

    Returns
    -------
    fitted : list of FittedBranch
    reused_seconds : float
        CPU seconds of the fits loaded from ``memory`` instead of run.
    """
    cache = _BranchCache(memory)
    data_key = joblib.hash((X, y)) if cache.enabled else None
    plans = [
        _plan_branch(
            branch, presence[:, k], y, splits, methods[k], task, cache, data_key, classes,
            fit_params[k],
        )
        for k, branch in enumerate(branches)
    ]
    jobs = [job for k, plan in enumerate(plans) for job in _jobs(k, plan)]
    if verbose and cache.enabled:
        print(f"[late fusion] {len(jobs)} fits to run; the others loaded from memory")
    fold_outputs, fold_seconds = {}, {}
    n_fold_jobs = sum(fold is not None for _, _, fold in jobs)
    # In parallel, what needs only the out-of-fold predictions runs while the
    # refits do; in sequence it waits for them (nothing to overlap, and its data
    # would add to the refits' peak memory).
    overlap = effective_n_jobs(n_jobs) != 1
    fitted = None

    def out_of_fold_done():
        nonlocal fitted
        fitted = _with_out_of_fold(plans, fold_outputs, fold_seconds, cache)
        if while_refitting is not None:
            while_refitting(fitted)

    if overlap and n_fold_jobs == 0:
        out_of_fold_done()
    # closing: an error in while_refitting stops the jobs still running at once
    flat = _run_flat(
        jobs, plans, X, y, fit_params, classes, n_jobs, verbose, out_of_fold_first=overlap
    )
    with closing(flat) as results:
        for (_, k, fold), (result, seconds) in results:
            if fold is None:
                plans[k].refit = result
                cache.store("refit", plans[k].keys[0], result, seconds)
            else:
                fold_outputs[k, fold] = result
                fold_seconds[k] = fold_seconds.get(k, 0.0) + seconds
                if overlap and len(fold_outputs) == n_fold_jobs:
                    out_of_fold_done()
    if fitted is None:
        out_of_fold_done()
    for item, plan in zip(fitted, plans):
        item.estimator = plan.refit
    return fitted, cache.reused_seconds


def _with_out_of_fold(plans, fold_outputs, fold_seconds, cache):
    """The branches with their out-of-fold predictions, before their refits are in."""
    fitted = []
    for k, plan in enumerate(plans):
        if plan.splits is not None and plan.oof is None:
            tested = _tested_folds(plan.splits)
            plan.oof = _assemble_oof(plan, {fold: fold_outputs[k, fold] for fold in tested})
            check_finite_output(plan.oof, plan.branch, "out-of-fold predictions")
            cache.store("oof", plan.keys[1], plan.oof, fold_seconds.get(k, 0.0))
        fitted.append(FittedBranch(plan.branch, None, plan.rows, plan.oof))
    return fitted


def _assemble_oof(plan, outputs):
    """Out-of-fold predictions on the branch's rows, from the test predictions of the
    folds that test some of them (``outputs`` by fold), which cover them all once."""
    first = next(iter(outputs.values()))
    oof = np.empty((plan.rows.size,) + first.shape[1:], dtype=np.float64)
    for fold, out in outputs.items():
        oof[plan.splits[fold][1]] = out
    return oof


def check_finite_output(output, branch, what):
    """Raise a ValueError naming the branch when its predictions contain NaN or inf."""
    bad = ~np.isfinite(output)
    if bad.any():
        rows = int(bad.reshape(bad.shape[0], -1).any(axis=1).sum())
        raise ValueError(
            f"The {branch.describe()} gave non-finite {what} in {rows} rows; check "
            "its estimator (e.g. a regressor diverging, or NaN inside a modality "
            "that is only partly missing)."
        )


def _rows_block(X, branch, rows, n_samples):
    """The branch's columns of X on ``rows``: X itself when the branch reads every row
    and every column in order (as a scikit-learn ensemble hands its base estimators
    the caller's X), else a view or a copy."""
    if rows.size == n_samples:
        if np.array_equal(branch.columns, np.arange(X.shape[1])):
            return X
        return take_block(X, branch.columns)
    return take_block(X, branch.columns, rows)


def prefit_branches(branches, X, presence, *, methods, classes):
    """``cv="prefit"``: check each branch is fitted and predict on its present rows."""
    from sklearn.utils.validation import check_is_fitted

    fitted = []
    for k, branch in enumerate(branches):
        check_is_fitted(branch.estimator)
        rows = np.flatnonzero(presence[:, k])
        if rows.size == 0:
            raise ValueError(f"The {branch.describe()} is present in no training row.")
        block = _rows_block(X, branch, rows, presence.shape[0])
        output = aligned_output(branch.estimator, block, methods[k], classes, branch.describe())
        check_finite_output(output, branch, "predictions")
        fitted.append(FittedBranch(branch, branch.estimator, rows, output))
    return fitted


def predict_branches(branches, estimators, X, presence, *, methods, classes):
    """Each fitted branch's outputs on the rows where it is present (None: nowhere)."""
    outputs = []
    for k, (branch, estimator) in enumerate(zip(branches, estimators)):
        rows = np.flatnonzero(presence[:, k])
        if rows.size == 0:
            outputs.append(None)
            continue
        block = _rows_block(X, branch, rows, presence.shape[0])
        output = aligned_output(estimator, block, methods[k], classes, branch.describe())
        check_finite_output(output, branch, "predictions")
        outputs.append(output)
    return outputs
