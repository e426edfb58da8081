"""FeatureFusion: transform, scale, weight and concatenate modality blocks."""

import numpy as np
import scipy.sparse as sp
from sklearn.base import TransformerMixin, clone
from sklearn.utils import get_tags
from sklearn.utils._indexing import _safe_indexing
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from .._fit_context import check_params_unchanged_since_fit, fit_context, fitting
from .._modalities import take_columns, validate_modal_data
from .._utils.composition import NamedEstimatorsComposition, named_items
from .._utils.docstrings import fill_doc
from .._utils.modality_protocol import ModalityProtocolMixin, ModalitySubsetError
from ._block_scaling import block_statistics, write_centred_scaled
from ._docs import FITTED_INPUT, X_SEEN
from ._missing import (
    CHECK_PARAMS,
    handle_nan_cells,
    modality_presence,
    present_rows,
    training_block,
)
from ._per_modality import (
    inner_transformers,
    resolve_transformers,
    resolve_weights,
    restrict_setting,
)

__all__ = ["FeatureFusion"]


def _as_2d_output(Z):
    """An inner transformer's output as an ndarray or sparse matrix (not a DataFrame)."""
    if sp.issparse(Z):
        return Z
    Z = np.asarray(Z)
    return Z.reshape(-1, 1) if Z.ndim == 1 else Z


def _expand_rows(block, rows, n_samples):
    """Sparse ``(n_samples, width)`` matrix holding ``block`` at ``rows`` and zeros elsewhere."""
    block = sp.csr_matrix(block)
    if rows is None:
        return block
    scatter = sp.csr_matrix(
        (np.ones(rows.size, dtype=block.dtype), (rows, np.arange(rows.size))),
        shape=(n_samples, rows.size),
    )
    return scatter @ block


