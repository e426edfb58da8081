"""Stacking over per-modality branches, robust to missing modalities."""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metadata_routing import MethodMapping
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from .._fit_context import fit_context
from ._docs import ESTIMATORS_AND_MODALITIES, FITTED_BRANCHES, FITTED_DATA, PARALLEL_AND_CACHE
from ._base import _BaseLateFusion, _is_classification
from ._branches import fit_estimator, subset_params

__all__ = ["StackingLateFusion"]


def _final_has(method):
    """available_if check: classification and the final estimator has ``method``."""

    def check(self):
        if not _is_classification(self):
            return False
        if hasattr(self, "final_estimator_"):
            return hasattr(self.final_estimator_, method)
        return self.final_estimator is None or hasattr(self.final_estimator, method)

    return check


class StackingLateFusion(_BaseLateFusion):
    __doc__ = f"""Stacked generalisation over one model per modality, robust to missing modalities.

    Each *branch* (an estimator over one modality, or over several) is fit on
    the rows where its modalities are present, gives out-of-fold predictions
    over the CV folds, and is refit on all its rows. A final estimator learns
    to combine the branches' out-of-fold predictions (the *meta-features*). A
    branch absent from a row (one of its modalities all NaN there) is not asked
    about it: its meta-features take a neutral value and, when the meta-learner
    was trained with gaps, a presence indicator says so.

    The estimator type follows the branches: all classifiers make a classifier
    (``predict_proba``/``decision_function`` when the final estimator has them),
    all regressors a regressor.

    Parameters
    ----------{ESTIMATORS_AND_MODALITIES}
    final_estimator : estimator, default=None
        Combines the meta-features. None: ``LogisticRegression()`` for
        classification, ``RidgeCV()`` for regression.
    cv : int, cross-validation generator, iterable or "prefit", default=5
        Splits giving the out-of-fold predictions (an int gives
        ``StratifiedKFold`` for classification, ``KFold`` otherwise, without
        shuffling). The splits are made once over all rows; each branch uses
        their intersection with its present rows. ``"prefit"``: the branch
        estimators are already fitted (on their own columns) and the final
        estimator learns from their in-sample predictions.
    stack_method : {{"auto", "predict_proba", "decision_function", "predict"}}, \
            default="auto"
        Branch method giving the meta-features; ``"auto"`` tries them in that
        order. Regression always uses ``predict``.
    passthrough : bool, default=False
        Also give the final estimator the input columns (NaN where a modality
        is missing, so the final estimator must then accept NaN).
    simulate_missing : float in [0, 1), default=0.3
        When no training row misses a branch, the meta-learner would never see
        a neutral value or an absent indicator. Then a second copy of the
        out-of-fold meta-features is added, in which each (row, modality) is
        blanked with this probability (a branch is absent when one of its
        modalities is; each copied row keeps at least one branch). 0 turns it
        off. Not used when the training data already has missing modalities,
        nor with a single branch.
    random_state : int, RandomState instance or None, default=None
        Seeds the blanking of ``simulate_missing``.{PARALLEL_AND_CACHE.format(combiner="``final_estimator``")}

    Attributes
    ----------{FITTED_BRANCHES}
    final_estimator_ : estimator
        The fitted meta-learner.
    stack_method_ : list of str
        Method used for each fitted branch.
    neutral_values_ : ndarray of shape (n_meta_predictions,)
        Value of each prediction meta-feature where its branch is absent:
        the training class prior (probabilities; the first class left out in
        the binary case, as for the predictions), the training mean
        (regression), the mean out-of-fold value otherwise.
    presence_indicators_ : bool
        Whether the meta-features end with one presence indicator (1.0
        present, 0.0 absent) per branch: True when the meta-learner was
        trained with gaps (real or simulated).{FITTED_DATA}

    See Also
    --------
    WeightedVoteFusion : Weighted vote over the branches, with learned weights.
    sklearn.ensemble.StackingClassifier : Stacking without modalities.

    Notes
    -----
    With no missing modality, ``simulate_missing=0`` and the same CV splits,
    the meta-features and predictions equal those of scikit-learn's
    ``StackingClassifier``/``StackingRegressor`` whose base estimators are
    pipelines selecting each modality's columns. The simulated gaps are on by
    default because a meta-learner that never saw a branch absent has no
    reason to discount it when it is; they cost one extra copy of the
    meta-features when training the (small) final estimator.

    Stacked generalisation: Wolpert, D. H. (1992). Stacked generalization.
    *Neural Networks*, 5(2), 241-259.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfusion import StackingLateFusion
    >>> from skfusion.datasets import make_multimodal_classification
    >>> X, y, modalities = make_multimodal_classification(
    ...     n_samples=120, widths={{"a": 3, "b": 4}}, random_state=0)
    >>> X[:10, modalities["b"]] = np.nan  # modality 'b' missing in 10 rows
    >>> stack = StackingLateFusion(LogisticRegression(), modalities=modalities)
    >>> stack.fit(X, y).predict(X[:3]).shape
    (3,)
    >>> stack.get_feature_names_out()
    array(['stackinglatefusion_a', 'stackinglatefusion_b',
           'stackinglatefusion_a_present', 'stackinglatefusion_b_present'],
          dtype=object)
    """

    _parameter_constraints: dict = {
        **_BaseLateFusion._parameter_constraints,
        "final_estimator": [None, HasMethods("fit")],
        "cv": ["cv_object", StrOptions({"prefit"})],
        "stack_method": [StrOptions({"auto", "predict_proba", "decision_function", "predict"})],
        "passthrough": ["boolean"],
        "simulate_missing": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimators,
        modalities=None,
        *,
        final_estimator=None,
        cv=5,
        stack_method="auto",
        passthrough=False,
        simulate_missing=0.3,
        random_state=None,
        n_jobs=None,
        memory=None,
        verbose=0,
    ):
        self.estimators = estimators
        self.modalities = modalities
        self.final_estimator = final_estimator
        self.cv = cv
        self.stack_method = stack_method
        self.passthrough = passthrough
        self.simulate_missing = simulate_missing
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.memory = memory
        self.verbose = verbose

    # ------------------------------------------------------------ fit

    @fit_context(
        # the branch and final estimators are validated when they are fitted
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the branches on their rows and the final estimator on their out-of-fold predictions.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            All modalities' columns; a modality is missing in a row when all
            its columns are NaN there.
        y : array-like of shape (n_samples,)
            Target.
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every branch (on its rows) and to the final estimator;
            an error when one of them does not accept it.
        **fit_params : dict
            Other metadata, only with metadata routing enabled.

        Returns
        -------
        self : object
        """
        data = self._validate_fit_data(X, y, sample_weight, fit_params)
        self.final_estimator_ = self._make_final_estimator(data.task)
        self.stack_method_ = [self._branch_method(b, data.task) for b in self._branches]

        def fit_final_estimator(fitted):  # the branches' refits may still be running
            X_meta, y_meta, final_params = self._meta_training_set(fitted, data)
            fit_estimator(self.final_estimator_, X_meta, y_meta, final_params, "final estimator")

        self._fit_branches(
            data, self.stack_method_, out_of_fold=True, while_refitting=fit_final_estimator
        )
        return self

    def _meta_training_set(self, fitted, data):
        """The out-of-fold meta-features the final estimator learns from, with its targets
        and metadata; sets ``neutral_values_`` and ``presence_indicators_``."""
        n_samples = data.y.shape[0]
        outputs = [(item.rows, self._as_columns(item.oof, k)) for k, item in enumerate(fitted)]
        self._stack_widths = [out.shape[1] for _, out in outputs]
        self.neutral_values_ = self._neutral_values(outputs, data)
        meta, presence = self._fill(outputs, n_samples)

        # rows with no branch get the prior at predict time, not the meta-learner
        rows = np.flatnonzero(presence.any(axis=1))
        meta, presence = meta[rows], presence[rows]
        passthrough = data.X_valid[rows] if self.passthrough else None
        y_meta = data.y_encoded[rows]
        final_params = subset_params(data.final_params, rows, n_samples)

        simulated = self._simulate_gaps(presence, passthrough)
        if simulated is not None:
            copy_presence, copy_passthrough = simulated
            meta = np.vstack([meta, self._blank(meta, copy_presence)])
            presence = np.vstack([presence, copy_presence])
            if passthrough is not None:
                passthrough = _vstack([passthrough, copy_passthrough])
            y_meta = np.concatenate([y_meta, y_meta])
            twice = np.concatenate([np.arange(rows.size), np.arange(rows.size)])
            final_params = subset_params(final_params, twice, rows.size)
        self.presence_indicators_ = not presence.all()
        return self._assemble(meta, presence, passthrough), y_meta, final_params

    def _make_final_estimator(self, task):
        if self.final_estimator is None:
            return LogisticRegression() if task == "classifier" else RidgeCV()
        final = clone(self.final_estimator)
        expected = is_classifier if task == "classifier" else is_regressor
        if not expected(final):
            raise ValueError(
                f"`final_estimator` must be a {task} since the branches are "
                f"{task}s; got {final!r}."
            )
        return final

    def _branch_method(self, branch, task):
        if task == "regressor":
            if self.stack_method not in ("auto", "predict"):
                raise ValueError(
                    f"stack_method={self.stack_method!r} needs classifier branches; "
                    "regression stacks `predict`."
                )
            return "predict"
        candidates = (
            ["predict_proba", "decision_function", "predict"]
            if self.stack_method == "auto"
            else [self.stack_method]
        )
        for method in candidates:
            if hasattr(branch.estimator, method):
                return method
        raise ValueError(
            f"The {branch.describe()} does not implement {self.stack_method!r} "
            f"(stack_method={self.stack_method!r})."
        )

    def _as_columns(self, output, k):
        """Branch output as meta-feature columns (binary probabilities: the positive class only)."""
        if output.ndim == 1:
            return output[:, None]
        if self.stack_method_[k] == "predict_proba" and len(self.classes_) == 2:
            # p(class 0) = 1 - p(class 1): one column is enough (as in scikit-learn)
            return output[:, 1:]
        return output

    def _neutral_values(self, outputs, data):
        values = []
        for k, (rows, out) in enumerate(outputs):
            method = self.stack_method_[k]
            if data.task == "regressor":
                values.append(np.full(out.shape[1], self.target_mean_))
            elif method == "predict_proba":
                prior = self.class_prior_
                values.append(prior[1:] if prior.size == 2 else prior)
            else:
                weights = None if data.sample_weight is None else data.sample_weight[rows]
                values.append(np.average(out, axis=0, weights=weights))
        return np.concatenate(values)

    def _fill(self, outputs, n_samples):
        """Meta-features of all rows (neutral where a branch is absent) and the presence."""
        meta = np.tile(self.neutral_values_, (n_samples, 1))
        presence = np.zeros((n_samples, len(outputs)), dtype=bool)
        start = 0
        for k, (rows, out) in enumerate(outputs):
            stop = start + self._stack_widths[k]
            if rows is not None and rows.size:
                meta[rows, start:stop] = out
                presence[rows, k] = True
            start = stop
        return meta, presence

    def _blank(self, meta, presence):
        """``meta`` with the neutral value wherever a branch is absent in ``presence``."""
        meta = meta.copy()
        start = 0
        for k, width in enumerate(self._stack_widths):
            stop = start + width
            absent = ~presence[:, k]
            meta[absent, start:stop] = self.neutral_values_[start:stop]
            start = stop
        return meta

    def _simulate_gaps(self, presence, passthrough):
        """A copy of the rows with modalities blanked at random, or None when not simulated.

        Simulated only when training has no gap, ``simulate_missing > 0`` and
        there are at least two branches. Each (row, modality) among those the
        branches read is blanked with probability ``simulate_missing``; a row
        that would lose every branch gets one branch back, chosen uniformly.
        """
        if self.simulate_missing == 0 or len(self._branches) < 2 or not presence.all():
            return None
        rng = check_random_state(self.random_state)
        names = [m for m in self.modalities_ if any(m in b.modalities for b in self._branches)]
        position = {m: j for j, m in enumerate(names)}
        reads = [[position[m] for m in b.modalities] for b in self._branches]
        blanked = rng.random_sample((presence.shape[0], len(names))) < self.simulate_missing
        present = np.column_stack([~blanked[:, idx].any(axis=1) for idx in reads])
        lost = np.flatnonzero(~present.any(axis=1))
        if lost.size:
            chosen = rng.randint(len(reads), size=lost.size)
            for row, k in zip(lost, chosen):
                blanked[row, reads[k]] = False
            present[lost] = np.column_stack([~blanked[lost][:, idx].any(axis=1) for idx in reads])
        copy_passthrough = None
        if passthrough is not None:
            copy_passthrough = _blank_columns(
                passthrough, blanked, [self.modalities_[m] for m in names]
            )
        return present, copy_passthrough

    def _assemble(self, meta, presence, passthrough):
        parts = [meta]
        if self.presence_indicators_:
            parts.append(presence.astype(np.float64))
        if self.passthrough:
            if sp.issparse(passthrough):
                return sp.hstack([sp.csr_matrix(np.hstack(parts)), passthrough], format="csr")
            parts.append(passthrough)
            return np.hstack(parts)
        return parts[0] if len(parts) == 1 else np.hstack(parts)

    # ------------------------------------------------------------ predict

    def _meta_features(self, X):
        """Meta-features of X and the mask of rows with no branch present."""
        X_valid, presence, outputs = self._branch_outputs(X, self.stack_method_)
        columns = [
            (np.flatnonzero(presence[:, k]), None if out is None else self._as_columns(out, k))
            for k, out in enumerate(outputs)
        ]
        meta, presence = self._fill(columns, presence.shape[0])
        return self._assemble(meta, presence, X_valid), ~presence.any(axis=1)

    def transform(self, X):
        """The meta-features: per-branch predictions, then presence indicators.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        X_meta : ndarray of shape (n_samples, n_meta_features)
            Each branch's predictions (its neutral value where absent), one
            presence indicator per branch when ``presence_indicators_``, then
            the input columns when ``passthrough``.
        """
        return self._meta_features(X)[0]

    def _final_output(self, X, method, fallback):
        meta, none = self._meta_features(X)
        return self._predict_present_rows(
            lambda present: getattr(self.final_estimator_, method)(_take_rows(meta, present)),
            ~none,
            fallback,
        )

    def predict(self, X):
        """Predict with the final estimator; rows with no branch get the prior or mean.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels or values.
        """
        check_is_fitted(self)
        if not hasattr(self, "classes_"):
            return self._final_output(X, "predict", self.target_mean_)
        index = self._final_output(X, "predict", int(np.argmax(self.class_prior_)))
        return self.classes_[np.asarray(index, dtype=np.intp)]

    @available_if(_final_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the final estimator (the prior where no branch is present).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self._aligned(self._final_output(X, "predict_proba", self.class_prior_))

    @available_if(_final_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the final estimator.

        Rows with no branch present get the log prior (binary: the log-odds of
        the prior), the decision of a linear model that knows nothing else.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        decision : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        log_prior = np.log(np.clip(self.class_prior_, 1e-300, None))
        fallback = log_prior[1] - log_prior[0] if log_prior.size == 2 else log_prior
        return self._final_output(X, "decision_function", fallback)

    def _aligned(self, proba):
        seen = getattr(self.final_estimator_, "classes_", None)
        if seen is None or len(seen) == len(self.classes_):
            return proba
        aligned = np.zeros((proba.shape[0], len(self.classes_)))
        aligned[:, np.asarray(seen, dtype=np.intp)] = proba
        return aligned

    def get_feature_names_out(self, input_features=None):
        """Names of the meta-features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names, used only with ``passthrough=True``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``stackinglatefusion_<branch>`` (one column) or
            ``stackinglatefusion_<branch><i>``, then
            ``stackinglatefusion_<branch>_present`` indicators, then the input
            names with ``passthrough``.
        """
        check_is_fitted(self, "n_features_in_")
        input_features = _check_feature_names_in(
            self, input_features, generate_names=self.passthrough
        )
        prefix = type(self).__name__.lower()
        names = []
        for branch, width in zip(self._branches, self._stack_widths):
            if width == 1:
                names.append(f"{prefix}_{branch.name}")
            else:
                names.extend(f"{prefix}_{branch.name}{i}" for i in range(width))
        if self.presence_indicators_:
            names.extend(f"{prefix}_{branch.name}_present" for branch in self._branches)
        if self.passthrough:
            names.extend(input_features)
        return np.asarray(names, dtype=object)

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        ``fit`` metadata reach every branch's ``fit`` (on its rows) and the
        final estimator's ``fit``.

        Returns
        -------
        routing : MetadataRouter
        """
        router = super().get_metadata_routing()
        final = getattr(self, "final_estimator_", self.final_estimator)
        if final is None:
            final = LogisticRegression() if is_classifier(self) else RidgeCV()
        router.add(
            final_estimator=final,
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
        return router


# ---------------------------------------------------------------- helpers


def _vstack(blocks):
    if any(sp.issparse(block) for block in blocks):
        return sp.vstack(blocks, format="csr")
    return np.vstack(blocks)


def _take_rows(X, mask):
    return X[np.flatnonzero(mask)] if sp.issparse(X) else X[mask]


def _blank_columns(X, blanked, columns):
    """A copy of ``X`` with NaN in the columns of each blanked (row, modality)."""
    dense = not sp.issparse(X)
    X = X.astype(np.float64, copy=True) if dense else X.astype(np.float64).tolil()
    for j, cols in enumerate(columns):
        rows = np.flatnonzero(blanked[:, j])
        if rows.size:
            X[np.ix_(rows, cols)] = np.full((rows.size, len(cols)), np.nan)
    return X if dense else X.tocsr()
