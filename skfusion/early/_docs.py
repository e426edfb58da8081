"""Docstring sections that FeatureFusion and InteractionFusion share, filled in
by :func:`skfusion._utils.docstrings.fill_doc`."""

FITTED_INPUT = """
n_features_in_ : int
    Number of columns seen in ``fit``.
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Column names seen in ``fit``, when ``X`` had string column names."""

X_SEEN = """
X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
    Data with the columns seen in ``fit``."""
