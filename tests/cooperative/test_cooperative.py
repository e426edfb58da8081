"""CooperativeFusion: early fusion at rho=0, late fusion at rho=1, the path in between."""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV

from skfusion import CooperativeFusion


def _views(rng, widths=(4, 3), n=150):
    X = rng.normal(size=(n, sum(widths)))
    X[:, 0] += 1.5  # a non-zero mean, so the intercept matters
    y = X @ rng.normal(size=X.shape[1]) + rng.normal(size=n) + 3.0
    bounds = np.cumsum((0,) + widths)
    modalities = {f"m{i}": list(range(bounds[i], bounds[i + 1])) for i in range(len(widths))}
    return X, y, modalities


def _coef(model):
    return np.concatenate(list(model.coef_.values()))


def _scaled_fit(reference, X, y, sample_weight=None):
    """``reference`` fitted to y divided by its standard deviation, coefficients scaled back:
    how CooperativeFusion applies its penalty, so that predictions follow the unit of y."""
    mean = np.average(y, weights=sample_weight)
    scale = np.sqrt(np.average((y - mean) ** 2, weights=sample_weight))
    reference.fit(X, y / scale, sample_weight=sample_weight)
    return reference.coef_ * scale, reference.intercept_ * scale


@pytest.mark.parametrize(
    "l1_ratio, reference",
    [
        (1.0, lambda alpha, n: Lasso(alpha=alpha, tol=1e-12, max_iter=100_000)),
        (0.4, lambda alpha, n: ElasticNet(alpha=alpha, l1_ratio=0.4, tol=1e-12, max_iter=100_000)),
        (0.0, lambda alpha, n: Ridge(alpha=alpha * n)),
    ],
)
def test_rho_zero_is_the_penalised_model_on_the_concatenation(rng, l1_ratio, reference):
    X, y, modalities = _views(rng)
    model = CooperativeFusion(modalities, standardize=False, rho=0.0, alpha=0.05, l1_ratio=l1_ratio, tol=1e-12, max_iter=100_000)
    model.fit(X, y)
    coef, intercept = _scaled_fit(reference(0.05, X.shape[0]), X, y)
    np.testing.assert_allclose(_coef(model), coef, atol=1e-11)
    np.testing.assert_allclose(model.intercept_, intercept, atol=1e-11)
    np.testing.assert_allclose(model.predict(X), X @ coef + intercept, atol=1e-10)


def test_rho_zero_with_sample_weight_matches_weighted_lasso(rng):
    X, y, modalities = _views(rng)
    weight = rng.uniform(0.2, 3.0, size=X.shape[0])
    model = CooperativeFusion(modalities, standardize=False, rho=0.0, alpha=0.05, tol=1e-12, max_iter=100_000)
    model.fit(X, y, sample_weight=weight)
    early = Lasso(alpha=0.05, tol=1e-12, max_iter=100_000)
    coef, intercept = _scaled_fit(early, X, y, sample_weight=weight)
    np.testing.assert_allclose(_coef(model), coef, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, intercept, atol=1e-10)


@pytest.mark.parametrize("widths", [(4, 3), (3, 2, 4), (2, 3, 2, 3)])
def test_rho_one_decouples_into_late_fusion(rng, widths):
    # sum_{m<m'} (f_m - f_m')² + (y - sum f)² = M sum_m (f_m - y/M)² + const: each modality
    # is fit alone to y / M, with the penalty divided by M.
    X, y, modalities = _views(rng, widths)
    n_views, alpha = len(widths), 0.05
    lasso = CooperativeFusion(modalities, standardize=False, rho=1.0, alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, y)
    ridge = CooperativeFusion(modalities, standardize=False, rho=1.0, alpha=alpha, l1_ratio=0.0).fit(X, y)
    scale = np.std(y)  # the penalty applies to the standardised target
    for name, columns in modalities.items():
        alone = Lasso(alpha=alpha / n_views, tol=1e-12, max_iter=100_000)
        alone.fit(X[:, columns], y / scale / n_views)
        np.testing.assert_allclose(lasso.coef_[name], alone.coef_ * scale, atol=1e-9)
        alone = Ridge(alpha=alpha * X.shape[0] / n_views).fit(X[:, columns], y / n_views)
        np.testing.assert_allclose(ridge.coef_[name], alone.coef_, atol=1e-10)


