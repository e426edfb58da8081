"""Early (feature-level) fusion: one fused feature matrix for any downstream estimator.

:class:`FeatureFusion` transforms each modality (optionally), puts every block
on a comparable scale, weights and concatenates them. :class:`InteractionFusion`
builds cross-modal multiplicative features (element-wise products, Tensor
Fusion outer products, or their compact bilinear sketch).
"""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._indexing import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from ._block_scaling import block_statistics, write_centred_scaled
from ._fitting import fit_context, fitting
from ._interaction import (
    WIDTH_FORMULAS,
    count_sketch_matrix,
    draw_count_sketch,
    fit_projection,
    interaction_width,
    pair_feature_names,
    pair_features,
    project,
    resolve_pairs,
)
from ._modalities import check_no_missing, presence_mask, take_columns, validate_modal_data
from ._named_transformers import NamedTransformersMixin, resolve_transformers, resolve_weights

__all__ = ["FeatureFusion", "InteractionFusion"]

_FLOAT_DTYPES = (np.float64, np.float32)


def _as_2d_output(Z):
    """An inner transformer's output as an ndarray or sparse matrix (not a DataFrame)."""
    if sp.issparse(Z):
        return Z
    Z = np.asarray(Z)
    return Z.reshape(-1, 1) if Z.ndim == 1 else Z


def _present_rows(mask_column):
    """Indices of rows where a modality is present, or None when it is present everywhere."""
    return None if mask_column.all() else np.flatnonzero(mask_column)


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


def _presence(fusion, X, names):
    """Presence mask of the modalities ``names``; with ``missing="error"``, none may be missing."""
    mask = presence_mask(X, {name: fusion.modalities_[name] for name in names})
    if fusion.missing == "error":
        check_no_missing(mask, names, hint="missing='zero'")
    return mask


