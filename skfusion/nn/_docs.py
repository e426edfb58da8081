"""Docstring sections that the methods of the skfusion.nn estimators share.

Filled into ``%(name)s`` lines by :func:`skfusion._utils.docstrings.fill_doc`;
the parameters of the classes have theirs in :func:`skfusion.nn._base.parameter_docs`.
"""

#: ``X`` of a method that predicts or transforms.
SAMPLES = """
X : {array-like, DataFrame} of shape (n_samples, n_features)
    Samples; a modality whose columns are all NaN in a row is missing there."""

#: ``X`` of ``fit``.
TRAINING_SAMPLES = """
X : {array-like, DataFrame} of shape (n_samples, n_features)
    Training samples; a modality whose columns are all NaN in a row is
    missing there. Every row needs at least one modality."""
