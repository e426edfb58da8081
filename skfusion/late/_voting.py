"""Weighted vote over per-modality branches, with weights learned out of fold."""

import warnings

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._fit_context import fit_context
from .._utils.docstrings import RETURNS_SELF, X_MODALITIES_SPARSE, fill_doc
from .._utils.composition import by_name_if_labelled
from .._utils.modality_protocol import ModalitySubsetError
from ._base import _BaseLateFusion, _is_classification
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

__all__ = ["WeightedVoteFusion", "learn_vote_weights"]


def _soft_classification(self):
    """Whether the vote averages probabilities: a soft-voting classifier.

    ``voting`` is read when predicting, as scikit-learn's VotingClassifier does,
    so ``set_params(voting=...)`` after fit takes effect without a refit.
    """
    return _is_classification(self) and self.voting == "soft"


def _check_predict_proba(self):
    """available_if check: predict_proba exists for soft-voting classifiers; where it
    does not, the AttributeError saying why is the cause of the one ``available_if``
    raises (as in scikit-learn's VotingClassifier)."""
    if not _is_classification(self):
        raise AttributeError(
            "predict_proba is only available for classification; the branches are regressors"
        )
    if self.voting != "soft":
        raise AttributeError(f"predict_proba is not available when voting={self.voting!r}")
    return True