@pytest.mark.parametrize("widths", [(3, 2), (2, 3, 2), (2, 2, 3, 2, 2)])
def test_ridge_solution_matches_closed_form_of_pairwise_objective(rng, widths):
    # Independent of the augmented-row construction (pairs for M <= 3, centred form above).
    X, y, modalities = _views(rng, widths)
    n, rho, alpha = X.shape[0], 0.7, 0.1
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    blocks = [np.zeros_like(Xc) for _ in widths]
    for block, columns in zip(blocks, modalities.values()):
        block[:, columns] = Xc[:, columns]
    gram = Xc.T @ Xc + alpha * n * np.eye(X.shape[1])
    for a in range(len(widths)):
        for b in range(a + 1, len(widths)):
            difference = blocks[a] - blocks[b]
            gram += rho * difference.T @ difference
    expected = np.linalg.solve(gram, Xc.T @ yc)

    model = CooperativeFusion(modalities, standardize=False, rho=rho, alpha=alpha, l1_ratio=0.0).fit(X, y)
    np.testing.assert_allclose(_coef(model), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, y.mean() - X.mean(axis=0) @ expected, atol=1e-10)


def _paper_simulation(rng, n=200, p=30, n_factors=5, noise=1.0):
    """Ding et al. (2022), simulation of section 3: views share latent factors that drive y."""
    factors = rng.normal(size=(n, n_factors))
    X = rng.normal(size=(n, p))
    Z = rng.normal(size=(n, p))
    X[:, :n_factors] += 2.0 * factors
    Z[:, :n_factors] += 2.0 * factors
    y = factors @ np.full(n_factors, 2.0) + noise * rng.normal(size=n)
    return np.hstack([X, Z]), y, {"x": range(p), "z": range(p, 2 * p)}


def _disagreement(model, X):
    contributions = [
        (X[:, list(columns)] - X[:, list(columns)].mean(axis=0)) @ model.coef_[name]
        for name, columns in model.modalities.items()
    ]
    return float(np.sum((contributions[0] - contributions[1]) ** 2))


def test_disagreement_shrinks_monotonically_along_the_rho_path(rng):
    X, y, modalities = _paper_simulation(rng)
    path = [
        CooperativeFusion(modalities, rho=rho, alpha=0.05, tol=1e-10, max_iter=100_000).fit(X, y)
        for rho in (0.0, 0.2, 0.5, 1.0, 2.0, 5.0, 20.0, 100.0)
    ]
    disagreement = [_disagreement(model, X) for model in path]
    assert np.all(np.diff(disagreement) <= 1e-8 * disagreement[0])
    assert disagreement[-1] < 0.01 * disagreement[0]


def test_agreement_beats_early_fusion_when_views_share_the_signal(rng):
    # The paper's point (figure 2): with factors seen by both views, some rho > 0
    # predicts better than early fusion (rho = 0).
    # Low signal-to-noise, as in the paper's simulations where cooperation helps most.
    X, y, modalities = _paper_simulation(rng, n=200, p=100, noise=5.0)
    X_test, y_test, _ = _paper_simulation(np.random.default_rng(1), n=2000, p=100, noise=5.0)

    def test_mse(rho):
        # alpha 0.1 in the unit of y, as in the paper's setting (alpha is per std of y)
        model = CooperativeFusion(modalities, rho=rho, alpha=0.1 / np.std(y)).fit(X, y)
        return np.mean((model.predict(X_test) - y_test) ** 2)

    early = test_mse(0.0)
    assert min(test_mse(rho) for rho in (0.2, 0.5, 1.0)) < 0.9 * early


def _binomial_data(rng, n=200):
    X, y, modalities = _views(rng, n=n)
    labels = (y - y.mean() + rng.normal(size=n) > 0).astype(int)
    return X, labels, modalities


def test_binomial_rho_zero_ridge_is_logistic_regression(rng):
    X, labels, modalities = _binomial_data(rng)
    n, alpha = X.shape[0], 0.01
    model = CooperativeFusion(modalities, standardize=False, rho=0.0, alpha=alpha, l1_ratio=0.0, family="binomial", tol=1e-14)
    model.fit(X, labels)
    # LogisticRegression minimises C sum(log-loss) + ||w||²/2: alpha = 1 / (C n).
    reference = LogisticRegression(C=1 / (alpha * n), tol=1e-12, max_iter=10_000).fit(X, labels)
    np.testing.assert_allclose(_coef(model), reference.coef_[0], atol=1e-6)
    np.testing.assert_allclose(model.intercept_, reference.intercept_[0], atol=1e-6)


