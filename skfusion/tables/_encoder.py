"""TableEncoder: a raw table in, one numeric block per modality out."""

import os
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_array,
    check_is_fitted,
)

from .._fit_context import fit_context, fitting
from .._utils.docstrings import fill_doc
from .._utils.optional import import_optional
from .._utils.text_table import shorten
from ._columns import (
    as_frame,
    column_kind,
    date_reading,
    empty_cells,
    read_dates,
    read_numbers,
    skrub_reads_dates,
)
from ._docs import (
    ENCODER_NOTES,
    ENCODER_PARAMETERS,
    FITTED_INPUT,
    X_RAW_TABLE,
    X_SEEN_TABLE,
)
from ._infer import infer_modalities, plan_from_spec
from ._plan import ModalityPlan
from ._text import TextEmbedding, default_text_vectorizer

__all__ = ["TableEncoder"]


def default_tabular_transformer():
    """skrub's tabular_pipeline preprocessing for a linear model: TableVectorizer with
    periodic spline features of datetimes, mean imputation with indicators, squashing."""
    skrub = import_optional("skrub", needed_by="TableEncoder's tabular encoding", extra="tables")
    DatetimeEncoder, SquashingScaler = skrub.DatetimeEncoder, skrub.SquashingScaler
    StringEncoder, TableVectorizer = skrub.StringEncoder, skrub.TableVectorizer

    return make_pipeline(
        TableVectorizer(
            # seeded: the randomized SVD of high-cardinality strings, same result each fit
            high_cardinality=StringEncoder(n_components=30, random_state=0),
            datetime=DatetimeEncoder(periodic_encoding="spline"),
        ),
        SimpleImputer(add_indicator=True, keep_empty_features=True),
        SquashingScaler(max_absolute_value=5),
    )


class EmbeddingScaler(TransformerMixin, BaseEstimator):
    """An embedding modality's encoding: empty cells mean-imputed, each column
    standardised, the block divided by the square root of its width.

    Standardising each column makes the result independent of each column's
    unit: numbered numeric columns (``sensor_0 ... sensor_9``, ``q1 ... q10``)
    are inferred as an embedding too, and passing them through let a column
    written in other units (a tenfold or thousandfold scale) shrink or
    dominate a linear model's fit. Dividing by ``sqrt(n_columns)`` gives the
    block unit total variance, the scale of a unit-norm sentence embedding:
    per-column standardising alone of a 384-dimensional MiniLM embedding of
    1,200 tweets leaves a logistic regression (C=1) too little regularised
    (ROC AUC 0.808, against 0.841 passed through and 0.852 here) and a ridge
    on 384 unit columns worse still (R2 0.245, 0.451 and 0.459 on the log of
    the favourite count); on 10 numbered sensor columns it changes nothing.
    A column constant in training is 0 (centred, not divided).

    Attributes
    ----------
    imputer_ : SimpleImputer
        The mean of each column over its non-empty training cells.
    scaler_ : StandardScaler
        Each column's training mean and standard deviation, after imputation.
    """

    def fit(self, X, y=None):
        self.imputer_ = SimpleImputer(keep_empty_features=True).fit(X)
        self.scaler_ = StandardScaler().fit(self.imputer_.transform(X))
        return self

    def transform(self, X):
        check_is_fitted(self)
        scaled = self.scaler_.transform(self.imputer_.transform(X))
        return scaled / np.sqrt(scaled.shape[1])


def _shorten(names):
    """Column names for a message, quoted: the first few, then how many in all."""
    return shorten((repr(str(name)) for name in names), 5)


def _what(X):
    if hasattr(X, "columns"):
        return "X's column names are not strings"
    return f"X ({type(X).__name__}) has no column names"


def _dense(block):
    block = block.toarray() if sp.issparse(block) else np.asarray(block, dtype=np.float64)
    return block.reshape(-1, 1) if block.ndim == 1 else block


