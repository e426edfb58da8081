"""Docstring texts that TableEncoder and TableFusion share (one wording for one idea).

The indented sections go into the class docstrings' f-strings; the unindented
ones (``X_*``) into the methods' docstrings through
:func:`skfusion._utils.docstrings.fill_doc`.
"""

ENCODER_PARAMETERS = """
    modalities : "auto", dict or ModalityPlan, default="auto"
        Which columns form which modality. ``"auto"`` runs
        :func:`infer_modalities` (with ``text``, ``groups`` and ``exclude``)
        on the training table; a dict ``{name: columns}`` (names, positions,
        anything a ``modalities`` specification accepts) reads only those
        columns, the kind of each modality found as for ``groups``; a
        :class:`ModalityPlan` is followed as it is. An array's columns are
        named ``x0, x1, ...`` (so are those of a DataFrame without string
        column names) and, with ``"auto"``, form one tabular modality.
    text : list of str, default=None
        Columns to treat as free text (see :func:`infer_modalities`).
    groups : dict of str to list, default=None
        Modalities given by hand, for ``modalities="auto"`` (see
        :func:`infer_modalities`).
    exclude : list of str, default=None
        Columns to leave out, for ``modalities="auto"``.
    text_representation : {"tfidf", "embedding", "both"}, default="tfidf"
        How a text modality is represented: sparse TF-IDF word n-grams
        (``text_vectorizer``), dense sentence embeddings (``embedding_model``),
        or both as two modalities ``<name>_tfidf`` and ``<name>_embedding``
        (so that late fusion can fuse them). With one representation the
        output modality keeps the text modality's name.
    text_vectorizer : transformer, default=None
        Fitted on the training texts of each text modality (a clone per
        modality); it takes a 1-D array of strings.
        None: ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True,
        min_df=2)`` (word unigrams and bigrams, 1 + log term frequency, terms
        of at least two texts). Pass one to search its parameters
        (``text_vectorizer__min_df``).
    tabular_transformer : transformer, default=None
        Fitted on the rows of the tabular modalities where they are present
        (a clone per modality); it takes a DataFrame. None: what skrub's
        ``tabular_pipeline`` does before a linear model (the usual branch of a
        fusion estimator): ``TableVectorizer`` (numbers passed through,
        datetimes split into parts with periodic spline features, one-hot
        categories and short strings, ``StringEncoder(random_state=0)`` for
        high-cardinality strings), then ``SimpleImputer(add_indicator=True)`` for the cells
        left empty in present rows (mean, with an indicator for each column
        that had empty cells in training) and ``SquashingScaler(
        max_absolute_value=5)`` (robust centring and scaling, outliers
        smoothly clipped).
    embedding_model : str or path-like, default="auto"
        The sentence-transformers model of ``text_representation="embedding"``
        or ``"both"`` (see :class:`TextEmbedding`: ``"auto"`` is the packaged
        all-MiniLM-L6-v2 when installed).
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Where the embedding model runs (``"auto"``: CUDA when torch sees it).
    memory : str, path-like or joblib.Memory, default=None
        Where sentence embeddings are cached, one vector per text, so that
        folds, grid-search candidates and later fits never embed a text twice
        (see :class:`TextEmbedding`). None: no cache."""

ENCODER_NOTES = """
    A cell is empty when it is missing (NaN, None, NA) or a string that is
    empty, whitespace only or one of skrub's null strings (``"N/A"``,
    ``"?"``, ...). A modality is missing in a row when all its cells are
    empty there (a text: its one cell); its output block is NaN in that row,
    so that skfusion's fusion estimators downstream treat the modality as
    missing there. Each modality's encoder is fitted on the rows where the
    modality is present. Empty cells of a present row are imputed (tabular:
    mean with missing indicators; embedding: mean, before each column is
    standardised).

    A TF-IDF block is sparse, and so is the whole output then (CSR). A
    missing row of a sparse block stores an explicit NaN in each of its
    columns (skfusion's convention for a missing modality, which the fusion
    estimators read from sparse input too), i.e. one stored value per
    vocabulary term for each such row: with many missing texts and a wide
    vocabulary, bound it with ``TfidfVectorizer(max_features=...)`` or use
    the dense embedding."""


FITTED_INPUT = """
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in ``fit`` (DataFrame input)."""

X_RAW_TABLE = """
X : DataFrame or array-like of shape (n_samples, n_features)
    The raw table."""

X_SEEN_TABLE = """
X : DataFrame or array-like of shape (n_samples, n_features)
    A table with the columns seen in ``fit``, in their order: after a
    DataFrame, a DataFrame with every column of ``fit``, those excluded from
    the modalities too (scikit-learn's ``feature_names_in_`` convention;
    their values are never read); after an array, an array."""