class WeightedVoteFusion(_BaseLateFusion):
    __doc__ = f"""Weighted vote over one model per modality, robust to missing modalities.

    Each *branch* (an estimator over one modality, or over several) is fit on
    the rows where its modalities are present. A row's prediction is the
    weighted average of the probabilities (soft voting), the weighted majority
    of the labels (hard voting) or the weighted average of the predictions
    (regression) of the branches *present in that row*: the weights are
    renormalised over them. With ``weights="learn"`` the weights are the
    non-negative weights summing to one that minimise the out-of-fold log-loss
    (soft voting) or squared error (regression) of that vote.

    The estimator type follows the branches: all classifiers make a
    classifier, all regressors a regressor.

    Parameters
    ----------{ESTIMATORS_AND_MODALITIES}
    voting : {{"soft", "hard"}}, default="soft"
        Average probabilities or count labels (classification; ignored for
        regression). Read when predicting, so ``set_params(voting=...)``
        needs no refit. Hard voting needs fixed ``weights``; soft voting needs
        branches with ``predict_proba``, at fit when the weights are learned,
        else when predicting.
    weights : "learn", None, array-like or dict, default="learn"
        ``"learn"``: learned from out-of-fold predictions over ``cv``. None:
        equal weights. A list (one weight per entry of ``estimators``, dropped
        ones included) or a dict ``{{branch name: weight}}`` of non-negative
        weights (normalised to sum to one).
    cv : int, cross-validation generator or iterable, or "prefit", default=5
        Splits giving the out-of-fold predictions the weights are learned
        from (only used with ``weights="learn"``). The splits are made once
        over all rows; each branch uses their intersection with its present
        rows: a fold that tests none of them (a modality missing in a block
        of sorted rows) is not fitted for it, one that tests some must train
        it on at least 2 rows (of 2 classes). ``"prefit"``: branches are
        already fitted; weights are learned from their in-sample predictions.{PARALLEL_AND_CACHE.format(combiner="``weights`` or ``voting``")}

    Attributes
    ----------{FITTED_BRANCHES}
    weights_ : dict of str to float
        Weight of each fitted branch, summing to one.{FITTED_DATA}

    See Also
    --------
    StackingLateFusion : A meta-learner over the branches' predictions.
    sklearn.ensemble.VotingClassifier : Voting without modalities.

    Notes
    -----
    With no missing modality and ``weights=None``, soft voting equals
    scikit-learn's ``VotingClassifier(voting="soft")`` (``VotingRegressor``)
    over pipelines selecting each modality's columns. Learning the weights of
    a convex combination of models from cross-validated predictions is the
    *super learner* of van der Laan, Polley & Hubbard (2007), Super learner,
    *Statistical Applications in Genetics and Molecular Biology*, 6(1).
{NAN_CELLS}

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfusion import WeightedVoteFusion
    >>> from skfusion.datasets import make_multimodal_classification
    >>> X, y, modalities = make_multimodal_classification(
    ...     n_samples=200, widths={{"a": 3, "b": 3}},
    ...     signal={{"a": 2.0, "b": 0.0}}, random_state=0)
    >>> vote = WeightedVoteFusion(LogisticRegression(), modalities=modalities)
    >>> weights = vote.fit(X, y).weights_
    >>> weights  # the noise modality 'b' is dropped
    {{'a': 1.0, 'b': 0.0}}
    >>> X[:2, modalities["a"]] = np.nan  # only 'b', of weight 0, is present: the prior
    >>> import warnings
    >>> with warnings.catch_warnings(record=True):  # a NoModalityPresentWarning says so
    ...     proba = vote.predict_proba(X[:2])
    >>> bool(np.allclose(proba, vote.class_prior_))
    True
    """

    _parameter_constraints: dict = {
        **_BaseLateFusion._parameter_constraints,
        "voting": [StrOptions({"soft", "hard"})],
        "weights": [StrOptions({"learn"}), None, "array-like", dict],
        "cv": ["cv_object", StrOptions({"prefit"})],
    }

    def __init__(
        self,
        estimators,
        modalities=None,
        *,
        voting="soft",
        weights="learn",
        cv=5,
        n_jobs=None,
        memory=None,
        verbose=0,
    ):
        self.estimators = estimators
        self.modalities = modalities
        self.voting = voting
        self.weights = weights
        self.cv = cv
        self.n_jobs = n_jobs
        self.memory = memory
        self.verbose = verbose

    def _task(self):
        return "classifier" if hasattr(self, "classes_") else "regressor"

    def _learning(self):
        return isinstance(self.weights, str) and self.weights == "learn"

    def _methods(self, task):
        if task == "regressor":
            return ["predict"] * len(self._branches)
        if self.voting == "hard":
            return ["predict"] * len(self._branches)
        missing = [
            b.describe() for b in self._branches if not hasattr(b.estimator, "predict_proba")
        ]
        if missing:
            raise ValueError(
                f"Soft voting needs predict_proba, which the {missing[0]} lacks; use "
                "voting='hard' with fixed weights, or a probabilistic classifier."
            )
        return ["predict_proba"] * len(self._branches)

    @fit_context(
        # the branch estimators are validated when they are fitted
        prefer_skip_nested_validation=False
    )
    @fill_doc(
        x_modalities_sparse=X_MODALITIES_SPARSE,
        fit_y=FIT_Y,
        fit_params=FIT_PARAMS,
        returns_self=RETURNS_SELF,
    )
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the branches on their rows and set (or learn) the weights.

        Parameters
        ----------
        %(x_modalities_sparse)s
        %(fit_y)s
        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every branch (on its rows; a Pipeline branch's last
            step and each other step whose ``fit`` takes it) and used in the
            weights' loss; an error when a branch does not accept it.
        %(fit_params)s

        Returns
        -------
        %(returns_self)s
        """
        data = self._validate_fit_data(X, y, sample_weight, fit_params)
        learning = self._learning()
        if learning and data.task == "classifier" and self.voting == "hard":
            raise ValueError(
                "weights='learn' minimises the out-of-fold log-loss of the soft vote; "
                "use voting='soft', or give fixed weights (a list, a dict or None) "
                "for voting='hard'."
            )
        fixed = None if learning else self._fixed_weights()
        # Fixed weights need no prediction at fit, and `voting` is read when
        # predicting: only learned weights need the soft vote's predict_proba now.
        fit_methods = self._methods(data.task) if learning else ["predict"] * len(self._branches)

        def learn_weights(fitted):  # the branches' refits may still be running
            weights = learn_vote_weights(
                [item.oof for item in fitted],
                [item.rows for item in fitted],
                data.y_encoded,
                task=data.task,
                sample_weight=data.sample_weight,
                prior=getattr(self, "class_prior_", None),
            )
            self.weights_ = {b.name: float(w) for b, w in zip(self._branches, weights)}

        self._fit_branches(
            data,
            fit_methods,
            out_of_fold=learning,
            while_refitting=learn_weights if learning else None,
        )
        if not learning:
            self.weights_ = {b.name: float(w) for b, w in zip(self._branches, fixed)}
        return self

    def _kept_weights(self, kept_branches, positions):
        """Fixed weights restricted to the kept branches (by name or by entry)."""
        given = by_name_if_labelled(self.weights)
        if given is None or isinstance(given, str):
            return {}
        if isinstance(given, dict):
            weights = {name: w for name, w in given.items() if name in kept_branches}
            values = list(weights.values())
        else:
            given = np.asarray(given, dtype=np.float64).ravel()
            if given.size <= max(positions):
                return {}  # malformed: fit says so
            weights = values = [float(given[i]) for i in positions]
        if values and not any(value > 0 for value in values):
            raise ModalitySubsetError(
                f"Every branch of {kept_branches} has weight 0: the vote falls back to "
                "the prior."
            )
        return {"weights": weights}

    def _fixed_weights(self):
        """The given weights of the active branches, checked and normalised."""
        names = [b.name for b in self._all_branches]
        active = [b.name for b in self._branches]
        weights = by_name_if_labelled(self.weights)
        if weights is None:
            return np.full(len(active), 1.0 / len(active))
        if isinstance(weights, dict):
            unknown = [name for name in weights if name not in names]
            if unknown:
                raise ValueError(
                    f"`weights` names unknown branch {unknown[0]!r}; branches are {names}."
                )
            absent = [name for name in active if name not in weights]
            if absent:
                raise ValueError(f"`weights` gives no weight to branch {absent[0]!r}.")
            given = dict(weights)
        else:
            values = np.asarray(weights, dtype=np.float64).ravel()
            if values.size != len(names):
                raise ValueError(
                    f"`weights` has {values.size} values for {len(names)} branches "
                    f"{names}; give one per entry of `estimators` (dropped ones included)."
                )
            given = dict(zip(names, values))
        weights = np.array([given[name] for name in active], dtype=np.float64)
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError(
                "`weights` must be finite, non-negative and not all zero over the "
                f"fitted branches; got {dict(zip(active, weights.tolist()))}."
            )
        return weights / weights.sum()

    # ------------------------------------------------------------ predict

    def _weight_vector(self):
        return np.array([self.weights_[b.name] for b in self._branches])

    def _weighted_sums(self, X):
        """Per row, the weighted sum of the present branches' votes, and their total weight."""
        _, presence, outputs = self._branch_outputs(X, self._methods(self._task()))
        weights = self._weight_vector()
        n_samples = presence.shape[0]
        classification = hasattr(self, "classes_")
        sums = np.zeros((n_samples, self.classes_.size) if classification else n_samples)
        for k, output in enumerate(outputs):
            if output is None:
                continue
            rows = np.flatnonzero(presence[:, k])
            if classification and not _soft_classification(self):  # a vote for one class
                sums[rows, output.astype(np.intp)] += weights[k]
            else:
                sums[rows] += weights[k] * output
        return sums, presence.astype(np.float64) @ weights

    def _vote(self, X, combine, fallback):
        """``combine(sums, total)`` on rows whose present branches have weight; ``fallback`` elsewhere."""
        sums, total = self._weighted_sums(X)
        return self._predict_present_rows(
            lambda present: combine(sums[present], total[present]),
            total > 0,
            fallback,
            extra=" or only zero-weight branches",
        )

    @available_if(_check_predict_proba)
    @fill_doc(x_input=X_INPUT)
    def predict_proba(self, X):
        """Weighted average of the present branches' probabilities.

        Parameters
        ----------
        %(x_input)s

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The class prior for rows with no branch present.
        """
        check_is_fitted(self)
        return self._vote(X, lambda sums, total: sums / total[:, None], self.class_prior_)

    @fill_doc(x_input=X_INPUT)
    def predict(self, X):
        """Predict by the vote of the branches present in each row.

        Parameters
        ----------
        %(x_input)s

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels (ties go to the first class, as in scikit-learn) or values;
            the prior's most frequent class or the training mean for rows with
            no branch present.
        """
        check_is_fitted(self)
        if hasattr(self, "classes_"):
            most_frequent = int(np.argmax(self.class_prior_))
            index = self._vote(X, lambda sums, total: np.argmax(sums, axis=1), most_frequent)
            return self.classes_[index]
        return self._vote(X, lambda sums, total: sums / total, self.target_mean_)

    @fill_doc(x_input=X_INPUT)
    def transform(self, X):
        """Each branch's predictions, NaN where the branch is absent.

        Parameters
        ----------
        %(x_input)s

        Returns
        -------
        X_meta : ndarray of shape (n_samples, n_meta_features)
            Soft voting: the class probabilities of each branch, branch after
            branch; hard voting: each branch's class index; regression: each
            branch's prediction.
        """
        check_is_fitted(self)
        _, presence, outputs = self._branch_outputs(X, self._methods(self._task()))
        widths = self._widths()
        meta = np.full((presence.shape[0], sum(widths)), np.nan)
        start = 0
        for k, (width, output) in enumerate(zip(widths, outputs)):
            if output is not None:
                meta[presence[:, k], start : start + width] = output.reshape(-1, width)
            start += width
        return meta

    def _widths(self):
        return [self.classes_.size if _soft_classification(self) else 1] * len(self._branches)

    def get_feature_names_out(self, input_features=None):
        """Names of the per-branch predictions returned by :meth:`transform`.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Not used, present for API consistency.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``weightedvotefusion_<branch><i>`` (soft voting, one per class) or
            ``weightedvotefusion_<branch>``.
        """
        check_is_fitted(self, "n_features_in_")
        return np.asarray(self._branch_feature_names(self._widths()), dtype=object)