def test_binomial_rho_zero_lasso_is_l1_logistic_regression(rng):
    X, labels, modalities = _binomial_data(rng)
    n, alpha = X.shape[0], 0.02
    model = CooperativeFusion(modalities, standardize=False, rho=0.0, alpha=alpha, family="binomial", tol=1e-14, max_iter=100_000)
    model.fit(X, labels)
    reference = LogisticRegression(
        C=1 / (alpha * n), l1_ratio=1.0, solver="saga", tol=1e-12, max_iter=100_000
    ).fit(X, labels)
    np.testing.assert_allclose(_coef(model), reference.coef_[0], atol=1e-5)
    assert np.array_equal(_coef(model) == 0, reference.coef_[0] == 0)


def test_binomial_with_agreement_minimises_the_stated_objective(rng):
    X, labels, modalities = _binomial_data(rng)
    n, rho, alpha = X.shape[0], 0.8, 0.01
    Xc = X - X.mean(axis=0)
    a, b = list(modalities.values())

    def objective(params):
        theta, intercept = params[:-1], params[-1]
        eta = X @ theta + intercept
        log_loss = np.sum(np.logaddexp(0.0, eta) - labels * eta)
        disagreement = np.sum((Xc[:, a] @ theta[a] - Xc[:, b] @ theta[b]) ** 2)
        return (log_loss + 0.5 * rho * disagreement) / n + 0.5 * alpha * theta @ theta

    expected = minimize(objective, np.zeros(X.shape[1] + 1), method="BFGS", options={"gtol": 1e-10}).x
    model = CooperativeFusion(modalities, standardize=False, rho=rho, alpha=alpha, l1_ratio=0.0, family="binomial", tol=1e-14)
    model.fit(X, labels)
    np.testing.assert_allclose(_coef(model), expected[:-1], atol=1e-5)
    np.testing.assert_allclose(model.intercept_, expected[-1], atol=1e-5)


def test_binomial_predictions_follow_classes(rng):
    X, labels, modalities = _binomial_data(rng)
    names = np.array(["no", "yes"])[labels]
    model = CooperativeFusion(modalities, alpha=0.01, family="binomial").fit(X, names)
    assert list(model.classes_) == ["no", "yes"]
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), model.classes_[(proba[:, 1] > 0.5).astype(int)])
    assert model.score(X, names) > 0.7
    assert not hasattr(CooperativeFusion(modalities).fit(X, labels.astype(float)), "predict_proba")


def test_separable_classes_are_named_as_the_reason_irls_does_not_converge():
    from sklearn.exceptions import ConvergenceWarning

    from skfusion.datasets import make_multimodal_classification

    X, y, modalities = make_multimodal_classification(
        n_samples=100, widths={"a": 3, "b": 4}, signal=5.0, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="classes are separable.*raise alpha"):
        CooperativeFusion(modalities, alpha=0.0, rho=0.0, family="binomial").fit(X, y)


def test_alpha_zero_is_least_squares_also_with_collinear_columns(rng):
    # Ridge(alpha=0) solved singular normal equations: coefficients of +-1e14 and a
    # worse fit than least squares
    from sklearn.linear_model import LinearRegression

    X, y, _ = _views(rng)
    X = np.hstack([X, X[:, :1]])  # a duplicated column
    modalities = {"m0": [0, 1, 2, 3, 7], "m1": [4, 5, 6]}
    model = CooperativeFusion(modalities, rho=0.0, alpha=0.0).fit(X, y)
    reference = LinearRegression().fit(X, y)
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=1e-9, atol=1e-9)
    assert np.abs(_coef(model)).max() < 10


def test_more_than_two_classes_are_refused(rng):
    X, y, modalities = _views(rng)
    with pytest.raises(ValueError, match="Only binary classification"):
        CooperativeFusion(modalities, family="binomial").fit(X, np.arange(X.shape[0]) % 3)


