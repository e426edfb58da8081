"""Cooperative learning: one parameter between early and late fusion (linear models).

Ding, Li, Narasimhan and Tibshirani, "Cooperative learning for multiview
analysis", PNAS 119(38), 2022: penalise the disagreement between the
modalities' predictions, so that ``rho=0`` is early fusion (one penalised
linear model on all columns) and ``rho=1`` is late fusion (each modality fit
on its own, predictions averaged).
"""

import warnings
from itertools import combinations
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, LinearRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils._tags import ClassifierTags, RegressorTags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from .._fit_context import fit_context
from .._modalities import (
    check_no_missing,
    presence_mask,
    take_columns,
    validate_modal_data,
)
from .._utils.docstrings import FITTED_MODALITIES, fill_doc
from .._utils.modality_protocol import ModalityProtocolMixin

__all__ = ["CooperativeFusion"]

# Outer (IRLS) iterations for family="binomial"; each solves one penalised least squares.
_MAX_IRLS_ITER = 100
# Predicted probabilities are clipped here in the IRLS weights, as glmnet does, so that
# separable data do not give zero weights and infinite working responses.
_PROBABILITY_CLIP = 1e-5


def _is_binomial(estimator):
    return estimator.family == "binomial"


@fill_doc(fitted_modalities=FITTED_MODALITIES)
class CooperativeFusion(ModalityProtocolMixin, BaseEstimator):
    """Cooperative learning: penalised linear model with a cross-modality agreement penalty.

    Fits one linear predictor per modality, ``f_m(X_m) = X_m theta_m``, whose sum
    (plus an intercept) predicts ``y``, while penalising the disagreement between
    the modalities' predictors. For ``family="gaussian"`` it minimises

    ``1/(2n) [||y - b - sum_m f_m||² + rho sum_{m<m'} ||f_m - f_m'||²]
    + alpha [l1_ratio ||theta||_1 + (1 - l1_ratio)/2 ||theta||²]``

    so ``rho=0`` is early fusion (the elastic net on all columns) and, for any
    number of modalities, ``rho=1`` is late fusion: each modality is fit to
    ``y / M`` on its own and the predictions are added (averaged, up to the
    factor ``M``). ``rho`` and the penalty are plain parameters for a grid search.

    Parameters
    ----------
    modalities : dict of str to columns or None, default=None
        The modalities (see :func:`skfusion.concat_modalities`). ``None`` is
        one modality, and then ``rho`` has no effect.
    rho : float >= 0, default=0.5
        Weight of the agreement penalty.
    alpha : float >= 0, default=0.01
        Strength of the elastic-net penalty, in the convention of
        :class:`sklearn.linear_model.ElasticNet` (squared error divided by
        ``2 n``); ``alpha=0`` is unpenalised least squares. For
        ``family="gaussian"`` it applies to the target divided by its
        (weighted) standard deviation, ``target_scale_``, so that the
        predictions follow the unit of ``y``: fitting ``c * y`` predicts
        ``c`` times as much. On that scale (and with ``standardize=True``)
        the lasso zeroes every coefficient once ``alpha`` reaches the largest
        correlation between a column and the target, so never fit anything
        at ``alpha >= 1``; the default, a hundredth of that bound (glmnet's
        smallest default penalty), is a light one. Tune it with a grid
        search; a fit whose coefficients are all zero warns.
    l1_ratio : float in [0, 1], default=1.0
        Mix of the penalty: 1 is the lasso (the paper's choice, giving sparse
        ``coef_``), 0 is ridge (solved in closed form), in between the
        elastic net.
    family : {"gaussian", "binomial"}, default="gaussian"
        ``"gaussian"``: regression with squared error. ``"binomial"``: binary
        classification with the logistic log-likelihood in place of the squared
        error (``n`` times the mean log-loss replaces the first term), fitted by
        iteratively reweighted least squares as in the paper. The estimator
        type (and ``score``: R² or accuracy) follows the family.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept. The agreement penalty then compares the
        modalities' predictions centred at their training means.
    standardize : bool, default=True
        Fit on columns divided by their (weighted) training standard
        deviations, and report ``coef_`` in the columns' own units, as
        glmnet and the paper's ``multiview`` package do by default: the
        penalty then treats every column alike, and the predictions do not
        depend on the unit of any column (a column in cents gets a
        coefficient a hundred times smaller than in euros, nothing else
        changes). ``False`` penalises the columns as given.
    max_iter : int, default=1000
        Maximum coordinate-descent passes of each penalised least-squares fit.
    tol : float >= 0, default=1e-4
        Tolerance of each coordinate-descent fit and, for ``"binomial"``, of the
        relative decrease of the objective between IRLS iterations.

    Attributes
    ----------
    coef_ : dict of str to ndarray of shape (n_columns_in_modality,)
        Coefficients ``theta_m`` of each modality.
    intercept_ : float
        Intercept ``b`` of the (linear) predictor.
    classes_ : ndarray of shape (2,)
        Class labels (``family="binomial"`` only); ``classes_[1]`` is the positive class.
    n_iter_ : int
        IRLS iterations (1 for ``"gaussian"``).
    target_scale_ : float
        Standard deviation of the training target (1 where it is 0), the unit
        of the penalised fit (``family="gaussian"`` only).
    column_scales_ : dict of str to ndarray of shape (n_columns_in_modality,)
        What each column was divided by for the penalised fit: its weighted
        standard deviation (``ddof=0``; 1.0 for a constant column) with
        ``standardize=True``, 1.0 otherwise.
    %(fitted_modalities)s

    See Also
    --------
    sklearn.linear_model.ElasticNet : the ``rho=0`` early-fusion model.
    skfusion.MultiviewCCA : unsupervised alignment of modalities.

    Notes
    -----
    Ding, Li, Narasimhan and Tibshirani, "Cooperative learning for multiview
    analysis", PNAS 119(38), e2202113119, 2022. As in the paper (and its R
    package ``multiview``), the problem is solved as one elastic net on
    augmented data: for two modalities the rows ``[X, Z]`` with target ``y``
    stacked on ``[-sqrt(rho) X, sqrt(rho) Z]`` with target 0. For ``M``
    modalities this uses one block of rows per pair (``M <= 3``) or, with the
    same objective and fewer rows, one block per modality holding
    ``sqrt(rho M)`` times that modality's deviation from the average
    prediction (``sum_{m<m'} ||f_m - f_m'||² = M sum_m ||f_m - mean_f||²``).
    The binomial family solves a weighted version of that problem at each
    IRLS step and halves steps that would increase the objective.

    Missing modalities are refused; impute them first.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion import CooperativeFusion
    >>> rng = np.random.default_rng(0)
    >>> shared = rng.normal(size=(100, 1))
    >>> X = np.hstack([shared + 0.5 * rng.normal(size=(100, 2)),
    ...                shared + 0.5 * rng.normal(size=(100, 2))])
    >>> y = 2 * shared[:, 0] + 0.1 * rng.normal(size=100)
    >>> model = CooperativeFusion({"a": [0, 1], "b": [2, 3]}, rho=0.5, alpha=0.01).fit(X, y)
    >>> sorted(model.coef_)
    ['a', 'b']
    >>> bool(model.score(X, y) > 0.8)
    True
    """

    # Read at predict time beside state fitted for them: refused if changed after fit
    # (the coefficients are fitted for one loss (and classes_ only for 'binomial')).
    _params_fixed_at_fit = ("family",)

    _parameter_constraints: dict = {
        "modalities": [dict, None],
        "rho": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "family": [StrOptions({"gaussian", "binomial"})],
        "fit_intercept": ["boolean"],
        "standardize": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        modalities=None,
        *,
        rho=0.5,
        alpha=0.01,
        l1_ratio=1.0,
        family="gaussian",
        fit_intercept=True,
        standardize=True,
        max_iter=1000,
        tol=1e-4,
    ):
        self.modalities = modalities
        self.rho = rho
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.family = family
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.max_iter = max_iter
        self.tol = tol

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the per-modality coefficients.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            All modalities' columns, no missing values.
        y : array-like of shape (n_samples,)
            Target: real values (``"gaussian"``) or two classes (``"binomial"``).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights; they weight the agreement penalty of each row too.

        Returns
        -------
        self : CooperativeFusion
        """
        binomial = _is_binomial(self)
        X, y = validate_modal_data(
            self, X, y, dtype=[np.float64, np.float32], y_numeric=not binomial
        )
        design, view_slices = self._design(X)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        column_scale = np.ones(design.shape[1])
        if self.standardize:
            # StandardScaler's weighted scale_: ddof=0, 1.0 for a constant column
            column_scale = StandardScaler().fit(design, sample_weight=sample_weight).scale_
        # theta is fitted on design / column_scale; theta / column_scale applies to X
        # itself, and the intercept (computed from the scaled means) is unchanged.
        problem = _Problem(design / column_scale, view_slices, sample_weight, self)
        if binomial:
            check_classification_targets(y)
            self.classes_ = np.unique(y)
            if self.classes_.size != 2:
                raise ValueError(
                    "Only binary classification is supported. CooperativeFusion(family='binomial') "
                    f"needs 2 classes in y; got {self.classes_.size} class(es): {self.classes_[:5].tolist()}."
                )
            theta, self.intercept_, self.n_iter_ = problem.fit_binomial((y == self.classes_[1]).astype(np.float64))
        else:
            # The penalty is in units of the standardised target, so that the
            # predictions follow the unit of y (an L1 penalty is not homogeneous in y).
            self.target_scale_ = _spread(y.astype(np.float64), sample_weight)
            theta, intercept = problem.solve(y / self.target_scale_, sample_weight)
            theta, self.intercept_ = theta * self.target_scale_, intercept * self.target_scale_
            self.n_iter_ = 1
        theta = theta / column_scale
        if self.alpha > 0 and not theta.any():
            warnings.warn(
                f"CooperativeFusion: every coefficient is 0, the model predicts a constant: "
                f"alpha={self.alpha} is too strong a penalty for these data (on "
                "standardised columns and target, the lasso zeroes every coefficient once "
                "alpha reaches the largest correlation of a column with the target); "
                "lower alpha.",
                ConvergenceWarning,
            )
        self.coef_ = {name: theta[view] for name, view in zip(self.modalities_, view_slices)}
        self.column_scales_ = {
            name: column_scale[view] for name, view in zip(self.modalities_, view_slices)
        }
        return self

    def _design(self, X):
        """All modalities' columns side by side (float64), and each modality's slice."""
        mask = presence_mask(X, self.modalities_)
        check_no_missing(mask, list(self.modalities_), hint="an imputer before CooperativeFusion")
        blocks, slices, start = [], [], 0
        for name, columns in self.modalities_.items():
            block = np.asarray(take_columns(X, columns), dtype=np.float64)
            if np.isnan(block).any():
                raise ValueError(
                    f"Modality {name!r} contains NaN; CooperativeFusion needs complete data "
                    "(impute the missing values first)."
                )
            blocks.append(block)
            slices.append(slice(start, start + block.shape[1]))
            start += block.shape[1]
        return np.hstack(blocks), slices

    def _linear_predictor(self, X):
        check_is_fitted(self)
        X = validate_modal_data(self, X, reset=False, dtype=[np.float64, np.float32])
        design, _ = self._design(X)
        return design @ np.concatenate(list(self.coef_.values())) + self.intercept_

    @available_if(_is_binomial)
    def decision_function(self, X):
        """Log-odds of ``classes_[1]``, ``b + sum_m X_m theta_m`` (``family="binomial"`` only).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows to score, every modality present.

        Returns
        -------
        log_odds : ndarray of shape (n_samples,)
            Positive where ``classes_[1]`` is the more likely class.
        """
        return self._linear_predictor(X)

    def predict(self, X):
        """Predicted target (``"gaussian"``) or class (``"binomial"``).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows to predict, every modality present.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The sum of the modalities' linear predictors plus the intercept,
            or the class on whose side of zero that sum falls.
        """
        scores = self._linear_predictor(X)
        if _is_binomial(self):
            return self.classes_[(scores > 0).astype(np.intp)]
        return scores

    @available_if(_is_binomial)
    def predict_proba(self, X):
        """Class probabilities (``family="binomial"`` only).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows to classify, every modality present.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            The logistic function of :meth:`decision_function`, in the
            column order of ``classes_``.
        """
        positive = expit(self._linear_predictor(X))
        return np.column_stack([1.0 - positive, positive])

    def score(self, X, y, sample_weight=None):
        """R² (``"gaussian"``) or accuracy (``"binomial"``) on ``(X, y)``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        metric = accuracy_score if _is_binomial(self) else r2_score
        return float(metric(y, self.predict(X), sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        if self.family == "binomial":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags(multi_class=False)
        else:
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
        return tags


class _Problem:
    """One cooperative fit: the design, its modality slices, weights and penalty."""

    def __init__(self, design, view_slices, sample_weight, params):
        self.design = design
        self.view_slices = view_slices
        self.sample_weight = sample_weight
        self.rho = params.rho
        self.alpha = params.alpha
        self.l1_ratio = params.l1_ratio
        self.fit_intercept = params.fit_intercept
        self.max_iter = params.max_iter
        self.tol = params.tol
        # The agreement penalty compares predictions centred at the training means.
        self.centre = (
            np.average(design, axis=0, weights=sample_weight)
            if params.fit_intercept
            else np.zeros(design.shape[1])
        )
        self.agreement = _agreement_rows(design - self.centre, view_slices, self.rho)
        self.n_blocks = 0 if self.agreement is None else self.agreement.shape[0] // design.shape[0]
        self._elastic_net = None

    def solve(self, target, data_weight):
        """Penalised weighted least squares on the augmented rows; returns (theta, intercept)."""
        if self.fit_intercept:
            x_mean = np.average(self.design, axis=0, weights=data_weight)
            t_mean = np.average(target, weights=data_weight)
            rows, target = self.design - x_mean, target - t_mean
        else:
            x_mean, t_mean, rows = np.zeros(self.design.shape[1]), 0.0, self.design
        weights = data_weight
        if self.agreement is not None:
            rows = np.vstack([rows, self.agreement])
            target = np.concatenate([target, np.zeros(self.agreement.shape[0])])
            weights = np.concatenate([data_weight, np.tile(self.sample_weight, self.n_blocks)])
        theta = self._penalised_least_squares(rows, target, weights)
        return theta, float(t_mean - x_mean @ theta)

    def _penalised_least_squares(self, rows, target, weights):
        # Our loss is divided by sum(sample_weight) ("n"); scikit-learn's elastic net by
        # the sum of the weights it is given and Ridge by nothing: rescale alpha to match.
        n_effective = self.sample_weight.sum()
        unit = bool(np.all(weights == 1.0))
        if self.alpha == 0:
            # least squares by SVD (the minimum-norm solution): Ridge(alpha=0) solves the
            # normal equations, which collinear columns make singular (coefficients of 1e14)
            least_squares = LinearRegression(fit_intercept=False)
            return least_squares.fit(rows, target, sample_weight=None if unit else weights).coef_
        if self.l1_ratio == 0:
            ridge = Ridge(alpha=self.alpha * n_effective, fit_intercept=False)
            return ridge.fit(rows, target, sample_weight=None if unit else weights).coef_
        if self._elastic_net is None:
            self._elastic_net = ElasticNet(
                l1_ratio=self.l1_ratio, fit_intercept=False, max_iter=self.max_iter, tol=self.tol, warm_start=True
            )
        self._elastic_net.set_params(alpha=self.alpha * n_effective / weights.sum())
        return self._elastic_net.fit(rows, target, sample_weight=None if unit else weights).coef_.copy()

    def disagreement(self, theta):
        """``sum_{m<m'} sum_i w_i (f_m - f_m')²`` of the centred per-modality predictions."""
        contributions = np.column_stack(
            [(self.design[:, view] - self.centre[view]) @ theta[view] for view in self.view_slices]
        )
        n_views = contributions.shape[1]
        deviation = contributions - contributions.mean(axis=1, keepdims=True)
        return n_views * float(self.sample_weight @ np.sum(deviation**2, axis=1))

    def binomial_objective(self, theta, intercept, y):
        eta = self.design @ theta + intercept
        log_loss = self.sample_weight @ (np.logaddexp(0.0, eta) - y * eta)
        penalty = self.alpha * (
            self.l1_ratio * np.abs(theta).sum() + 0.5 * (1.0 - self.l1_ratio) * theta @ theta
        )
        return (log_loss + 0.5 * self.rho * self.disagreement(theta)) / self.sample_weight.sum() + penalty

    def fit_binomial(self, y):
        """IRLS: a weighted cooperative least-squares fit per Newton step, with step halving."""
        theta = np.zeros(self.design.shape[1])
        intercept = 0.0
        if self.fit_intercept:
            prior = np.clip(np.average(y, weights=self.sample_weight), _PROBABILITY_CLIP, 1 - _PROBABILITY_CLIP)
            intercept = float(np.log(prior / (1 - prior)))
        objective = self.binomial_objective(theta, intercept, y)
        for n_iter in range(1, _MAX_IRLS_ITER + 1):
            eta = self.design @ theta + intercept
            mu = np.clip(expit(eta), _PROBABILITY_CLIP, 1 - _PROBABILITY_CLIP)
            curvature = mu * (1.0 - mu)
            working_response = eta + (y - mu) / curvature
            new_theta, new_intercept = self.solve(working_response, self.sample_weight * curvature)
            new_objective = self.binomial_objective(new_theta, new_intercept, y)
            for _ in range(30):  # halve the step while the objective increases
                if new_objective <= objective + 1e-12 * abs(objective):
                    break
                new_theta, new_intercept = 0.5 * (new_theta + theta), 0.5 * (new_intercept + intercept)
                new_objective = self.binomial_objective(new_theta, new_intercept, y)
            decrease = objective - new_objective
            theta, intercept, objective = new_theta, new_intercept, new_objective
            if decrease <= self.tol * max(abs(objective), 1e-12):
                return theta, float(intercept), n_iter
        largest = float(np.max(np.abs(theta))) if theta.size else 0.0
        warnings.warn(
            f"CooperativeFusion(family='binomial') did not converge in {_MAX_IRLS_ITER} IRLS "
            "iterations (a fixed limit; max_iter bounds each inner fit). "
            + (
                f"The coefficients grow without bound (largest {largest:.3g}): the classes "
                "are separable, so the unpenalised likelihood has no maximum; raise alpha."
                # 30 logits per (standard deviation of a) column: odds of 1e13, which
                # only separable classes drive the fit to
                if largest > 30
                else "Increase tol, or raise alpha."
            ),
            ConvergenceWarning,
        )
        return theta, float(intercept), _MAX_IRLS_ITER


def _spread(y, sample_weight):
    """Weighted standard deviation of ``y``, 1.0 for a constant (or non-finite) one."""
    mean = np.average(y, weights=sample_weight)
    spread = float(np.sqrt(np.average((y - mean) ** 2, weights=sample_weight)))
    return spread if np.isfinite(spread) and spread > 0 else 1.0


def _agreement_rows(centred, view_slices, rho):
    """Rows whose squared norm (times the row weights) is ``rho`` times the disagreement."""
    n_views = len(view_slices)
    if n_views < 2 or rho == 0:
        return None
    n_samples = centred.shape[0]
    if n_views <= 3:
        # The paper's form: one block per pair, sqrt(rho) (X_m theta_m - X_m' theta_m').
        pairs = list(combinations(range(n_views), 2))
        rows = np.zeros((n_samples * len(pairs), centred.shape[1]))
        for k, (a, b) in enumerate(pairs):
            block = slice(k * n_samples, (k + 1) * n_samples)
            rows[block, view_slices[a]] = np.sqrt(rho) * centred[:, view_slices[a]]
            rows[block, view_slices[b]] = -np.sqrt(rho) * centred[:, view_slices[b]]
        return rows
    # M blocks instead of M(M-1)/2: sum over pairs = M * sum_m ||f_m - mean_f||².
    rows = np.empty((n_samples * n_views, centred.shape[1]))
    scale = np.sqrt(rho * n_views)
    for m in range(n_views):
        block = slice(m * n_samples, (m + 1) * n_samples)
        for j, view in enumerate(view_slices):
            rows[block, view] = scale * ((m == j) - 1.0 / n_views) * centred[:, view]
    return rows