class _Output:
    """One output modality: what it reads, how it is encoded, where it is written."""

    def __init__(self, name, source, kind, representation, encoder):
        self.name = name  # output modality name
        self.source = source  # the plan's modality it encodes
        self.kind = kind  # the plan's kind
        self.representation = representation  # "tabular", "tfidf", "embedding", "standardize"
        self.encoder = encoder
        self.width = None

    def describe(self):
        return f"{self.representation} encoder of modality {self.source!r}"


class TableEncoder(TransformerMixin, BaseEstimator):
    __doc__ = f"""Encode a raw table into one numeric block per modality.

    A DataFrame with text, categories, numbers, datetimes and empty cells
    goes in; a numeric matrix comes out, one block of columns per output
    modality, described by ``modalities_out_`` (the ``modalities``
    specification of every skfusion estimator). A tabular modality goes
    through skrub's ``TableVectorizer``, imputation and scaling; a text
    modality becomes TF-IDF word n-grams and/or sentence embeddings (cached
    per text with ``memory``); an embedding modality has its empty cells
    mean-imputed and each column standardised, the block divided by the
    square root of its width (so that a column's unit never changes the
    result). A modality missing in a row (all its cells
    empty) stays missing: its block is NaN in that row. The output is on the
    scale a linear model wants (squashed numbers, TF-IDF weights): fuse it
    with ``FeatureFusion(standardize=False)``, since standardising TF-IDF
    columns would blow up the rarest terms.

    Parameters
    ----------{ENCODER_PARAMETERS}

    Attributes
    ----------
    plan_ : ModalityPlan
        The modalities of the input that were encoded.
    modalities_out_ : dict of str to list of int
        Positions of each output modality's columns in the output.
    encoders_ : dict of str to transformer
        The fitted encoder of each output modality.{FITTED_INPUT}

    See Also
    --------
    infer_modalities : The plan of ``modalities="auto"``.
    TableFusion : This encoder followed by a fusion estimator.
    skrub.TableVectorizer : One encoder per column, no modalities.

    Notes
    -----{ENCODER_NOTES}

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skfusion.tables import TableEncoder
    >>> table = pd.DataFrame({{
    ...     "review": ["great tea", "stale tea", "", "great biscuits", "stale biscuits"],
    ...     "price": [3.0, 2.5, 4.0, np.nan, 1.0],
    ...     "shop": ["a", "b", "a", "b", "a"],
    ... }})
    >>> encoder = TableEncoder(text=["review"]).fit(table)
    >>> encoder.plan_.modalities
    {{'review': ['review'], 'tabular': ['price', 'shop']}}
    >>> Xt = encoder.transform(table)
    >>> Xt.shape, encoder.modalities_out_
    ((5, 7), {{'review': [0, 1, 2, 3], 'tabular': [4, 5, 6]}})
    >>> encoder.get_feature_names_out().tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['review__biscuits', 'review__great', 'review__stale', 'review__tea',
     'tabular__price', 'tabular__shop_b', 'tabular__missingindicator_price']
    >>> Xt.toarray()[2].round(2)  # the empty review is missing in row 2
    array([ nan,  nan,  nan,  nan, 2.41, 0.  , 0.  ])
    """

    _parameter_constraints = {
        "modalities": [StrOptions({"auto"}), dict, ModalityPlan],
        "text": [list, tuple, None],
        "groups": [dict, None],
        "exclude": [list, tuple, None],
        "text_representation": [StrOptions({"tfidf", "embedding", "both"})],
        "text_vectorizer": [HasMethods(["fit", "transform"]), None],
        "tabular_transformer": [HasMethods(["fit", "transform"]), None],
        "embedding_model": [str, os.PathLike],
        "device": [str],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
    }

    def __init__(
        self,
        modalities="auto",
        *,
        text=None,
        groups=None,
        exclude=None,
        text_representation="tfidf",
        text_vectorizer=None,
        tabular_transformer=None,
        embedding_model="auto",
        device="auto",
        memory=None,
    ):
        self.modalities = modalities
        self.text = text
        self.groups = groups
        self.exclude = exclude
        self.text_representation = text_representation
        self.text_vectorizer = text_vectorizer
        self.tabular_transformer = tabular_transformer
        self.embedding_model = embedding_model
        self.device = device
        self.memory = memory

    # ------------------------------------------------------------ input

    def _table(self, X, *, reset):
        """``X`` as a DataFrame (an array's columns named x0, x1, ...), checked against fit."""
        frame = as_frame(X)
        from_array = frame is None
        if not from_array and not all(isinstance(c, str) for c in frame.columns):
            # as scikit-learn reads it: a table without string column names has none
            frame = frame.set_axis([f"x{i}" for i in range(frame.shape[1])], axis=1)
            from_array = True
        elif from_array:
            if sp.issparse(X):
                raise TypeError(
                    "TableEncoder takes a table (DataFrame) or a dense array; got a sparse matrix."
                )
            array = check_array(X, dtype=None, ensure_all_finite="allow-nan", estimator=self)
            frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
        if frame.shape[0] == 0 or frame.shape[1] == 0:
            raise ValueError(
                f"Found a table with {frame.shape[0]} row(s) and {frame.shape[1]} "
                "column(s) while a minimum of 1 is required."
            )
        if not reset and from_array and hasattr(self, "feature_names_in_"):
            # the plan reads columns by name: positions would silently read others
            raise ValueError(
                f"The table encoder was fitted on a DataFrame and reads its columns by name "
                f"({_shorten(self.feature_names_in_)}); {_what(X)}. Pass a DataFrame "
                "with the columns seen in fit."
            )
        try:
            _check_feature_names(self, X, reset=reset)
        except ValueError as exc:
            raise ValueError(f"{exc}{self._missing_columns(frame)}") from exc
        _check_n_features(self, frame, reset=reset)
        return frame, from_array

    def _missing_columns(self, frame):
        """What the columns of fit that ``frame`` lacks were for (scikit-learn's
        feature-name check asks for all of them, in their order)."""
        missing = [c for c in self.feature_names_in_ if c not in frame.columns]
        if not missing:
            return "\nX[model.feature_names_in_] selects the columns of fit, in their order."
        excluded = [c for c in missing if c in self.plan_.excluded]
        notes = []
        for name, columns in self.plan_.modalities.items():
            read = [c for c in missing if c in columns]
            if read:
                notes.append(f"Modality {name!r} reads {_shorten(read)}.")
        if excluded:
            is_, it = ("is", "it") if len(excluded) == 1 else ("are", "them")
            notes.append(
                f"{_shorten(excluded)} {is_} excluded from the modalities and never read, "
                "but X must have every column seen in fit, in order (scikit-learn's "
                f"feature_names_in_ convention): pass {it} with any values (e.g. "
                f"X.assign(**{{{excluded[0]!r}: None}})), or fit without {it}."
            )
        return "\n" + " ".join(notes) if notes else ""

    def _plan(self, frame, from_array):
        if isinstance(self.modalities, ModalityPlan):
            if self.text is not None or self.groups is not None or self.exclude is not None:
                raise ValueError(
                    "`text`, `groups` and `exclude` apply to modalities='auto'; a "
                    "ModalityPlan already says which columns form which modality."
                )
            unknown = [c for c in self.modalities.columns if c not in frame.columns]
            if unknown:
                raise ValueError(
                    f"The plan reads column(s) {_shorten(unknown)}, which X does not have."
                )
            return self.modalities
        if isinstance(self.modalities, dict):
            if self.groups is not None or self.exclude is not None:
                raise ValueError(
                    "`groups` and `exclude` apply to modalities='auto'; with a dict of "
                    "modalities, only its columns are read."
                )
            return plan_from_spec(frame, self.modalities, text=self.text)
        if from_array:
            if self.text is not None or self.groups is not None or self.exclude is not None:
                raise ValueError(
                    "`text`, `groups` and `exclude` need a DataFrame with column names; "
                    "X is an array."
                )
            for name in frame.columns:  # values an encoder cannot read fail here, by column
                column_kind(name, frame[name], empty_cells(frame[name]))
            return ModalityPlan({"tabular": list(frame.columns)}, {"tabular": "tabular"})
        return infer_modalities(frame, text=self.text, groups=self.groups, exclude=self.exclude)

    def _outputs(self, plan):
        """The output modalities of ``plan``, with unfitted encoders."""
        outputs = []
        for name, kind in plan.kinds.items():
            if kind == "tabular":
                transformer = self.tabular_transformer
                encoder = default_tabular_transformer() if transformer is None else clone(transformer)
                outputs.append(_Output(name, name, kind, "tabular", encoder))
            elif kind == "embedding":
                outputs.append(_Output(name, name, kind, "standardize", EmbeddingScaler()))
            else:
                both = self.text_representation == "both"
                if self.text_representation in ("tfidf", "both"):
                    vectorizer = self.text_vectorizer
                    encoder = default_text_vectorizer() if vectorizer is None else clone(vectorizer)
                    outputs.append(
                        _Output(f"{name}_tfidf" if both else name, name, kind, "tfidf", encoder)
                    )
                if self.text_representation in ("embedding", "both"):
                    encoder = TextEmbedding(
                        self.embedding_model, device=self.device, memory=self.memory
                    )
                    outputs.append(
                        _Output(f"{name}_embedding" if both else name, name, kind, "embedding", encoder)
                    )
        names = [output.name for output in outputs]
        clash = {n for n in names if names.count(n) > 1}
        if clash:
            raise ValueError(
                f"Output modality {sorted(clash)[0]!r} appears twice (text_representation='both' "
                "names a text modality's blocks <name>_tfidf and <name>_embedding); rename "
                "a modality."
            )
        return outputs

    def _presence(self, frame, plan):
        """Per modality of the plan, the rows where it is present (some cell not empty)."""
        presence = {}
        for name, columns in plan.modalities.items():
            empty = np.column_stack([empty_cells(frame[column]) for column in columns])
            presence[name] = ~empty.all(axis=1)
        return presence

    def _input_of(self, output, frame, rows):
        columns = self.plan_.modalities[output.source]
        if output.kind == "text":
            texts = frame[columns[0]].iloc[rows]
            return texts.astype(str).to_numpy(dtype=object)
        block = self._read_dates(self._read_numbers(frame[columns].iloc[rows]))
        if output.kind == "embedding":
            return block.to_numpy(dtype=np.float64, na_value=np.nan)
        return block

    def _read_numbers(self, block):
        """``block`` with its columns of numbers written as text read as numbers."""
        formats = {c: p for c, p in self.plan_.number_formats.items() if c in block.columns}
        if not formats:
            return block
        block = block.copy()
        for column, pattern in formats.items():
            numbers, misfits = read_numbers(block[column], pattern)
            if misfits:
                warnings.warn(
                    f"Column {column!r}: {len(misfits)} value(s) do not read as numbers "
                    f"written like {pattern!r} (e.g. {misfits[0]!r:.40}); they are taken as "
                    "empty cells.",
                    UserWarning,
                    stacklevel=4,
                )
            block[column] = numbers
        return block

    def _numbers_as_at_fit(self, frame):
        """``frame`` with the columns that held numbers at fit read as numbers again.

        A column of numbers at fit that comes back as text (a CSV read without
        its ``decimal=","`` gives "0,346") went to the encoders as unknown
        strings, each an empty cell: the predictions changed without a word.
        Text that writes plain numbers is read; any other is refused, naming
        the column.
        """
        # getattr: an encoder pickled before this attribute existed checks none
        changed = None
        for column in getattr(self, "_number_columns_", []):
            values = frame[column]
            if values.dtype.kind in "iufb":
                continue
            numbers = pd.to_numeric(values, errors="coerce")
            misfits = values[numbers.isna().to_numpy() & ~empty_cells(values)]
            if len(misfits):
                raise ValueError(
                    f"Column {column!r} held numbers in fit; here {len(misfits)} cell(s) are "
                    f"not numbers (e.g. {misfits.iloc[0]!r:.40}). Read the table as in fit "
                    "(a decimal comma, say, needs pd.read_csv(..., decimal=','))."
                )
            changed = frame.copy() if changed is None else changed
            changed[column] = numbers
        return frame if changed is None else changed

    def _date_readings(self, frame):
        """``{column: (format, utc)}`` of the tabular columns of date strings that skrub
        would not read as dates itself (e.g. "01 May 2020" beside "01 Mar 2020", whose
        formats pandas guesses differently, or offsets changing with daylight saving):
        without this they were encoded as strings."""
        readings = {}
        for name, kind in self.plan_.kinds.items():
            if kind != "tabular":
                continue
            for column in self.plan_.modalities[name]:
                values = frame[column]
                empty = empty_cells(values)
                if empty.all() or values.dtype.kind in "biufcmM":
                    continue
                if column_kind(column, values, empty) != "datetime":
                    continue
                filled = values[~empty]
                if all(isinstance(v, str) for v in filled) and not skrub_reads_dates(filled):
                    readings[column] = date_reading(filled)
        return readings

    def _read_dates(self, block):
        """``block`` with its columns of date strings (:meth:`_date_readings`) as datetimes."""
        # getattr: an encoder pickled before this attribute existed reads none
        readings = getattr(self, "_date_readings_", {})
        readings = {c: r for c, r in readings.items() if c in block.columns}
        if not readings:
            return block
        block = block.copy()
        for column, reading in readings.items():
            block[column] = read_dates(block[column], reading)
        return block

    # ------------------------------------------------------------ fit

    def _fit(self, X, y):
        frame, from_array = self._table(X, reset=True)
        self.plan_ = self._plan(frame, from_array)
        self._date_readings_ = self._date_readings(frame)
        self._number_columns_ = [
            column
            for name, columns in self.plan_.modalities.items()
            if self.plan_.kinds[name] != "text"
            for column in columns
            if frame[column].dtype.kind in "iuf"
        ]
        outputs = self._outputs(self.plan_)
        presence = self._presence(frame, self.plan_)
        if y is not None and not hasattr(y, "iloc"):
            y = np.asarray(y)
        blocks = {}
        for output in outputs:
            rows = np.flatnonzero(presence[output.source])
            if rows.size == 0:
                raise ValueError(
                    f"Modality {output.source!r} is empty in every training row (its columns "
                    f"{shorten(self.plan_.modalities[output.source], 5)} hold only missing values, "
                    "empty or whitespace strings)."
                )
            data = self._input_of(output, frame, rows)
            y_rows = None if y is None else _safe_indexing(y, rows)
            with fitting(output.describe()):
                block = self._fit_transform_output(output, data, y_rows)
            block = block if sp.issparse(block) else _dense(block)
            output.width = block.shape[1]
            blocks[output.name] = (rows, block)
        self._outputs_ = outputs
        # the output type is fixed at fit, whatever rows transform gets
        self._sparse_output = any(sp.issparse(block) for _, block in blocks.values())
        self.encoders_ = {output.name: output.encoder for output in outputs}
        self.modalities_out_, start = {}, 0
        for output in outputs:
            self.modalities_out_[output.name] = list(range(start, start + output.width))
            start += output.width
        return frame.shape[0], blocks

    def _fit_transform_output(self, output, data, y):
        try:
            return output.encoder.fit_transform(data, y)
        except ValueError as exc:
            default = output.representation == "tfidf" and self.text_vectorizer is None
            if not default or "no terms remain" not in str(exc):
                raise
        # No term of the default vocabulary is in two texts (min_df=2 keeps none): a
        # column of unique codes or words. Failing the whole fit asked for a lower
        # min_df, which a user of defaults (the command line) cannot set.
        warnings.warn(
            f"Modality {output.source!r}: no word is in two of its texts, so the default "
            "TF-IDF (min_df=2) keeps no term; it keeps every term instead (min_df=1), "
            "from which a model can hardly learn. Exclude the column if it is an identifier.",
            UserWarning,
            stacklevel=5,
        )
        output.encoder.set_params(min_df=1)
        return output.encoder.fit_transform(data, y)

    @fit_context(prefer_skip_nested_validation=False)
    @fill_doc(x_raw_table=X_RAW_TABLE)
    def fit(self, X, y=None):
        """Find the modalities (``modalities="auto"``) and fit each one's encoder on its rows.

        Parameters
        ----------
        %(x_raw_table)s
        y : array-like of shape (n_samples,), default=None
            Passed to the encoders (on their rows); most ignore it.

        Returns
        -------
        self : TableEncoder
            The fitted encoder.
        """
        self._fit(X, y)
        return self

    @fit_context(prefer_skip_nested_validation=False)
    @fill_doc(x_raw_table=X_RAW_TABLE)
    def fit_transform(self, X, y=None):
        """Fit, then encode ``X`` (each encoder runs once on the training rows).

        Parameters
        ----------
        %(x_raw_table)s
        y : array-like of shape (n_samples,), default=None
            Passed to the encoders.

        Returns
        -------
        X_encoded : {ndarray, sparse matrix} of shape (n_samples, n_features_out)
            The encoded table (CSR when a TF-IDF block is present).
        """
        n_samples, blocks = self._fit(X, y)
        return self._assemble(n_samples, blocks)

    # ------------------------------------------------------------ transform

    @fill_doc(x_seen_table=X_SEEN_TABLE)
    def transform(self, X):
        """Encode ``X``: each modality's block on its present rows, NaN on the others.

        Parameters
        ----------
        %(x_seen_table)s

        Returns
        -------
        X_encoded : {ndarray, sparse matrix} of shape (n_samples, n_features_out)
            The encoded table (CSR when a TF-IDF block is present).
        """
        check_is_fitted(self)
        frame, _ = self._table(X, reset=False)
        frame = self._numbers_as_at_fit(frame)
        presence = self._presence(frame, self.plan_)
        blocks = {}
        for output in self._outputs_:
            rows = np.flatnonzero(presence[output.source])
            if rows.size == 0:
                blocks[output.name] = (rows, None)
                continue
            block = output.encoder.transform(self._input_of(output, frame, rows))
            blocks[output.name] = (rows, block if sp.issparse(block) else _dense(block))
        return self._assemble(frame.shape[0], blocks)

    def _assemble(self, n_samples, blocks):
        """The output: each block written on its rows, NaN rows where its modality is missing."""
        if self._sparse_output:
            return sp.hstack(
                [self._sparse_block(n_samples, *blocks[o.name], o.width) for o in self._outputs_],
                format="csr",
                dtype=np.float64,
            )
        out = np.full((n_samples, sum(o.width for o in self._outputs_)), np.nan)
        for output in self._outputs_:
            rows, block = blocks[output.name]
            if block is not None:
                positions = self.modalities_out_[output.name]
                out[rows, positions[0] : positions[-1] + 1] = block
        return out

    @staticmethod
    def _sparse_block(n_samples, rows, block, width):
        """CSR rows of ``block`` at ``rows``; other rows hold NaN in every column."""
        nan_row = sp.csr_matrix(np.full((1, width), np.nan))
        if block is None:
            return nan_row[np.zeros(n_samples, dtype=np.intp)]
        stacked = sp.vstack([sp.csr_matrix(block, dtype=np.float64), nan_row], format="csr")
        source = np.full(n_samples, rows.size)  # the NaN row
        source[rows] = np.arange(rows.size)
        return stacked[source]

    # ------------------------------------------------------------ names and tags

    def get_feature_names_out(self, input_features=None):
        """Output feature names: ``"<modality>__<feature>"``.

        Tabular features are named by their encoder (``price``,
        ``shop_a``, ``missingindicator_price``), TF-IDF features by their
        term, embedding dimensions ``embedding<i>``, and an embedding
        modality's columns keep their names.

        Parameters
        ----------
        input_features : None
            Ignored (the names come from the table seen in ``fit``).

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        names = []
        for output in self._outputs_:
            if output.representation == "embedding":
                inner = [f"embedding{i}" for i in range(output.width)]
            elif output.representation == "standardize":
                inner = self.plan_.modalities[output.source]
            else:
                inner = output.encoder.get_feature_names_out()
            names.extend(f"{output.name}__{feature}" for feature in inner)
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        # An empty cell is imputed, an empty modality is NaN in the output.
        tags.input_tags.allow_nan = True
        return tags