# ---------------------------------------------------------------- weight learning

#: A total weight at or below this is no weight: the loss gives such a row the
#: fallback, and a learned weight this small is set to 0, so that prediction (which
#: votes wherever the total is positive) gives those rows the fallback too. SLSQP
#: stops a branch it drops near, not at, its bound (5e-17, say), which would
#: otherwise carry the whole vote on rows where it is the only branch present.
ZERO_WEIGHT = 1e-12


def _vote_loss(task, presence, scores, y, sample_weight, fallback):
    """Loss and gradient of the renormalised vote, as functions of the weights.

    ``scores`` is (n, n_branches): for classification each branch's
    out-of-fold probability of the true class, for regression its prediction
    (0 where absent). A row's vote is ``sum_b w_b m_b s_b / sum_b w_b m_b``
    over the present branches (``m_b``); where that total weight is 0 the row
    gets ``fallback`` (the prior of its class / the mean), with zero gradient.
    """
    masked = presence * scores
    total_weight = sample_weight.sum()
    if task == "regressor":
        scale = np.average((y - np.average(y, weights=sample_weight)) ** 2, weights=sample_weight)
        scale = scale if scale > 0 else 1.0

    def loss(w):
        num = masked @ w
        den = presence @ w
        ok = den > ZERO_WEIGHT
        vote = np.where(ok, num / np.where(ok, den, 1.0), fallback)
        if task == "regressor":
            residual = y - vote
            value = np.sum(sample_weight * residual**2) / total_weight / scale
            dvote = np.where(ok, 1.0 / np.where(ok, den, 1.0), 0.0)[:, None] * (
                presence * (scores - vote[:, None])
            )
            grad = -2 * (sample_weight * residual) @ dvote / total_weight / scale
            return value, grad
        clipped = np.clip(vote, 1e-15, None)
        value = -np.sum(sample_weight * np.log(clipped)) / total_weight
        active = ok & (vote > 1e-15)
        # d log(num/den) / dw_b = m_b s_b / num - m_b / den
        inv_num = np.where(active, 1.0 / np.where(active, num, 1.0), 0.0)
        inv_den = np.where(active, 1.0 / np.where(ok, den, 1.0), 0.0)
        grad = -(sample_weight * inv_num) @ masked + (sample_weight * inv_den) @ presence
        return value, grad / total_weight

    return loss


