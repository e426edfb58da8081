"""InteractionFusion: cross-modal multiplicative features."""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted

from .._fit_context import check_params_unchanged_since_fit, fit_context
from .._modalities import take_columns, validate_modal_data
from .._utils.docstrings import fill_doc
from .._utils.modality_protocol import ModalityProtocolMixin, ModalitySubsetError
from ._docs import FITTED_INPUT, X_SEEN
from ._interaction_features import (
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
from ._missing import CHECK_PARAMS, handle_nan_cells, modality_presence, training_block

__all__ = ["InteractionFusion"]


@fill_doc(fitted_input=FITTED_INPUT)
class InteractionFusion(ModalityProtocolMixin, TransformerMixin, BaseEstimator):
    """Cross-modal multiplicative features: products, tensor fusion, compact bilinear pooling.

    Each modality in a pair is centred, its columns divided by their standard
    deviations (``standardize``), and projected to ``k_m`` unit-variance
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
        unit variance in expectation); ``None`` (the centred, and standardised,
        block itself, ``k_m`` = its width; dense input only).
    standardize : bool, default=True
        Divide each column by its training standard deviation (``ddof=0``,
        over the rows where its modality is present; a constant column is left
        as it is) before projecting, so that the features do not depend on the
        unit of any column (``"pca"`` is then the PCA of the correlation
        matrix). ``False`` takes the columns as they are, as
        :class:`~sklearn.decomposition.PCA` does (see
        :class:`~skfusion.FeatureFusion` for when that is right).
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
        in a row (all its columns NaN). ``"zero"`` sets a missing modality's
        ``z`` to zero (its training mean) in that row, so products with it
        vanish and only the constant and the other modality's unimodal terms
        remain of a tensor. Projections are fitted on the rows where their
        modality is present. In both cases a NaN cell of a present modality
        takes its column's mean over the training rows where the modality is
        present (``fill_values_``) before projecting, so the projections are
        those fitted on mean-imputed data.
    random_state : int, RandomState instance or None, default=0
        Seeds the random projections, the count sketches and PCA's
        randomised solver; the default is a fixed seed, so that two fits with
        default parameters give the same features (None: numpy's global
        random state).

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
    projection_scales_ : dict of str to ndarray
        Divisor of each column of every modality taking part: its training
        standard deviation when standardised (1.0 for a constant column), 1.0
        otherwise.
    fill_values_ : dict of str to ndarray
        The value a NaN cell of each column of a modality taking part takes, its mean over the training rows where the
        modality is present, NaN cells left out.
    projections_ : dict of str to ndarray of shape (p_m, k_m) or None
        Projection matrix of every modality (None for ``projection=None``):
        ``z_m = ((x_m - mean_m) / scale_m) @ projections_[m]``, with
        ``projection_means_`` and ``projection_scales_``.
    count_sketches_ : list of tuple
        For ``"compact_bilinear"``, per pair: ``(buckets_a, signs_a, buckets_b,
        signs_b)``, the hash of each entry of ``[1, z_a]`` and ``[1, z_b]``;
        empty otherwise.
    output_slices_ : dict of str to slice
        Output columns of each pair, keyed ``"<a>*<b>"``.
    %(fitted_input)s

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

    # Read at predict time beside state fitted for them: refused if changed after fit
    # (the output slices, projections and count sketches are fitted for them).
    _params_fixed_at_fit = ("method", "projection", "sketch_size")

    _parameter_constraints = {
        "modalities": [dict, None],
        "pairs": [list, None],
        "method": [StrOptions({"tensor", "product", "compact_bilinear"})],
        "projection": [StrOptions({"pca", "random"}), None],
        "standardize": ["boolean"],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "sketch_size": [Interval(Integral, 1, None, closed="left")],
        "max_features": [Interval(Integral, 1, None, closed="left")],
        "missing": [StrOptions({"error", "zero"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        modalities=None,
        *,
        pairs=None,
        method="tensor",
        projection="pca",
        standardize=True,
        n_components=4,
        sketch_size=256,
        max_features=10_000,
        missing="error",
        random_state=0,
    ):
        self.modalities = modalities
        self.pairs = pairs
        self.method = method
        self.projection = projection
        self.standardize = standardize
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
        X = validate_modal_data(self, X, **CHECK_PARAMS)
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
        mask = modality_presence(self, X, involved)
        X = handle_nan_cells(self, X, involved, mask, reset=True)
        rng = check_random_state(self.random_state)
        self.projection_means_, self.projection_scales_, self.projections_ = {}, {}, {}
        for j, name in enumerate(involved):
            _, block = training_block(self, X, name, mask[:, j])
            mean, scale, projection = fit_projection(
                block,
                name,
                projection=self.projection,
                k=self.n_components_[name],
                rng=rng,
                standardize=self.standardize,
            )
            self.projection_means_[name], self.projections_[name] = mean, projection
            self.projection_scales_[name] = scale
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

    @fill_doc(x_seen=X_SEEN)
    def transform(self, X):
        """Interaction features of every pair, side by side.

        Parameters
        ----------
        %(x_seen)s

        Returns
        -------
        X_interactions : ndarray of shape (n_samples, n_features_out)
            The features of each pair in the order of ``pairs_``.
        """
        check_is_fitted(self)
        X = validate_modal_data(self, X, reset=False, **CHECK_PARAMS)
        if sp.issparse(X) and self.projection is None:
            raise TypeError("InteractionFusion with projection=None needs dense input.")
        involved = list(self.n_components_)
        mask = modality_presence(self, X, involved)
        X = handle_nan_cells(self, X, involved, mask, reset=False)
        z = {
            name: project(
                take_columns(X, self.modalities_[name]),
                mean=self.projection_means_[name],
                scale=self.projection_scales_[name],
                projection=self.projections_[name],
                present=mask[:, j],
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
        check_params_unchanged_since_fit(self)
        _check_feature_names_in(self, input_features)
        names = []
        for a, b in self.pairs_:
            names += pair_feature_names(
                self.method, a, b, self.n_components_[a], self.n_components_[b], self.sketch_size
            )
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN cells are filled; missing modalities zeroed, or refused with "error".
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = self.projection is not None
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]  # out takes X's dtype
        return tags

    def _kept_pairs(self, kept):
        return None if self.pairs is None else [
            pair for pair in self.pairs if all(name in kept for name in pair)
        ]

    def _check_restriction(self, kept):
        if len(kept) < 2 or self._kept_pairs(kept) == []:
            raise ModalitySubsetError(
                f"InteractionFusion has no pair of modalities to interact in {kept}."
            )

    def _per_modality_params(self, kept, modalities):
        return {"pairs": self._kept_pairs(kept)}

    def _predicts_with_masked_modalities(self):
        return self.missing == "zero"
