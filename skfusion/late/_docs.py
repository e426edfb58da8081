"""Docstring sections that both late-fusion estimators share (one text, two classes).

The class docstrings take the indented sections in f-strings, as
:mod:`skfusion.nn` does; the methods' docstrings take the unindented ones
(``FIT_*``, ``X_INPUT``) through :func:`skfusion._utils.docstrings.fill_doc`,
so that the parameters and attributes they have in common are described once.
"""

ESTIMATORS_AND_MODALITIES = """
    estimators : list of tuples, or estimator
        The branches: ``(name, estimator)`` where ``name`` is a modality (the
        estimator sees only its columns), ``(name, estimator, [modality, ...])``
        for a branch over several modalities (e.g. an early-fused pipeline), or
        one estimator, cloned for every modality (branches named by modality).
        A branch sees its modalities' columns in the order it lists them (for
        an array, the positions a fusion estimator inside gives count in that
        sub-matrix; a DataFrame keeps its column names, the safer choice).
        A branch may be ``"drop"``. Branch parameters are ``<name>__<param>``;
        with one estimator, ``estimators__<param>`` (shared by every branch).
    modalities : dict or None, default=None
        ``{name: columns}`` (see :func:`skfusion.concat_modalities`); None is one
        modality ``"all"`` with every column."""

PARALLEL_AND_CACHE = """
    n_jobs : int, default=None
        Jobs running the (branch x fold) fits and the refits, all in one flat
        joblib call under the active ``joblib.parallel_config``. With more than
        one job, each worker uses one BLAS thread.
    memory : str or joblib.Memory, default=None
        Caches each branch's out-of-fold predictions and refit, keyed by the
        branch's parameters, its data and the CV splits, so that a grid search
        over what combines the branches ({combiner}) fits the branches once
        per outer fold.
    verbose : int, default=0
        Verbosity of the joblib call (and cache messages)."""

FITTED_BRANCHES = """
    estimators_ : list of estimators
        The fitted branches (dropped ones left out), refit on all their rows.
    named_estimators_ : :class:`~sklearn.utils.Bunch`
        Fitted branches (or ``"drop"``) by name."""

FITTED_DATA = """
    branch_modalities_ : dict of str to list of str
        Modalities read by each fitted branch.
    classes_ : ndarray of shape (n_classes,)
        Class labels (classification).
    class_prior_ : ndarray of shape (n_classes,)
        Training class frequencies (weighted), predicted for rows with no
        branch present (classification).
    target_mean_ : float
        Training mean of y (weighted), predicted for rows with no branch
        present (regression).
    modalities_ : dict of str to ndarray
        Column positions of each modality.
    fill_values_ : dict of str to ndarray
        The value a NaN cell of each column of a modality takes before any
        branch sees it: its mean over the training rows where the modality is
        present, NaN cells left out (NaN for a DataFrame column that is not
        numeric, whose cells are left to the branch).
    n_features_in_ : int
        Number of columns seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen during fit (DataFrame input only)."""

NAN_CELLS = """
    A NaN cell (NaN in a row where its modality is present) takes its
    column's mean over the training rows where the modality is present
    (``fill_values_``) before any branch sees it, at fit and at prediction, so
    a fit on data with NaN cells is the fit on the same data mean-imputed
    (the means come from all training rows, not fold by fold: they use no
    target). A DataFrame's nullable integer or boolean column holding pd.NA
    becomes a float column so filled; its text and category columns are left
    to the branches. A branch that handles NaN itself (e.g.
    :class:`~sklearn.ensemble.HistGradientBoostingClassifier`) also gets the
    filled cells; where its rows hold no NaN cell, a branch gets exactly the
    data it was given."""


FIT_Y = """
y : array-like of shape (n_samples,)
    Target."""

FIT_PARAMS = """
**fit_params : dict
    Other metadata, only with metadata routing enabled."""

X_INPUT = """
X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
    Input samples."""