def learn_vote_weights(oof, rows, y, *, task, sample_weight=None, prior=None):
    """Non-negative weights summing to one that minimise the out-of-fold vote loss.

    Parameters
    ----------
    oof : list of ndarray
        Per branch, out-of-fold predictions on its rows: probabilities of
        shape (n_rows_b, n_classes) (classification) or predictions of shape
        (n_rows_b,) (regression).
    rows : list of ndarray of int
        Per branch, the rows (in ``y``) its predictions are for.
    y : ndarray of shape (n_samples,)
        Class indices (classification) or values (regression).
    task : {"classifier", "regressor"}
        Log-loss of the soft vote, or squared error of the averaged prediction.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the rows in the loss.
    prior : ndarray of shape (n_classes,), default=None
        Class prior, the vote of rows whose present branches all have weight 0.

    Returns
    -------
    weights : ndarray of shape (n_branches,)
        Found with SLSQP on the simplex (scipy), starting from equal weights.
    """
    n_branches, n_samples = len(oof), y.shape[0]
    if n_branches == 1:
        return np.ones(1)
    presence = np.zeros((n_samples, n_branches))
    scores = np.zeros((n_samples, n_branches))
    for k, (output, where) in enumerate(zip(oof, rows)):
        presence[where, k] = 1.0
        scores[where, k] = (
            output[np.arange(where.size), y[where]] if task == "classifier" else output
        )
    used = presence.any(axis=1)  # rows with no branch get the prior whatever the weights
    sample_weight = np.ones(n_samples) if sample_weight is None else np.asarray(sample_weight)
    y_used = y[used]
    if task == "classifier":
        fallback = prior[y_used]
    else:
        fallback = np.average(y_used, weights=sample_weight[used])
    loss = _vote_loss(task, presence[used], scores[used], y_used, sample_weight[used], fallback)
    start = np.full(n_branches, 1.0 / n_branches)
    result = minimize(
        loss,
        start,
        jac=True,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n_branches,
        constraints=[
            {"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones_like(w)}
        ],
        options={"ftol": 1e-10, "maxiter": 500},
    )
    weights = np.clip(result.x, 0.0, None)
    if not result.success or not np.isfinite(weights).all() or weights.sum() <= 0:
        warnings.warn(
            f"Learning the vote weights did not converge ({result.message}); "
            "using the best weights found.",
            ConvergenceWarning,
            stacklevel=3,
        )
        if (
            not np.isfinite(weights).all()
            or weights.sum() <= 0
            or loss(weights)[0] > loss(start)[0]
        ):
            weights = start
    weights = np.where(weights <= ZERO_WEIGHT, 0.0, weights)
    return weights / weights.sum()