class FeatureFusion(NamedTransformersMixin, TransformerMixin, BaseEstimator):
    """Early fusion: transform, scale, weight and concatenate modality blocks.

    For every modality, in the order of ``modalities``: an optional
    per-modality transformer, then centring by the training mean and division
    by a block norm (``block_scaling``) so that a modality's contribution does
    not grow with its width, then multiplication by the modality's weight. The
    blocks are written side by side, optionally followed by one 0/1 presence
    indicator per modality.

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
        output), and modalities not named are passed through. Named
        transformers are nested parameters: ``<modality>__<param>`` (e.g.
        ``text__n_components`` or, in a Pipeline step ``"fusion"``,
        ``fusion__text__n_components``) and ``<modality>`` itself can be set
        with ``set_params`` and searched by GridSearchCV. ``None`` passes every
        modality through.
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
        rows. ``"zero"`` sets the block to its training mean after scaling,
        i.e. zero, so the modality contributes nothing to that row; scaling
        statistics and inner transformers are fitted on the rows where the
        modality is present, and inner transformers never see missing rows.
    add_indicator : bool, default=False
        Append one 0/1 column per modality, 1 where the modality is present,
        named ``"presence__<modality>"``.

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
    block_norms_ : dict of str to float
        Divisor of each fused block (1.0 for ``block_scaling=None``).
    weights_ : dict of str to float
        Weight of each fused block.
    output_slices_ : dict of str to slice
        Columns of each fused block in the output.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in ``fit``, when ``X`` had string column names.

    See Also
    --------
    InteractionFusion : Cross-modal multiplicative features.
    sklearn.compose.ColumnTransformer : Per-column-group transformers, without
        block scaling or missing-modality handling.

    Notes
    -----
    Output block of modality ``m`` for row ``i``:
    ``w_m * (T_m(x_i) - mean_m) / norm_m`` where ``T_m`` is the inner
    transformer. Multiple factor analysis (Escofier and Pagès, 1994; Abdi,
    Williams and Valentin, 2013, "Multiple factor analysis: principal
    component analysis for multitable and multiblock data sets", WIREs
    Computational Statistics 5(2)) weights each table by the inverse of its
    first singular value so that no table dominates the first common axis.

    Dense blocks are centred. Sparse blocks (sparse input passed through, or
    a transformer with sparse output) are scaled but not centred, so they stay
    sparse; their missing rows are zero, which is likewise no contribution to a
    linear model. The output is sparse (CSR) when any fused block is sparse.
    Inner transformers receive each block as an array. ``transform`` writes
    each block once into a preallocated output; float32 input stays float32.

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

    _parameter_constraints = {
        "modalities": [dict, None],
        "transformers": [
            dict,
            list,
            HasMethods(["fit", "transform"]),
            StrOptions({"passthrough"}),
            None,
        ],
        "block_scaling": [StrOptions({"variance", "mfa"}), None],
        "weights": [dict, "array-like", None],
        "missing": [StrOptions({"error", "zero"})],
        "add_indicator": ["boolean"],
    }

    def __init__(
        self,
        modalities=None,
        transformers=None,
        block_scaling="variance",
        weights=None,
        missing="error",
        add_indicator=False,
    ):
        self.modalities = modalities
        self.transformers = transformers
        self.block_scaling = block_scaling
        self.weights = weights
        self.missing = missing
        self.add_indicator = add_indicator

    # -- fit -------------------------------------------------------------------

    def _check_params_for_data(self):
        return dict(accept_sparse=("csr", "csc"), dtype=_FLOAT_DTYPES)

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
        mask = _presence(self, X, used)
        self.transformers_ = {name: specs[name] for name in names}
        self.block_means_, self.block_norms_, self.output_slices_ = {}, {}, {}
        self.weights_ = {name: weights[name] for name in used}
        blocks, start = {}, 0
        for j, name in enumerate(used):
            rows = _present_rows(mask[:, j])
            if rows is not None and rows.size == 0:
                raise ValueError(f"Modality {name!r} is missing in every training row.")
            block = take_columns(X, self.modalities_[name])
            block = block if rows is None else block[rows]
            if not isinstance(specs[name], str):
                transformer = clone(specs[name])
                y_rows = y if (y is None or rows is None) else _safe_indexing(y, rows)
                with fitting(f"transformer of modality {name!r}"):
                    block = _as_2d_output(transformer.fit_transform(block, y_rows))
                self.transformers_[name] = transformer
                blocks[name] = block
            mean, norm = block_statistics(block, self.block_scaling)
            self.block_means_[name], self.block_norms_[name] = mean, norm
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
            missing there.
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

    def transform(self, X):
        """Fuse the modalities of ``X`` into one feature matrix.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Data with the columns seen in ``fit``.

        Returns
        -------
        X_fused : {ndarray, sparse matrix} of shape (n_samples, n_features_out)
            The fused features (sparse when a fused block is sparse).
        """
        check_is_fitted(self)
        X = validate_modal_data(self, X, reset=False, **self._check_params_for_data())
        used = list(self.weights_)
        mask = _presence(self, X, used)
        blocks = {}
        for j, name in enumerate(used):
            transformer = self.transformers_[name]
            if isinstance(transformer, str):
                continue
            rows = _present_rows(mask[:, j])
            block = take_columns(X, self.modalities_[name])
            if rows is not None:
                if rows.size == 0:
                    width = self.output_slices_[name].stop - self.output_slices_[name].start
                    blocks[name] = np.zeros((0, width), dtype=X.dtype)
                    continue
                block = block[rows]
            blocks[name] = _as_2d_output(transformer.transform(block))
        return self._assemble(X, mask, blocks)

    def _scale_of(self, name):
        return self.weights_[name] / self.block_norms_[name]

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
                self._write_block(blocks[name], _present_rows(mask[:, j]), name, out)
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
            scales = [np.full(len(m), self._scale_of(name)) for name, m in zip(run, means)]
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
        scale = out.dtype.type(self._scale_of(name))
        target = self.output_slices_[name]
        if rows is None:
            write_centred_scaled(out, target, block, mean, scale)
        elif rows.size:
            out[rows, target] = (block - mean) * scale

    def _assemble_sparse(self, X, mask, blocks, dtype):
        n_samples = X.shape[0]
        parts = []
        for j, name in enumerate(self.weights_):
            rows = _present_rows(mask[:, j])
            if name in blocks:
                block = blocks[name]
            else:
                block = take_columns(X, self.modalities_[name])
                block = block if rows is None else block[rows]
            mean = self.block_means_[name]
            if mean is not None:  # fitted dense: centre, even if given sparse now
                block = np.asarray(block.toarray() if sp.issparse(block) else block) - mean
            parts.append(_expand_rows(block * self._scale_of(name), rows, n_samples))
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
        # As ColumnTransformer: what every inner transformer accepts. Passed-through
        # blocks take NaN (it encodes missing modalities, or reaches the downstream
        # estimator) and sparse input (scaled, not centred).
        inner = self._inner_transformers()
        inner_tags = [get_tags(t).input_tags for t in inner if hasattr(t, "__sklearn_tags__")]
        complete = len(inner_tags) == len(inner)  # a duck-typed transformer may accept neither
        tags.input_tags.allow_nan = complete and all(t.allow_nan for t in inner_tags)
        tags.input_tags.sparse = complete and all(t.sparse for t in inner_tags)
        return tags


class InteractionFusion(TransformerMixin, BaseEstimator):
    """Cross-modal multiplicative features: products, tensor fusion, compact bilinear pooling.

    Each modality in a pair is centred and projected to ``k_m`` unit-variance
    components ``z_m``; then, for every pair ``(a, b)``, one of:

    - ``"product"``: the element-wise product ``z_a * z_b`` of the two
      projections cut to a common width;
    - ``"tensor"``: the outer product ``[1, z_a] ⊗ [1, z_b]`` of Tensor Fusion
      Networks, flattened: a constant, both unimodal representations and
      every bimodal product ``z_a[i] * z_b[j]``;
    - ``"compact_bilinear"``: a ``sketch_size``-wide Tensor Sketch of that
      outer product (compact bilinear pooling), whose inner products
      approximate those of the full tensor features without building them.

    A linear model on these features can learn effects that exist only in the
    combination of two modalities (e.g. an XOR of their signs), which it
    cannot learn from their concatenation.

    Parameters
    ----------
    modalities : dict of str to columns or None, default=None
        ``{name: columns}`` (see :class:`FeatureFusion`). At least two
        modalities must take part in ``pairs``.
    pairs : list of (str, str) or None, default=None
        The modality pairs to interact; ``None`` means every pair of
        modalities, in the order of ``modalities``.
    method : {"tensor", "product", "compact_bilinear"}, default="tensor"
        The interaction features (see above).
    projection : {"pca", "random"} or None, default="pca"
        How each modality is reduced to ``k_m`` components: ``"pca"`` (whitened
        principal components, unit variance each); ``"random"`` (the block is
        centred, divided by the square root of its total variance and
        multiplied by a seeded standard Gaussian matrix, so each component has
        unit variance in expectation); ``None`` (the centred block itself,
        ``k_m`` = its width; dense input only).
    n_components : int, default=4
        Components per modality when projecting: ``k_m = min(n_components, p_m)``
        for a modality of ``p_m`` columns.
    sketch_size : int, default=256
        Output width of each pair for ``method="compact_bilinear"``.
    max_features : int, default=10_000
        Largest allowed output width; fitting a wider configuration raises a
        ValueError that states the width formula.
    missing : {"error", "zero"}, default="error"
        ``"error"`` raises a ValueError naming the modality when one is missing
        in a row (all its columns NaN) or has NaN cells where it is present.
        ``"zero"`` sets a missing modality's ``z`` to zero (its training mean)
        in that row, so products with it vanish and only the constant and the
        other modality's unimodal terms remain of a tensor; NaN cells of a
        present modality are set to their column's training mean before
        projecting. Projections are fitted on the rows where their modality is
        present.
    random_state : int, RandomState instance or None, default=None
        Seeds the random projections, the count sketches and PCA's
        randomised solver.

    Attributes
    ----------
    modalities_ : dict of str to ndarray of int
        Column positions of each modality.
    pairs_ : list of tuple of str
        The interacted pairs.
    n_components_ : dict of str to int
        ``k_m`` of every modality taking part.
    projection_means_ : dict of str to ndarray
        Training mean of every modality taking part.
    projections_ : dict of str to ndarray of shape (p_m, k_m) or None
        Projection matrix of every modality (None for ``projection=None``):
        ``z_m = (x_m - mean_m) @ projections_[m]``.
    count_sketches_ : list of tuple
        For ``"compact_bilinear"``, per pair: ``(buckets_a, signs_a, buckets_b,
        signs_b)``, the hash of each entry of ``[1, z_a]`` and ``[1, z_b]``;
        empty otherwise.
    output_slices_ : dict of str to slice
        Output columns of each pair, keyed ``"<a>*<b>"``.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names seen in ``fit``, when ``X`` had string column names.

    See Also
    --------
    FeatureFusion : Scaled concatenation of the modalities; combine both with
        :class:`~sklearn.pipeline.FeatureUnion`.
    sklearn.preprocessing.PolynomialFeatures : All degree-2 products, within
        and across modalities, without projection.

    Notes
    -----
    Output width: the sum over pairs ``(a, b)`` of

    - ``"product"``: ``min(k_a, k_b)``;
    - ``"tensor"``: ``(k_a + 1) * (k_b + 1)``;
    - ``"compact_bilinear"``: ``sketch_size``;

    with ``k_m = min(n_components, p_m)`` when projecting and ``k_m = p_m``
    for ``projection=None``. Feature names: ``"<a>*<b>__<i>"`` (products,
    component ``i``), ``"<a>*<b>__<i>_<j>"`` (tensor, ``[1, z_a][i] *
    [1, z_b][j]``, index 0 being the constant) and ``"<a>*<b>__sketch<j>"``.

    Zadeh, Chen, Poria, Cambria and Morency (2017), "Tensor Fusion Network for
    multimodal sentiment analysis", EMNLP. Gao, Beijbom, Zhang and Darrell
    (2016), "Compact bilinear pooling", CVPR. Pham and Pagh (2013), "Fast and
    scalable polynomial kernels via explicit feature maps", KDD.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion import InteractionFusion
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 5))
    >>> fusion = InteractionFusion({"a": [0, 1], "b": [2, 3, 4]}, n_components=2)
    >>> fusion.fit_transform(X).shape  # (2 + 1) * (2 + 1)
    (50, 9)
    >>> fusion.get_feature_names_out()[:4]
    array(['a*b__0_0', 'a*b__0_1', 'a*b__0_2', 'a*b__1_0'], dtype=object)
    """

    _parameter_constraints = {
        "modalities": [dict, None],
        "pairs": [list, None],
        "method": [StrOptions({"tensor", "product", "compact_bilinear"})],
        "projection": [StrOptions({"pca", "random"}), None],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "sketch_size": [Interval(Integral, 1, None, closed="left")],
        "max_features": [Interval(Integral, 1, None, closed="left")],
        "missing": [StrOptions({"error", "zero"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        modalities=None,
        pairs=None,
        method="tensor",
        projection="pca",
        n_components=4,
        sketch_size=256,
        max_features=10_000,
        missing="error",
        random_state=None,
    ):
        self.modalities = modalities
        self.pairs = pairs
        self.method = method
        self.projection = projection
        self.n_components = n_components
        self.sketch_size = sketch_size
        self.max_features = max_features
        self.missing = missing
        self.random_state = random_state

    def _check_width(self, widths):
        total = sum(
            interaction_width(self.method, widths[a], widths[b], self.sketch_size)
            for a, b in self.pairs_
        )
        if self.method == "product" and self.projection is None:
            for a, b in self.pairs_:
                if widths[a] != widths[b]:
                    raise ValueError(
                        f"method='product' with projection=None needs modalities of equal "
                        f"width; {a!r} has {widths[a]} columns and {b!r} has {widths[b]}. "
                        "Use projection='pca' or 'random'."
                    )
        if total > self.max_features:
            k_note = "k_m = min(n_components, p_m)" if self.projection else "k_m = p_m"
            raise ValueError(
                f"InteractionFusion(method={self.method!r}) would output {total} features "
                f"(sum over {len(self.pairs_)} pair(s) of {WIDTH_FORMULAS[self.method]}, "
                f"{k_note}, k = {widths}), more than max_features={self.max_features}. "
                "Lower n_components, use fewer pairs, method='compact_bilinear', or "
                "raise max_features."
            )
        return total

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the projections (and count sketches) of the modalities in ``pairs``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training data; sparse only with a projection.
        y : None
            Ignored.

        Returns
        -------
        self : InteractionFusion
            The fitted transformer.
        """
        X = validate_modal_data(
            self, X, accept_sparse=("csr", "csc"), dtype=_FLOAT_DTYPES
        )
        if sp.issparse(X) and self.projection is None:
            raise TypeError(
                "InteractionFusion with projection=None needs dense input (centring "
                "would densify a sparse block); use projection='pca' or 'random'."
            )
        self.pairs_ = resolve_pairs(self.pairs, list(self.modalities_))
        involved = list(dict.fromkeys(name for pair in self.pairs_ for name in pair))
        self.n_components_ = {
            name: (
                len(self.modalities_[name])
                if self.projection is None
                else min(self.n_components, len(self.modalities_[name]))
            )
            for name in involved
        }
        self._n_features_out = self._check_width(self.n_components_)
        mask = _presence(self, X, involved)
        rng = check_random_state(self.random_state)
        self.projection_means_, self.projections_ = {}, {}
        for j, name in enumerate(involved):
            rows = _present_rows(mask[:, j])
            if rows is not None and rows.size == 0:
                raise ValueError(f"Modality {name!r} is missing in every training row.")
            block = take_columns(X, self.modalities_[name])
            block = block if rows is None else block[rows]
            mean, projection = fit_projection(
                block,
                name,
                projection=self.projection,
                k=self.n_components_[name],
                missing=self.missing,
                rng=rng,
            )
            self.projection_means_[name], self.projections_[name] = mean, projection
        self.count_sketches_, self.output_slices_, start = [], {}, 0
        for a, b in self.pairs_:
            width = interaction_width(
                self.method, self.n_components_[a], self.n_components_[b], self.sketch_size
            )
            self.output_slices_[f"{a}*{b}"] = slice(start, start + width)
            start += width
            if self.method == "compact_bilinear":
                # one count sketch of [1, z_m] for each side of the pair
                self.count_sketches_.append(
                    draw_count_sketch(rng, self.n_components_[a] + 1, self.sketch_size)
                    + draw_count_sketch(rng, self.n_components_[b] + 1, self.sketch_size)
                )
        return self

    def transform(self, X):
        """Interaction features of every pair, side by side.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Data with the columns seen in ``fit``.

        Returns
        -------
        X_interactions : ndarray of shape (n_samples, n_features_out)
            The features of each pair in the order of ``pairs_``.
        """
        check_is_fitted(self)
        X = validate_modal_data(
            self, X, reset=False, accept_sparse=("csr", "csc"), dtype=_FLOAT_DTYPES
        )
        if sp.issparse(X) and self.projection is None:
            raise TypeError("InteractionFusion with projection=None needs dense input.")
        involved = list(self.n_components_)
        mask = _presence(self, X, involved)
        z = {
            name: project(
                take_columns(X, self.modalities_[name]),
                name,
                mean=self.projection_means_[name],
                projection=self.projections_[name],
                present=mask[:, j],
                missing=self.missing,
                dtype=X.dtype,
            )
            for j, name in enumerate(involved)
        }
        out = np.empty((X.shape[0], self._n_features_out), dtype=X.dtype)
        for i, (a, b) in enumerate(self.pairs_):
            sketches = None
            if self.method == "compact_bilinear":
                buckets_a, signs_a, buckets_b, signs_b = self.count_sketches_[i]
                sketches = (
                    count_sketch_matrix(buckets_a, signs_a, self.sketch_size, X.dtype),
                    count_sketch_matrix(buckets_b, signs_b, self.sketch_size, X.dtype),
                )
            pair_features(
                self.method, z[a], z[b], out[:, self.output_slices_[f"{a}*{b}"]], sketches
            )
        return out

    def get_feature_names_out(self, input_features=None):
        """Output feature names, ``"<a>*<b>__..."`` (see Notes).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the input names seen in ``fit``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output column.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features)
        names = []
        for a, b in self.pairs_:
            names += pair_feature_names(
                self.method, a, b, self.n_components_[a], self.n_components_[b], self.sketch_size
            )
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN is accepted only as a missing modality (or cell) to set to zero.
        tags.input_tags.allow_nan = self.missing == "zero"
        tags.input_tags.sparse = self.projection is not None
        return tags
