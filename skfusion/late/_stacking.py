"""Stacking over per-modality branches, robust to missing modalities."""

from itertools import combinations

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.metadata_routing import (
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from .._fit_context import check_params_unchanged_since_fit, fit_context
from .._modalities import take_columns
from .._utils.docstrings import RETURNS_SELF, X_MODALITIES_SPARSE, fill_doc
from ._base import _BaseLateFusion, _is_classification
from ._branches import fit_estimator, subset_params
from ._docs import (
    ESTIMATORS_AND_MODALITIES,
    FIT_PARAMS,
    FIT_Y,
    FITTED_BRANCHES,
    FITTED_DATA,
    NAN_CELLS,
    PARALLEL_AND_CACHE,
    X_INPUT,
)

__all__ = ["StackingLateFusion"]


def _final_has(method):
    """available_if check: classification and the final estimator has ``method``.

    Where it has not, the AttributeError saying why (the final estimator's own,
    or that the branches are regressors) becomes the cause of the one that
    ``available_if`` raises, as in scikit-learn's stacking.
    """

    def check(self):
        if not _is_classification(self):
            raise AttributeError(
                f"{method} is only available for classification; the branches are regressors"
            )
        final = getattr(self, "final_estimator_", self.final_estimator)
        if final is not None:  # None: the default LogisticRegression has every method
            getattr(final, method)
        return True

    return check


class StackingLateFusion(_BaseLateFusion):
    __doc__ = f"""Stacked generalisation over one model per modality, robust to missing modalities.

    Each *branch* (an estimator over one modality, or over several) is fit on
    the rows where its modalities are present, gives out-of-fold predictions
    over the CV folds, and is refit on all its rows. A final estimator learns
    to combine the branches' out-of-fold predictions (the *meta-features*). A
    branch absent from a row (one of its modalities all NaN there) is not asked
    about it: the row is predicted by the meta-learner of its pattern of
    present branches (see Notes).

    The estimator type follows the branches: all classifiers make a classifier
    (``predict_proba``/``decision_function`` when the final estimator has them),
    all regressors a regressor.

    Parameters
    ----------{ESTIMATORS_AND_MODALITIES}
    final_estimator : estimator, default=None
        Combines the meta-features. None: ``LogisticRegression()`` for
        classification; for regression ``LinearRegression(positive=True)``,
        non-negative least squares as Breiman recommends for stacked
        regressions, whose predictions follow the unit of ``y`` (a ridge
        penalty on meta-features in that unit would not).
    cv : int, cross-validation generator, iterable or "prefit", default=5
        Splits giving the out-of-fold predictions (an int gives
        ``StratifiedKFold`` for classification, ``KFold`` otherwise, without
        shuffling). The splits are made once over all rows; each branch uses
        their intersection with its present rows: a fold that tests none of
        them (a modality missing in a block of sorted rows) is not fitted for
        it, one that tests some must train it on at least 2 rows (of 2
        classes). ``"prefit"``: the branch estimators are already fitted (on
        their own columns) and the final estimator learns from their
        in-sample predictions.
    stack_method : {{"auto", "predict_proba", "decision_function", "predict"}}, \
            default="auto"
        Branch method giving the meta-features; ``"auto"`` tries them in that
        order. Regression always uses ``predict``.
    passthrough : bool, default=False
        Also give the final estimator the input columns: those of the
        modalities its branches read, and of the modalities no branch reads.
        The fitted model then keeps the training columns it passes through
        (see Notes); their NaN cells are filled as the branches' are.{PARALLEL_AND_CACHE.format(combiner="``final_estimator``")}

    Attributes
    ----------{FITTED_BRANCHES}
    final_estimator_ : estimator
        The meta-learner of rows where every branch is present.
    final_estimators_ : dict of tuple of str to estimator
        The meta-learner of each pattern of present branches met so far, keyed
        by the names of those branches: every training pattern, and each
        pattern first met at prediction time (fitted then, see Notes).
    stack_method_ : list of str
        Method used for each fitted branch.{FITTED_DATA}

    See Also
    --------
    WeightedVoteFusion : Weighted vote over the branches, with learned weights.
    sklearn.ensemble.StackingClassifier : Stacking without modalities.

    Notes
    -----
    A row is predicted by the meta-learner of its *pattern*: the branches
    present in it. That meta-learner is a clone of ``final_estimator`` fitted
    on the out-of-fold predictions of those branches only, over every training
    row where they are present: a reduced-feature model, which needs no
    imputed value for an absent branch and no simulated gaps. The meta-learner
    of a pattern first met at prediction time is fitted then, from the
    out-of-fold predictions kept with the model (a few columns per row; with
    ``passthrough`` also the passed-through training columns), and kept in
    ``final_estimators_``: deterministic, so it does not matter when it is
    fitted. A pattern with fewer than two training rows (or one class) uses
    the largest pattern within it that has enough.
{NAN_CELLS}

    With no missing modality and the same CV splits, the meta-features and
    predictions equal those of scikit-learn's ``StackingClassifier`` (and of
    ``StackingRegressor`` given the same final estimator) whose base
    estimators are pipelines selecting each modality's columns.

    Stacked generalisation: Wolpert (1992), "Stacked generalization", *Neural
    Networks* 5(2), 241-259; non-negative least squares for stacked
    regressions: Breiman (1996), "Stacked regressions", *Machine Learning*
    24(1), 49-64. Reduced-feature models for missing values at prediction
    time: Saar-Tsechansky and Provost (2007), "Handling missing values when
    applying classification models", *JMLR* 8, 1623-1657.

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
    array(['stackinglatefusion_a', 'stackinglatefusion_b'], dtype=object)
    >>> sorted(stack.final_estimators_)  # the patterns of present branches met so far
    [('a',), ('a', 'b')]
    """

    # Read at predict time beside state fitted for them: refused if changed after fit
    # (the final estimator is fitted on the meta-features with or without the columns).
    _params_fixed_at_fit = ("passthrough",)

    _parameter_constraints: dict = {
        **_BaseLateFusion._parameter_constraints,
        "final_estimator": [None, HasMethods("fit")],
        "cv": ["cv_object", StrOptions({"prefit"})],
        "stack_method": [StrOptions({"auto", "predict_proba", "decision_function", "predict"})],
        "passthrough": ["boolean"],
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
        self.n_jobs = n_jobs
        self.memory = memory
        self.verbose = verbose

    # ------------------------------------------------------------ fit

    @fit_context(
        # the branch and final estimators are validated when they are fitted
        prefer_skip_nested_validation=False
    )
    @fill_doc(
        x_modalities_sparse=X_MODALITIES_SPARSE,
        fit_y=FIT_Y,
        fit_params=FIT_PARAMS,
        returns_self=RETURNS_SELF,
    )
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the branches on their rows and the final estimator on their out-of-fold predictions.

        Parameters
        ----------
        %(x_modalities_sparse)s
        %(fit_y)s
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every branch (on its rows; a Pipeline branch's last
            step and each other step whose ``fit`` takes it; with metadata
            routing, those that request it) and to the final estimator
            (always, as in scikit-learn's stacking); an error when one of them
            does not accept it.
        %(fit_params)s

        Returns
        -------
        %(returns_self)s
        """
        data = self._validate_fit_data(X, y, sample_weight, fit_params)
        self._final_template = self._make_final_estimator(data.task)
        self.stack_method_ = [self._branch_method(b, data.task) for b in self._branches]

        def fit_meta_learners(fitted):  # the branches' refits may still be running
            self._meta_train = self._meta_training_set(fitted, data)
            # (pattern, the pattern whose meta-features it reads, meta-learner): a list
            # of plain values, so that skops can store it (no tuple keys, no new types)
            self._pattern_models = []
            for pattern in np.unique(self._meta_train["presence"], axis=0):
                self._pattern_estimator(pattern)
            every_branch = np.ones(len(self._branches), dtype=bool)
            self.final_estimator_ = self._pattern_estimator(every_branch)[0]

        self._fit_branches(
            data, self.stack_method_, out_of_fold=True, while_refitting=fit_meta_learners
        )
        return self

    def _meta_training_set(self, fitted, data):
        """What the meta-learners learn from: the out-of-fold meta-features (NaN where a
        branch is absent), the presence of each branch, the targets and metadata of the
        rows where some branch is present, and the passed-through columns."""
        n_samples = data.y.shape[0]
        outputs = [(item.rows, self._as_columns(item.oof, k)) for k, item in enumerate(fitted)]
        self._stack_widths = [out.shape[1] for _, out in outputs]
        meta, presence = self._meta_matrix(outputs, n_samples)
        # rows with no branch get the prior at predict time, not a meta-learner
        rows = np.flatnonzero(presence.any(axis=1))
        passthrough = None
        if self.passthrough:
            passthrough = _take_rows(take_columns(data.X_valid, self._passthrough_columns()), rows)
        return {
            "meta": meta[rows],  # out-of-fold meta-features, NaN where a branch is absent
            "presence": presence[rows],
            "y": data.y_encoded[rows],
            "params": subset_params(data.final_params, rows, n_samples),
            "passthrough": passthrough,  # the modalities' columns, or None
        }

    def _meta_matrix(self, outputs, n_samples):
        """Meta-features of all rows (NaN where a branch is absent) and the branch presence."""
        meta = np.full((n_samples, sum(self._stack_widths)), np.nan)
        presence = np.zeros((n_samples, len(outputs)), dtype=bool)
        for k, ((rows, out), columns) in enumerate(zip(outputs, self._meta_slices())):
            if rows is not None and rows.size:
                meta[rows, columns] = out
                presence[rows, k] = True
        return meta, presence

    def _meta_slices(self):
        stops = np.cumsum(self._stack_widths)
        return [slice(stop - width, stop) for stop, width in zip(stops, self._stack_widths)]

    def _passthrough_columns(self):
        """The input columns passed through: every modality's, in input order."""
        return np.unique(np.concatenate(list(self.modalities_.values())))

    def _passthrough_positions(self, pattern):
        """Positions, among :meth:`_passthrough_columns`, of the columns a pattern's
        meta-learner reads: its branches' modalities and those no branch reads (a
        modality read only by absent branches may be missing)."""
        read = {m for branch, present in zip(self._branches, pattern) for m in branch.modalities if present}
        unread = set(self.modalities_) - {m for b in self._branches for m in b.modalities}
        columns = np.unique(
            np.concatenate([self.modalities_[m] for m in self.modalities_ if m in read | unread])
        )
        return np.searchsorted(self._passthrough_columns(), columns)

    # ------------------------------------------------------------ meta-learners by pattern

    def _pattern_estimator(self, pattern):
        """The meta-learner of the rows where exactly the branches ``pattern`` are present,
        and the pattern whose meta-features it reads (a smaller one when too few training
        rows have ``pattern``); fitted the first time the pattern is met."""
        key = self._pattern_key(pattern)
        for known, reads, estimator in self._pattern_models:
            if known == key:
                return estimator, reads
        reads, rows = self._trainable_pattern(np.asarray(pattern, dtype=bool))
        train = self._meta_train
        estimator = clone(self._final_template)
        fit_estimator(
            estimator,
            self._pattern_features(
                train["meta"][rows], _take_rows_or_none(train["passthrough"], rows), reads
            ),
            train["y"][rows],
            subset_params(train["params"], rows, train["y"].shape[0]),
            f"final estimator of the rows with branches {list(key)}",
        )
        self._pattern_models.append((key, reads, estimator))
        return estimator, reads

    @property
    def final_estimators_(self):
        """The meta-learner of each pattern of present branches met so far, by their names."""
        if "_pattern_models" not in self.__dict__:
            raise AttributeError(f"This {type(self).__name__} is not fitted: no final_estimators_.")
        return {key: estimator for key, _, estimator in self._pattern_models}

    def _pattern_key(self, pattern):
        return tuple(branch.name for branch, present in zip(self._branches, pattern) if present)

    def _trainable_pattern(self, pattern):
        """``pattern``, or the largest pattern within it (earlier branches first) with at
        least two training rows (and two classes), and those rows."""
        train = self._meta_train
        present = np.flatnonzero(pattern)
        for size in range(present.size, 0, -1):
            for subset in combinations(present, size):
                rows = np.flatnonzero(train["presence"][:, list(subset)].all(axis=1))
                classes = np.unique(train["y"][rows]).size if hasattr(self, "classes_") else 2
                if rows.size >= 2 and classes >= 2:
                    reads = np.zeros_like(pattern)
                    reads[list(subset)] = True
                    return reads, rows
        raise ValueError(  # each branch alone has two rows and two classes: not reached
            f"No branch of {self._pattern_key(pattern)} has enough training rows."
        )

    def _pattern_features(self, meta, passthrough, pattern):
        """The meta-features of the branches in ``pattern`` (and the passed-through columns)."""
        columns = np.concatenate(
            [np.arange(s.start, s.stop) for s, present in zip(self._meta_slices(), pattern) if present]
        )
        features = meta[:, columns]
        if passthrough is None:
            return features
        passthrough = take_columns(passthrough, self._passthrough_positions(pattern))
        if sp.issparse(passthrough):
            return sp.hstack([sp.csr_matrix(features), passthrough], format="csr")
        return np.hstack([features, passthrough])

    def _make_final_estimator(self, task):
        if self.final_estimator is None:
            return _default_final_estimator(task)
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
        if len(candidates) == 1:
            missing = f"does not implement {candidates[0]!r}"
        else:
            missing = "implements none of " + ", ".join(repr(m) for m in candidates)
        raise ValueError(f"The {branch.describe()} {missing} (stack_method={self.stack_method!r}).")

    def _as_columns(self, output, k):
        """Branch output as meta-feature columns (binary probabilities: the positive class only)."""
        if output.ndim == 1:
            return output[:, None]
        if self.stack_method_[k] == "predict_proba" and len(self.classes_) == 2:
            # p(class 0) = 1 - p(class 1): one column is enough (as in scikit-learn)
            return output[:, 1:]
        return output

    # ------------------------------------------------------------ predict

    def _meta_features(self, X):
        """Meta-features of X (NaN where a branch is absent), the branch presence, and the
        passed-through columns (None without ``passthrough``)."""
        check_is_fitted(self)
        X_valid, presence, outputs = self._branch_outputs(X, self.stack_method_)
        columns = [
            (np.flatnonzero(presence[:, k]), None if out is None else self._as_columns(out, k))
            for k, out in enumerate(outputs)
        ]
        meta, presence = self._meta_matrix(columns, presence.shape[0])
        passthrough = (
            take_columns(X_valid, self._passthrough_columns()) if self.passthrough else None
        )
        return meta, presence, passthrough

    def transform(self, X):
        """The meta-features: each branch's predictions, NaN where the branch is absent.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Samples to describe by the branches' predictions.

        Returns
        -------
        X_meta : ndarray of shape (n_samples, n_meta_features)
            The branches' predictions side by side, then the modalities'
            columns when ``passthrough``.
        """
        meta, _, passthrough = self._meta_features(X)
        if passthrough is None:
            return meta
        if sp.issparse(passthrough):
            return sp.hstack([sp.csr_matrix(meta), passthrough], format="csr")
        return np.hstack([meta, passthrough])

    def _final_output(self, X, method, fallback, params=None):
        """Each row's pattern meta-learner's ``method``; ``fallback`` where no branch is present.

        ``params`` go to every meta-learner's ``method``. An output that is a
        tuple (``predict(X, return_std=True)``) is assembled element by
        element; rows with no branch get ``fallback`` in its first element
        and NaN in the others (no meta-learner says how uncertain they are).
        """
        meta, presence, passthrough = self._meta_features(X)
        params = params or {}
        outputs = []  # the tuple's elements; one for a plain output

        def predict(some):
            patterns, inverse = np.unique(presence[some], axis=0, return_inverse=True)
            inverse, rows_of_some = inverse.reshape(-1), np.flatnonzero(some)
            for i, pattern in enumerate(patterns):
                rows = rows_of_some[inverse == i]
                estimator, reads = self._pattern_estimator(pattern)
                features = self._pattern_features(
                    meta[rows], _take_rows_or_none(passthrough, rows), reads
                )
                # sample-aligned parameters (routed metadata) follow the rows
                piece = getattr(estimator, method)(
                    features, **subset_params(params, rows, presence.shape[0])
                )
                pieces = piece if isinstance(piece, tuple) else (piece,)
                for j, element in enumerate(pieces):
                    element = np.asarray(element)
                    if j == 0:
                        element = self._aligned(estimator, method, element)
                    if len(outputs) <= j:
                        outputs.append(np.empty((rows_of_some.size,) + element.shape[1:], element.dtype))
                    outputs[j][inverse == i] = element
            return outputs[0]

        first = self._predict_present_rows(predict, presence.any(axis=1), fallback)
        if len(outputs) < 2:
            return first
        present = presence.any(axis=1)
        rest = []
        for element in outputs[1:]:
            full = np.full((present.size,) + element.shape[1:], np.nan)
            full[present] = element
            rest.append(full)
        return (first, *rest)

    def predict(self, X, **predict_params):
        """Predict with the meta-learners; rows with no branch get the prior or mean.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Samples; each row is predicted by the meta-learner of the branches
            present in it.
        **predict_params : dict
            Passed to the meta-learners' ``predict`` (routed to the final
            estimator's ``predict`` with metadata routing enabled), e.g.
            ``return_std=True`` for a final estimator that gives it; it
            accounts for the final estimator's uncertainty only.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,), or a tuple of such
            Predicted labels or values (and what ``predict_params`` ask for).
        """
        check_is_fitted(self)
        if _routing_enabled():
            params = process_routing(self, "predict", **predict_params)["final_estimator"]["predict"]
        else:
            params = predict_params
        if not hasattr(self, "classes_"):
            return self._final_output(X, "predict", self.target_mean_, params)
        index = self._final_output(X, "predict", int(np.argmax(self.class_prior_)), params)
        return self.classes_[np.asarray(index, dtype=np.intp)]

    @available_if(_final_has("predict_proba"))
    @fill_doc(x_input=X_INPUT)
    def predict_proba(self, X):
        """Class probabilities from the final estimator (the prior where no branch is present).

        Parameters
        ----------
        %(x_input)s

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        return self._final_output(X, "predict_proba", self.class_prior_)

    @available_if(_final_has("decision_function"))
    @fill_doc(x_input=X_INPUT)
    def decision_function(self, X):
        """Decision function of the final estimator.

        Rows with no branch present get the log prior (binary: the log-odds of
        the prior), the decision of a linear model that knows nothing else.

        Parameters
        ----------
        %(x_input)s

        Returns
        -------
        decision : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        log_prior = np.log(np.clip(self.class_prior_, 1e-300, None))
        fallback = log_prior[1] - log_prior[0] if log_prior.size == 2 else log_prior
        return self._final_output(X, "decision_function", fallback)

    def _aligned(self, estimator, method, output):
        """A meta-learner's class columns in the order of ``classes_`` (one trained on rows
        lacking some class gives it probability 0)."""
        seen = getattr(estimator, "classes_", None)
        if method == "predict" or seen is None or len(seen) == len(self.classes_):
            return output
        if method == "decision_function":
            raise ValueError(
                f"A meta-learner saw only classes {self.classes_[seen].tolist()} of "
                f"{self.classes_.tolist()} in its training rows, so its decision_function "
                "cannot be aligned with the other classes; use predict_proba."
            )
        aligned = np.zeros((output.shape[0], len(self.classes_)))
        aligned[:, np.asarray(seen, dtype=np.intp)] = output
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
            ``stackinglatefusion_<branch><i>``, then with ``passthrough`` the
            names of the modalities' columns.
        """
        check_is_fitted(self, "n_features_in_")
        check_params_unchanged_since_fit(self)
        input_features = _check_feature_names_in(
            self, input_features, generate_names=self.passthrough
        )
        names = self._branch_feature_names(self._stack_widths)
        if self.passthrough:
            names.extend(np.asarray(input_features)[self._passthrough_columns()])
        return np.asarray(names, dtype=object)

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        ``fit`` metadata reach every branch's ``fit`` (on its rows) that
        requests them; ``predict`` metadata reach the final estimator's
        ``predict``. As in scikit-learn's stacking, the final estimator is not
        asked for ``fit`` metadata: its ``fit`` gets ``sample_weight`` whenever
        ``fit`` does, whatever its requests, and no other metadata.

        Returns
        -------
        routing : MetadataRouter
        """
        router = super().get_metadata_routing()
        final = getattr(self, "final_estimator_", self.final_estimator)
        if final is None:
            final = _default_final_estimator("classifier" if is_classifier(self) else "regressor")
        # fit only through sample_weight, handed over directly (see _route_fit_params):
        # a request unset on the default final estimator must not fail fit
        router.add(
            final_estimator=final,
            method_mapping=MethodMapping().add(caller="predict", callee="predict"),
        )
        return router


# ---------------------------------------------------------------- helpers


def _default_final_estimator(task):
    if task == "classifier":
        return LogisticRegression()
    # Non-negative least squares (Breiman, 1996): no penalty, so the predictions
    # follow the unit of y; meta-features are predictions in that unit.
    return LinearRegression(positive=True)


def _take_rows(X, rows):
    return X[np.flatnonzero(rows) if np.asarray(rows).dtype == bool else rows]


def _take_rows_or_none(X, rows):
    return None if X is None else _take_rows(X, rows)