def test_missing_modality_is_refused_naming_it(rng):
    X, y, modalities = _views(rng)
    X[:5, 4:] = np.nan
    with pytest.raises(ValueError, match="Modality 'm1' is missing"):
        CooperativeFusion(modalities).fit(X, y)
    X[:5, 4:] = 0.0
    X[7, 5] = np.nan
    with pytest.raises(ValueError, match="Modality 'm1' contains NaN"):
        CooperativeFusion(modalities).fit(X, y)


@pytest.mark.parametrize("family", ["gaussian", "binomial"])
@pytest.mark.parametrize("weighted", [False, True])
def test_standardize_is_the_fit_on_standardised_columns_in_the_columns_units(rng, family, weighted):
    X, y, modalities = _views(rng)
    X[:, 2] *= 40.0
    X[:, 5] = 3.0  # constant: left as it is
    if family == "binomial":
        y = (y > np.median(y)).astype(int)
    weight = rng.uniform(0.2, 3.0, size=X.shape[0]) if weighted else None
    mean = np.average(X, axis=0, weights=weight)
    spread = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=weight))
    spread[5] = 1.0
    params = dict(rho=0.5, alpha=0.02, family=family, tol=1e-13, max_iter=100_000)
    model = CooperativeFusion(modalities, **params).fit(X, y, sample_weight=weight)
    on_scaled = CooperativeFusion(modalities, standardize=False, **params)
    on_scaled.fit(X / spread, y, sample_weight=weight)
    np.testing.assert_allclose(_coef(model), _coef(on_scaled) / spread, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(model.intercept_, on_scaled.intercept_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(np.concatenate(list(model.column_scales_.values())), spread, rtol=1e-12)
    output = model.decision_function if family == "binomial" else model.predict
    np.testing.assert_allclose(output(X), (on_scaled.decision_function if family == "binomial"
                                           else on_scaled.predict)(X / spread), rtol=1e-9, atol=1e-9)


def test_predictions_do_not_depend_on_a_columns_unit(rng):
    X, y, modalities = _views(rng)
    in_cents = X.copy()
    in_cents[:, [1, 4]] *= 100.0
    model = CooperativeFusion(modalities, alpha=0.05).fit(X, y)
    cents = CooperativeFusion(modalities, alpha=0.05).fit(in_cents, y)
    np.testing.assert_allclose(cents.predict(in_cents), model.predict(X), rtol=1e-9)
    assert cents.coef_["m0"][1] == pytest.approx(model.coef_["m0"][1] / 100.0, rel=1e-9)
    raw = CooperativeFusion(modalities, alpha=0.05, standardize=False)
    assert not np.allclose(raw.fit(in_cents, y).predict(in_cents), raw.fit(X, y).predict(X))


def test_rho_and_penalty_are_grid_searchable(rng):
    X, y, modalities = _paper_simulation(rng, n=120, p=10)
    search = GridSearchCV(
        CooperativeFusion(modalities), {"rho": [0.0, 0.5, 1.0], "alpha": [0.01, 0.1], "l1_ratio": [0.5, 1.0]}, cv=3
    ).fit(X, y)
    assert set(search.best_params_) == {"rho", "alpha", "l1_ratio"}
    assert search.best_score_ > 0.5


def test_the_default_penalty_fits_and_a_penalty_that_zeroes_everything_warns(rng):
    # alpha=1.0 (the old default) applies to standardised columns and target: no
    # correlation exceeds 1, so the lasso zeroed every coefficient whatever the data
    X = rng.normal(size=(200, 4))
    y = X @ [3.0, 2.0, -2.0, 1.0] + 0.01 * rng.normal(size=200)
    modalities = {"a": [0, 1], "b": [2, 3]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        regression = CooperativeFusion(modalities, rho=0.0).fit(X, y)
        classifier = CooperativeFusion(modalities, family="binomial").fit(X, y > 0)
    assert regression.alpha == 0.01
    assert regression.score(X, y) > 0.99
    assert classifier.score(X, y > 0) > 0.9
    with pytest.warns(ConvergenceWarning, match="every coefficient is 0.*alpha=1.0.*lower alpha"):
        null = CooperativeFusion(modalities, alpha=1.0).fit(X, y)
    np.testing.assert_allclose(null.predict(X), np.mean(y))