@fill_doc(fitted_input=FITTED_INPUT)
class FeatureFusion(ModalityProtocolMixin, TransformerMixin, NamedEstimatorsComposition):
    """Early fusion: transform, scale, weight and concatenate modality blocks.

    For every modality, in the order of ``modalities``: an optional
    per-modality transformer (or, for a passed-through modality, division of
    each column by its standard deviation, ``standardize``), then centring by
    the training mean and division by a block norm (``block_scaling``) so that
    a modality's contribution does not grow with its width, then
    multiplication by the modality's weight. The blocks are written side by
    side, optionally followed by one 0/1 presence indicator per modality.

    Parameters
    ----------
    modalities : dict of str to columns or None, default=None
        ``{name: columns}`` with anything :class:`~sklearn.compose.ColumnTransformer`
        accepts as columns; ``None`` is one modality named ``"all"`` holding
        every column. Columns in no modality are not in the output.
    transformers : estimator, "passthrough", dict, list of (str, estimator) or None, default=None
        What to fit on each modality's block before scaling. One estimator is
        cloned for every modality (its parameters are grid-searchable as
        ``transformers__<param>``). A dict ``{modality: transformer}`` or a
        list of ``(modality, transformer)`` pairs sets them by name; a value
        may be ``"passthrough"`` or ``"drop"`` (leave the modality out of the
        output), and modalities not named are passed through (standardised, see
        ``standardize``). Named
        transformers are nested parameters: ``<modality>__<param>`` (e.g.
        ``text__n_components`` or, in a Pipeline step ``"fusion"``,
        ``fusion__text__n_components``) and ``<modality>`` itself can be set
        with ``set_params`` and searched by GridSearchCV. ``None`` passes every
        modality through (standardised, see ``standardize``).
    standardize : bool, default=True
        Divide each column of a passed-through modality by its training
        standard deviation (``ddof=0``, over the rows where its modality is
        present; a constant column is left as it is) before block scaling, as
        :class:`~sklearn.preprocessing.StandardScaler` would (sparse input is
        scaled, as with ``with_mean=False``), so that the output does not
        depend on the unit of any column: a price in cents weighs inside its
        block as the same price in euros. ``False`` takes the columns as they
        are: right for columns whose spread is information rather than a unit
        (TF-IDF weights, counts, an encoder's already scaled output; see
        :class:`~skfusion.tables.TableEncoder`), wrong for columns in
        different units, since block scaling weighs a block as a whole and a
        column of large values then dominates its block. A transformer's
        output is never rescaled: its scale is the transformer's (e.g. PCA's
        component variances).
    block_scaling : {"variance", "mfa"} or None, default="variance"
        How each (centred) block is scaled, from its training rows:

        - ``"variance"``: divided by the square root of its total variance
          (the sum of its column variances), so every block has unit total
          variance whatever its width;
        - ``"mfa"``: divided by the square root of the largest eigenvalue of
          its covariance matrix, as in multiple factor analysis, so every
          block's first principal component has unit variance;
        - ``None``: centred only.

        Variances use ``ddof=1`` (as :class:`~sklearn.decomposition.PCA`'s
        ``explained_variance_``). A block that is constant is not scaled.
    weights : dict of str to float, array-like of shape (n_modalities,) or None, default=None
        Non-negative multipliers applied after scaling; a dict by modality
        name (modalities left out get 1.0) or one value per modality in the
        order of ``modalities``. ``None`` gives every modality weight 1.
    missing : {"error", "zero"}, default="error"
        What to do with a modality missing in a row (all its columns NaN).
        ``"error"`` raises a ValueError naming the modality and the number of
        rows. ``"zero"`` sets a missing modality's block to its training mean
        after scaling, i.e. zero, so the modality contributes nothing to that
        row; scaling statistics and inner transformers are fitted on the rows
        where the modality is present, and inner transformers never see
        missing rows. In both cases a NaN cell (NaN in a row where its
        modality is present) takes its column's training mean over the rows
        where its modality is present (``fill_values_``), before the
        modality's transformer and scaling, so the output holds no NaN.
    add_indicator : bool, default=False
        Append one 0/1 column per modality, 1 where the modality is present,
        named ``"presence__<modality>"``. NaN cells get no indicator (see
        Notes).

    Attributes
    ----------
    modalities_ : dict of str to ndarray of int
        Column positions of each modality in the input.
    transformers_ : dict of str to estimator or str
        Fitted transformer of each modality (a clone), ``"passthrough"`` or
        ``"drop"``.
    block_means_ : dict of str to ndarray or None
        Training mean of each fused block (after its transformer); None for a
        sparse block, which is scaled but not centred.
    column_scales_ : dict of str to ndarray
        Divisor of each column of each fused block, applied before
        ``block_norms_``: the training standard deviation of a standardised
        passed-through column (1.0 for a constant column), 1.0 otherwise.
    block_norms_ : dict of str to float
        Divisor of each fused block (1.0 for ``block_scaling=None``).
    weights_ : dict of str to float
        Weight of each fused block.
    fill_values_ : dict of str to ndarray
        The value a NaN cell of each column of a
        (fused) modality takes, its mean over the training rows where the
        modality is present, NaN cells left out.
    output_slices_ : dict of str to slice
        Columns of each fused block in the output.
    %(fitted_input)s

    See Also
    --------
    InteractionFusion : Cross-modal multiplicative features.
    sklearn.compose.ColumnTransformer : Per-column-group transformers, without
        block scaling or missing-modality handling.

    Notes
    -----
    Output block of modality ``m`` for row ``i``:
    ``w_m * (T_m(x_i) - mean_m) / (s_m * norm_m)`` where ``T_m`` is the inner
    transformer and ``s_m`` the column scales (``column_scales_``). Multiple factor analysis (Escofier and Pagès, 1994; Abdi,
    Williams and Valentin, 2013, "Multiple factor analysis: principal
    component analysis for multitable and multiblock data sets", WIREs
    Computational Statistics 5(2)) weights each table by the inverse of its
    first singular value so that no table dominates the first common axis.

    Dense blocks are centred. Sparse blocks (sparse input passed through, or
    a transformer with sparse output) are scaled but not centred, so they stay
    sparse; their missing rows are zero, which is likewise no contribution to a
    linear model. The output is sparse (CSR) when any fused block is sparse.
    Inner transformers receive each block as a DataFrame of its columns when
    ``X`` has column names, as an array otherwise. ``transform`` writes
    each block once into a preallocated output; float32 input stays float32.

    With ``missing="zero"``, a model fitted on data with NaN cells is the
    model fitted on the same data with each cell replaced by its column's
    mean over the rows where its modality is present (mean imputation inside
    each modality); an inner transformer never sees NaN, so an imputer given
    as a transformer has nothing left to impute. Cells get no missing-value
    indicator of their own: one would add a column per input column, outside
    block scaling and weights; when which cells are NaN carries information,
    put :class:`~sklearn.impute.MissingIndicator` beside the fusion in a
    :class:`~sklearn.pipeline.FeatureUnion`.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion import FeatureFusion
    >>> X = np.array([[0., 0., 0., 10.], [2., 2., 2., 30.], [4., 4., 4., 50.]])
    >>> fusion = FeatureFusion({"wide": [0, 1, 2], "narrow": [3]}, weights={"narrow": 2})
    >>> Xt = fusion.fit_transform(X)
    >>> float(Xt[:, :3].var(axis=0, ddof=1).sum()), float(Xt[:, 3].var(ddof=1))
    (1.0, 4.0)
    >>> fusion.get_feature_names_out()[[0, 3]]
    array(['wide__x0', 'narrow__x3'], dtype=object)
    """

    # Read at predict time beside state fitted for them: refused if changed after fit
    # (the fitted output width counts the indicator columns).
    _params_fixed_at_fit = ("add_indicator",)

    _parameter_constraints = {
        "modalities": [dict, None],
        "transformers": [
            dict,
            list,
            HasMethods(["fit", "transform"]),
            StrOptions({"passthrough"}),
            None,
        ],
        "standardize": ["boolean"],
        "block_scaling": [StrOptions({"variance", "mfa"}), None],
        "weights": [dict, "array-like", None],
        "missing": [StrOptions({"error", "zero"})],
        "add_indicator": ["boolean"],
    }

    _named_estimators_param = "transformers"

    def __init__(
        self,
        modalities=None,
        *,
        transformers=None,
        standardize=True,
        block_scaling="variance",
        weights=None,
        missing="error",
        add_indicator=False,
    ):
        self.modalities = modalities
        self.transformers = transformers
        self.standardize = standardize
        self.block_scaling = block_scaling
        self.weights = weights
        self.missing = missing
        self.add_indicator = add_indicator

    # -- fit -------------------------------------------------------------------

    def _check_params_for_data(self):
        return CHECK_PARAMS

    def _fit(self, X, y):
        X = validate_modal_data(self, X, **self._check_params_for_data())
        names = list(self.modalities_)
        specs = resolve_transformers(self.transformers, names, self.get_params(deep=False))
        weights = resolve_weights(self.weights, names)
        used = [
            name for name in names if not (isinstance(specs[name], str) and specs[name] == "drop")
        ]
        if not used:
            raise ValueError("Every modality is dropped by `transformers`; nothing to fuse.")
        mask = modality_presence(self, X, used)
        X = handle_nan_cells(self, X, used, mask, reset=True)
        self.transformers_ = {name: specs[name] for name in names}
        self.block_means_, self.block_norms_, self.output_slices_ = {}, {}, {}
        self.column_scales_ = {}
        self.weights_ = {name: weights[name] for name in used}
        blocks, start = {}, 0
        for j, name in enumerate(used):
            rows, block = training_block(self, X, name, mask[:, j])
            if not isinstance(specs[name], str):
                transformer = clone(specs[name])
                y_rows = y if (y is None or rows is None) else _safe_indexing(y, rows)
                with fitting(f"transformer of modality {name!r}"):
                    block = _as_2d_output(
                        transformer.fit_transform(self._transformer_input(name, block), y_rows)
                    )
                self.transformers_[name] = transformer
                blocks[name] = block
            passed_through = isinstance(specs[name], str)
            mean, norm, column_scale = block_statistics(
                block,
                self.block_scaling,
                standardize=passed_through and self.standardize,
            )
            self.block_means_[name], self.block_norms_[name] = mean, norm
            self.column_scales_[name] = column_scale
            self.output_slices_[name] = slice(start, start + block.shape[1])
            start += block.shape[1]
        self._n_features_out = start + (len(used) if self.add_indicator else 0)
        return X, mask, blocks

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the per-modality transformers and the block statistics.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training data; a modality whose columns are all NaN in a row is
            missing there, other NaN are NaN cells (see ``missing``).
        y : array-like of shape (n_samples,), default=None
            Passed to the inner transformers (rows where their modality is present).

        Returns
        -------
        self : FeatureFusion
            The fitted transformer.
        """
        self._fit(X, y)
        return self

    @fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y=None):
        """Fit, then return the fused features of ``X`` (inner transformers run once).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,), default=None
            Passed to the inner transformers.

        Returns
        -------
        X_fused : {ndarray, sparse matrix} of shape (n_samples, n_features_out)
            The fused features.
        """
        X, mask, blocks = self._fit(X, y)
        return self._assemble(X, mask, blocks)

    # -- transform -------------------------------------------------------------

    @fill_doc(x_seen=X_SEEN)
    def transform(self, X):
        """Fuse the modalities of ``X`` into one feature matrix.

        Parameters
        ----------
        %(x_seen)s

        Returns
        -------
        X_fused : {ndarray, sparse matrix} of shape (n_samples, n_features_out)
            The fused features (sparse when a fused block is sparse).
        """
        check_is_fitted(self)
        X = validate_modal_data(self, X, reset=False, **self._check_params_for_data())
        used = list(self.weights_)
        mask = modality_presence(self, X, used)
        X = handle_nan_cells(self, X, used, mask, reset=False)
        blocks = {}
        for j, name in enumerate(used):
            transformer = self.transformers_[name]
            if isinstance(transformer, str):
                continue
            rows = present_rows(mask[:, j])
            block = take_columns(X, self.modalities_[name])
            if rows is not None:
                if rows.size == 0:
                    width = self.output_slices_[name].stop - self.output_slices_[name].start
                    blocks[name] = np.zeros((0, width), dtype=X.dtype)
                    continue
                block = block[rows]
            blocks[name] = _as_2d_output(transformer.transform(self._transformer_input(name, block)))
        return self._assemble(X, mask, blocks)

    def _transformer_input(self, name, block):
        """A dense block as a DataFrame of its columns when X had column names, so that
        the modality's transformer sees them: it can select columns by name, and its
        get_feature_names_out answers to the names get_feature_names_out passes it."""
        names = getattr(self, "feature_names_in_", None)
        if names is None or sp.issparse(block):
            return block
        import pandas as pd  # X had column names: it was a DataFrame

        return pd.DataFrame(block, columns=names[self.modalities_[name]], copy=False)

    def _scale_of(self, name):
        """What each column of a centred block is multiplied by."""
        return self.weights_[name] / (self.block_norms_[name] * self.column_scales_[name])

    def _assemble(self, X, mask, blocks):
        """Write every block (passthrough from X, others from ``blocks``) into the output."""
        fused = [X if name not in blocks else blocks[name] for name in self.weights_]
        dtype = np.result_type(*(block.dtype for block in fused), np.float32)
        if any(sp.issparse(block) for block in fused):
            return self._assemble_sparse(X, mask, blocks, dtype)
        out = np.empty((X.shape[0], self._n_features_out), dtype=dtype)
        self._write_passthrough(X, out)
        for j, name in enumerate(self.weights_):
            if name in blocks:
                self._write_block(blocks[name], present_rows(mask[:, j]), name, out)
            missing = ~mask[:, j]
            if missing.any():
                out[missing, self.output_slices_[name]] = 0
        if self.add_indicator:
            out[:, self._n_features_out - mask.shape[1] :] = mask
        return out

    def _write_passthrough(self, X, out):
        """Write runs of adjacent passed-through blocks with one chunked pass each."""
        runs, run = [], []
        for name in self.weights_:
            if isinstance(self.transformers_[name], str):
                run.append(name)
            elif run:
                runs, run = runs + [run], []
        runs += [run] if run else []
        for run in runs:
            columns = np.concatenate([self.modalities_[name] for name in run])
            means = [self._mean_or_zero(name) for name in run]
            scales = [self._scale_of(name) for name in run]
            target = slice(self.output_slices_[run[0]].start, self.output_slices_[run[-1]].stop)
            write_centred_scaled(
                out,
                target,
                take_columns(X, columns),
                np.concatenate(means).astype(out.dtype),
                np.concatenate(scales).astype(out.dtype),
            )

    def _mean_or_zero(self, name):
        mean = self.block_means_[name]
        if mean is None:  # fitted on a sparse block: scaled, never centred
            width = self.output_slices_[name].stop - self.output_slices_[name].start
            return np.zeros(width)
        return mean

    def _write_block(self, block, rows, name, out):
        mean = self._mean_or_zero(name).astype(out.dtype)
        scale = self._scale_of(name).astype(out.dtype)
        target = self.output_slices_[name]
        if rows is None:
            write_centred_scaled(out, target, block, mean, scale)
        elif rows.size:
            out[rows, target] = (block - mean) * scale

    def _assemble_sparse(self, X, mask, blocks, dtype):
        n_samples = X.shape[0]
        parts = []
        for j, name in enumerate(self.weights_):
            rows = present_rows(mask[:, j])
            if name in blocks:
                block = blocks[name]
            else:
                block = take_columns(X, self.modalities_[name])
                block = block if rows is None else block[rows]
            mean = self.block_means_[name]
            if mean is not None:  # fitted dense: centre, even if given sparse now
                block = np.asarray(block.toarray() if sp.issparse(block) else block) - mean
            scaled = block.multiply(self._scale_of(name)) if sp.issparse(block) else (
                block * self._scale_of(name)
            )
            parts.append(_expand_rows(scaled, rows, n_samples))
        if self.add_indicator:
            parts.append(sp.csr_matrix(mask))
        return sp.hstack(parts, format="csr", dtype=dtype)

    def get_feature_names_out(self, input_features=None):
        """Output feature names: ``"<modality>__<feature>"``, then ``"presence__<modality>"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input column names; by default ``feature_names_in_`` or
            ``x0 .. x(n_features_in_ - 1)``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output column.
        """
        check_is_fitted(self)
        check_params_unchanged_since_fit(self)
        input_features = _check_feature_names_in(self, input_features)
        names = []
        for name in self.weights_:
            block_names = input_features[self.modalities_[name]]
            transformer = self.transformers_[name]
            if not isinstance(transformer, str):
                if not hasattr(transformer, "get_feature_names_out"):
                    raise AttributeError(
                        f"Transformer of modality {name!r} ({type(transformer).__name__}) "
                        "does not provide get_feature_names_out."
                    )
                block_names = transformer.get_feature_names_out(block_names)
            names.extend(f"{name}__{feature}" for feature in block_names)
        if self.add_indicator:
            names.extend(f"presence__{name}" for name in self.weights_)
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN cells are filled here and missing modalities zeroed (or refused with
        # missing="error"); inner transformers never see NaN. Sparse input as
        # ColumnTransformer: when every inner transformer accepts it (passed-through
        # blocks are scaled, not centred).
        tags.input_tags.allow_nan = True
        inner = inner_transformers(self.transformers)
        inner_tags = [get_tags(t) for t in inner if hasattr(t, "__sklearn_tags__")]
        complete = len(inner_tags) == len(inner)  # a duck-typed transformer may accept neither
        tags.input_tags.sparse = complete and all(t.input_tags.sparse for t in inner_tags)
        # float32 stays float32 through scaling; through a transformer, if it says so
        if complete and all(
            t.transformer_tags is not None and "float32" in t.transformer_tags.preserves_dtype
            for t in inner_tags
        ):
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _check_restriction(self, kept):
        specs = dict(named_items(self.transformers))
        if all(isinstance(specs.get(name), str) and specs[name] == "drop" for name in kept):
            raise ModalitySubsetError(
                f"FeatureFusion drops every modality of {kept} (transformers='drop')."
            )

    def _per_modality_params(self, kept, modalities):
        positions = self._kept_positions(kept)
        return {
            "transformers": restrict_setting(self.transformers, kept, positions),
            "weights": restrict_setting(self.weights, kept, positions),
        }

    def _predicts_with_masked_modalities(self):
        # A missing modality's block is zero: it contributes nothing downstream.
        return self.missing == "zero"


