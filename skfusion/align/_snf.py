"""Similarity network fusion: one graph of samples per modality, fused by cross-diffusion.

Wang et al., "Similarity network fusion for aggregating data types on a genomic
scale", Nature Methods 11 (2014), as computed by its reference implementation
snfpy 0.2.2 (``snf.make_affinity`` and ``snf.snf``).
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy import linalg
from scipy.sparse.linalg import eigsh
from scipy.spatial.distance import cdist
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import SpectralClustering
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._fit_context import fit_context
from .._modalities import present_block
from .._utils.docstrings import (
    FIT_UNSUPERVISED,
    FITTED_MODALITIES,
    GET_FEATURE_NAMES_OUT,
    X_MODALITIES,
    Y_IGNORED,
    fill_doc,
)
from .._utils.modal_transformers import feature_names_out, fit_alignment_input, fitted_input
from .._utils.modality_protocol import ModalityProtocolMixin, ModalitySubsetError

__all__ = ["SimilarityNetworkClustering", "SimilarityNetworkFusion", "propagate_labels"]

_EPS = np.spacing(1)
# metric -> (NearestNeighbors metric, square the distances)
_METRICS = {
    "sqeuclidean": ("euclidean", True),
    "euclidean": ("euclidean", False),
    "cityblock": ("manhattan", False),
    "cosine": ("cosine", False),
}
#: Above this many rows, ``graph="auto"`` takes the sparse path.
_DENSE_MAX_ROWS = 1000
# Target size (floats) of the dense row blocks of the sparse path.
_BLOCK_FLOATS = 4_000_000

_SNF_PARAMETERS = {
    "modalities": [dict, None],
    "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    "mu": [Interval(Real, 0, None, closed="neither")],
    "n_iterations": [Interval(Integral, 0, None, closed="left")],
    "metric": [StrOptions(set(_METRICS))],
    "graph": [StrOptions({"auto", "dense", "sparse"})],
    "random_state": ["random_state"],
}


class _SimilarityNetworkBase(ModalityProtocolMixin):
    """What the fusion and the clustering share: NaN input and two or more modalities."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _check_restriction(self, kept):
        if len(kept) < 2:
            raise ModalitySubsetError(f"{type(self).__name__} fuses two or more modalities; got {kept}.")


@fill_doc(fitted_modalities=FITTED_MODALITIES)
class SimilarityNetworkFusion(_SimilarityNetworkBase, TransformerMixin, BaseEstimator):
    """Similarity network fusion (SNF) of per-modality sample graphs, with a spectral embedding.

    Builds one graph of samples per modality (a scaled exponential kernel whose
    width adapts to each row's ``n_neighbors`` nearest neighbours), then lets
    the graphs exchange information by cross-diffusion: each modality's graph
    is repeatedly replaced by the average of the other modalities' graphs seen
    through its own nearest-neighbour structure. The graphs converge to one
    fused graph, stored as ``fused_graph_``. :meth:`transform` returns a
    spectral embedding of that graph (the leading non-trivial eigenvectors of
    its random walk), so the fused graph feeds any scikit-learn estimator in a
    :class:`~sklearn.pipeline.Pipeline`; new rows are placed by a Nyström
    extension from their affinities to the training rows.

    Parameters
    ----------
    modalities : dict of str to columns
        At least two modalities, ``{name: columns}`` (see the user guide). Each
        modality's columns are standardised (z-scores) before distances are taken.
    n_neighbors : int, default=20
        ``K`` of SNF: the neighbours that set each row's kernel width and the
        size of the local graph through which the modalities exchange
        information. Must be smaller than the number of rows where each
        modality is present.
    mu : float > 0, default=0.5
        Kernel width ``mu`` of SNF: the kernel's standard deviation is ``mu``
        times the average of the two rows' mean distances to their neighbours
        and their own distance. Usually in [0.3, 0.8].
    n_iterations : int, default=20
        Rounds of cross-diffusion (``t`` of SNF).
    n_components : int, default=10
        Dimension of the spectral embedding :meth:`transform` returns.
    metric : {"sqeuclidean", "euclidean", "cityblock", "cosine"}, default="sqeuclidean"
        Distance between standardised rows within a modality (snfpy's default
        is the squared Euclidean distance).
    graph : {"auto", "dense", "sparse"}, default="auto"
        ``"dense"`` computes SNF exactly as snfpy does, with ``n x n`` dense
        matrices (memory ``(n_modalities + 3) n^2`` floats; time
        ``O(n_modalities n_iterations n^2 K)``). ``"sparse"`` keeps every
        modality's kernel on its ``K``-nearest-neighbour graph and the
        diffusion on the union of those graphs (``scipy.sparse``; memory and
        time linear in ``n``); it approximates the dense result. ``"auto"``
        takes the dense path up to 1,000 training rows.
    random_state : int, RandomState instance or None, default=0
        Seeds the starting vector of the sparse eigensolver (the sparse path).
        The default is a fixed seed, so that two fits with default parameters
        give the same embedding (None: numpy's global random state).

    Attributes
    ----------
    fused_graph_ : ndarray or scipy.sparse.csr_matrix of shape (n_samples, n_samples)
        The fused, symmetric similarity graph of the training rows (dense on
        the dense path, where every entry is nonzero: the first diffusion
        step spreads each modality's full kernel, which has no zero entries).
    fill_values_ : dict of str to ndarray of shape (n_columns_in_modality,)
        Per modality, the value a NaN cell of each column takes: the column's
        mean over the training rows where the modality is present.
    affinities_ : dict of str to ndarray or csr_matrix
        Each modality's kernel before fusion (its present rows; a missing
        row's entries are 0), as snfpy's ``make_affinity`` returns it.
    embedding_ : ndarray of shape (n_samples, n_components)
        Spectral embedding of the training rows (what :meth:`fit_transform`
        returns).
    eigenvalues_ : ndarray of shape (n_components,)
        Eigenvalues of the random walk ``D^-1 W`` of the fused graph for the
        embedding's columns (the trivial eigenvalue 1 is dropped).
    graph_ : {"dense", "sparse"}
        The path taken.
    %(fitted_modalities)s

    See Also
    --------
    SimilarityNetworkClustering : spectral clustering of the fused graph.
    propagate_labels : transductive labels over the fused graph.
    sklearn.manifold.SpectralEmbedding : the embedding of a single graph.

    Notes
    -----
    The kernel, the normalisation, the ``K``-nearest-neighbour ("dominate")
    set and the cross-diffusion ``P_v <- S_v (sum_{k != v} P_k / (m - 1)) S_v' + I``
    follow snfpy 0.2.2 (``graph="dense"`` reproduces its fused matrix to
    1e-8; note that snfpy applies the Gaussian density to its squared
    Euclidean distances, which this class does too). The embedding takes the
    eigenvectors ``u`` of ``D^-1/2 W D^-1/2`` with the largest eigenvalues
    ``lambda`` after the first, as ``psi = sqrt(n mean(d) / d) u``. A new row ``x``
    gets, in each present modality, kernel weights to its ``K`` nearest
    training rows (normalised to sum to 1, as SNF's local graph ``S``); their
    average ``s(x)`` is diffused once through the fused graph, ``w = s(x) W``,
    the form SNF's diffusion gives every training row; the Nyström formula
    ``psi(x) = (w / sum(w)) psi / lambda`` then extends the eigenvectors. For
    a training row this is the degree-weighted average of the embedding over
    its neighbours, close to (not equal to) its own embedding.

    Missing modalities (all columns NaN in a row): each modality's graph is
    built over the rows where it is present, the diffusion averages, for each
    pair of rows, the other modalities' graphs in which both rows are
    present, and the fused graph averages the modalities present in both rows
    (snfpy refuses NaN). A row missing every modality is refused by
    :meth:`fit`; :meth:`transform` returns NaN for it. A NaN cell inside a
    present modality takes its column's training mean (``fill_values_``)
    before standardisation, as in every skfusion estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion import SimilarityNetworkFusion
    >>> rng = np.random.default_rng(0)
    >>> groups = np.repeat([0, 1, 2], 30)
    >>> centres = rng.normal(size=(3, 4)) * 3
    >>> X = np.hstack([centres[groups] + rng.normal(size=(90, 4)),
    ...                centres[groups][:, :2] + rng.normal(size=(90, 2))])
    >>> snf = SimilarityNetworkFusion({"a": [0, 1, 2, 3], "b": [4, 5]}, n_neighbors=10,
    ...                               n_components=2)
    >>> embedding = snf.fit_transform(X)
    >>> embedding.shape, snf.fused_graph_.shape
    ((90, 2), (90, 90))
    >>> snf.transform(X[:5]).shape
    (5, 2)
    """

    # Read at transform time beside state fitted for them: refused if changed after fit
    # (new rows are placed by their neighbours among the training rows in the fused graph).
    _params_fixed_at_fit = ("n_neighbors", "mu", "metric", "graph", "n_components")

    _parameter_constraints: dict = {
        **_SNF_PARAMETERS,
        "n_components": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        modalities=None,
        *,
        n_neighbors=20,
        mu=0.5,
        n_iterations=20,
        n_components=10,
        metric="sqeuclidean",
        graph="auto",
        random_state=0,
    ):
        self.modalities = modalities
        self.n_neighbors = n_neighbors
        self.mu = mu
        self.n_iterations = n_iterations
        self.n_components = n_components
        self.metric = metric
        self.graph = graph
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=True)
    @fill_doc(fit=FIT_UNSUPERVISED)
    def fit(self, X, y=None):
        """Build each modality's graph, fuse them and embed the fused graph.

        %(fit)s
        """
        self._fuse(X)
        n_samples = self.fused_graph_.shape[0]
        if self.n_components >= n_samples:
            raise ValueError(
                f"n_components={self.n_components} must be smaller than the number of "
                f"samples ({n_samples}): the trivial eigenvector is dropped."
            )
        self.embedding_, self.eigenvalues_, self._degree = _spectral_embedding(
            self.fused_graph_, self.n_components, self.random_state
        )
        return self

    @fill_doc(X=X_MODALITIES, y=Y_IGNORED)
    def fit_transform(self, X, y=None):
        """Fit and return the spectral embedding of the training rows (``embedding_``).

        Parameters
        ----------
        %(X)s
        %(y)s

        Returns
        -------
        ndarray of shape (n_samples, n_components)
        """
        return self.fit(X).embedding_.copy()

    def transform(self, X):
        """Place rows in the spectral embedding by their affinities to the training rows.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows to embed; NaN marks a missing modality.

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            NaN for a row missing every modality.
        """
        X, mask = fitted_input(self, X)
        local, present = self._local_graph(X, mask)
        out = np.full((X.shape[0], self.n_components), np.nan)
        rows = np.flatnonzero(present)
        # in row blocks: each block's affinities to the training rows are dense on the dense path
        step = max(1, _BLOCK_FLOATS // self.fused_graph_.shape[0])
        for start in range(0, rows.size, step):
            block = rows[start : start + step]
            affinity = local[block] @ self.fused_graph_  # one diffusion step
            degree = np.asarray(affinity.sum(axis=1)).reshape(-1, 1)
            out[block] = np.asarray(affinity @ self.embedding_) / degree / self.eigenvalues_
        return out

    @fill_doc(sections=GET_FEATURE_NAMES_OUT)
    def get_feature_names_out(self, input_features=None):
        """Names of the embedding's columns: ``similaritynetworkfusion<i>``.

        %(sections)s
        """
        return feature_names_out(self, input_features, "similaritynetworkfusion", self.n_components)

    # ---------------------------------------------------------------- fitting

    def _fuse(self, X):
        """Validate, build the per-modality graphs and fuse them (sets the graph attributes)."""
        needs = "SimilarityNetworkFusion needs every modality present in some rows"
        X, names, mask = fit_alignment_input(self, X, reason=needs)
        absent = np.flatnonzero(~mask.any(axis=1))
        if absent.size:
            raise ValueError(
                f"{absent.size} row(s) have every modality missing (all NaN), e.g. row "
                f"{absent[0]}; a row needs at least one modality to be placed in the graph."
            )
        for name, count in zip(names, mask.sum(axis=0)):
            if self.n_neighbors >= count:
                raise ValueError(
                    f"n_neighbors={self.n_neighbors} must be smaller than the number of rows "
                    f"where modality {name!r} is present; got {count} sample(s) there."
                )
        n_samples = X.shape[0]
        self.graph_ = self.graph
        if self.graph == "auto":
            self.graph_ = "dense" if n_samples <= _DENSE_MAX_ROWS else "sparse"
        self._centre, self._scale, self._mean_distance = {}, {}, {}
        # the training rows' neighbour indexes, kept for transform; not saved (see __getstate__)
        self._neighbors = {}
        standardised = {}
        for j, name in enumerate(names):
            block = np.asarray(present_block(X, self.modalities_[name], mask[:, j]), dtype=np.float64)
            standardised[name] = self._standardise_for_fit(name, block)
        self._present = {name: np.flatnonzero(mask[:, j]) for j, name in enumerate(names)}
        self._standardised = standardised  # transform's neighbour searches run against these rows
        for name, Z in standardised.items():
            self._neighbors[name] = _neighbour_index(Z, self.metric)
        settings = (self.n_neighbors, self.mu, self.n_iterations, self.metric)
        if self.graph_ == "dense":
            self.affinities_, self.fused_graph_ = _fuse_dense(standardised, mask, *settings)
            for name, Z in standardised.items():
                distance, _ = _neighbour_distances(self._neighbors[name], Z, self.n_neighbors + 1, self.metric)
                self._mean_distance[name] = _mean_neighbour_distance(distance)
        else:
            self.affinities_, self.fused_graph_, self._mean_distance = _fuse_sparse(
                standardised, mask, *settings, self._neighbors
            )
        return X, mask

    def _standardise_for_fit(self, name, block):
        # snfpy z-scores each column with ddof=1 and maps a constant column to 0.
        self._centre[name] = block.mean(axis=0)
        std = block.std(axis=0, ddof=1) if block.shape[0] > 1 else np.zeros(block.shape[1])
        self._scale[name] = np.where(std > 0, std, np.inf)
        return (block - self._centre[name]) / self._scale[name]

    def _local_graph(self, X, mask):
        """Each row's average normalised kernel to its ``K`` nearest training rows, per present modality.

        ``X`` is validated with its NaN cells filled; ``mask`` is its presence mask.
        """
        n_train = self.fused_graph_.shape[0]
        local = sp.csr_matrix((X.shape[0], n_train))
        K = self.n_neighbors
        for j, (name, columns) in enumerate(self.modalities_.items()):
            rows = np.flatnonzero(mask[:, j])
            if not rows.size:
                continue
            block = np.asarray(present_block(X, columns, mask[:, j]), dtype=np.float64)
            Z = (block - self._centre[name]) / self._scale[name]
            distance, index = _neighbour_distances(self._neighbors[name], Z, K, self.metric)
            mean_distance = distance.mean(axis=1) + _EPS
            weights = _kernel(distance, mean_distance[:, None], self._mean_distance[name][index], self.mu)
            weights /= weights.sum(axis=1, keepdims=True)
            columns_global = self._present[name][index]
            local = local + sp.csr_matrix(
                (weights.ravel(), (np.repeat(rows, K), columns_global.ravel())), shape=local.shape
            )
        counts = mask.sum(axis=1)
        present = counts > 0
        scale = np.divide(1.0, counts, out=np.zeros(len(counts)), where=present)
        return sp.diags(scale) @ local, present

    def _predicts_with_masked_modalities(self):
        # transform places a row from the modalities it has
        return True

    def __getstate__(self):
        # A saved model holds no KD-tree (a type persistence should not have to trust, and
        # as large as the rows it indexes): loading rebuilds it from the stored rows.
        state = dict(super().__getstate__())
        state.pop("_neighbors", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "_standardised" in self.__dict__:
            self._neighbors = {
                name: _neighbour_index(Z, self.metric) for name, Z in self._standardised.items()
            }


@fill_doc(fitted_modalities=FITTED_MODALITIES)
class SimilarityNetworkClustering(_SimilarityNetworkBase, ClusterMixin, BaseEstimator):
    """Spectral clustering of the similarity network fused from several modalities.

    :class:`SimilarityNetworkFusion` followed by
    :class:`~sklearn.cluster.SpectralClustering` with ``affinity="precomputed"``
    on its ``fused_graph_``, the clustering of the SNF paper, as one estimator
    with ``fit_predict``.

    Parameters
    ----------
    modalities : dict of str to columns
        At least two modalities, ``{name: columns}``.
    n_clusters : int, default=8
        Number of clusters.
    n_neighbors, mu, n_iterations, metric, graph
        As in :class:`SimilarityNetworkFusion`.
    random_state : int, RandomState instance or None, default=0
        Seeds the eigensolver and the k-means of the label assignment; the
        default is a fixed seed, so that two fits with default parameters give
        the same clusters (None: numpy's global random state).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training row.
    fusion_ : SimilarityNetworkFusion
        The fitted fusion (its ``fused_graph_`` is also ``fused_graph_`` here).
    fused_graph_ : ndarray or csr_matrix of shape (n_samples, n_samples)
        The fused graph that was clustered.
    %(fitted_modalities)s

    See Also
    --------
    SimilarityNetworkFusion : the fused graph and its embedding.
    sklearn.cluster.SpectralClustering : clustering of one precomputed graph.

    Notes
    -----
    Wang et al., "Similarity network fusion for aggregating data types on a
    genomic scale", Nature Methods 11 (2014). To assign new rows to the
    clusters, fit a classifier on the embedding of :class:`SimilarityNetworkFusion`
    with these labels, or use :func:`propagate_labels`.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion import SimilarityNetworkClustering
    >>> rng = np.random.default_rng(0)
    >>> groups = np.repeat([0, 1, 2], 30)
    >>> centres = rng.normal(size=(3, 4)) * 3
    >>> X = np.hstack([centres[groups] + rng.normal(size=(90, 4)),
    ...                centres[groups][:, :2] + rng.normal(size=(90, 2))])
    >>> clustering = SimilarityNetworkClustering({"a": [0, 1, 2, 3], "b": [4, 5]},
    ...                                          n_clusters=3, n_neighbors=10, random_state=0)
    >>> labels = clustering.fit_predict(X)
    >>> from sklearn.metrics import adjusted_rand_score
    >>> float(adjusted_rand_score(groups, labels))
    1.0
    """

    _parameter_constraints: dict = {
        **_SNF_PARAMETERS,
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        modalities=None,
        *,
        n_clusters=8,
        n_neighbors=20,
        mu=0.5,
        n_iterations=20,
        metric="sqeuclidean",
        graph="auto",
        random_state=0,
    ):
        self.modalities = modalities
        self.n_clusters = n_clusters
        self.n_neighbors = n_neighbors
        self.mu = mu
        self.n_iterations = n_iterations
        self.metric = metric
        self.graph = graph
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=True)
    @fill_doc(fit=FIT_UNSUPERVISED)
    def fit(self, X, y=None):
        """Fuse the modalities' graphs and cluster the fused graph.

        %(fit)s
        """
        fusion = SimilarityNetworkFusion(
            self.modalities,
            n_neighbors=self.n_neighbors,
            mu=self.mu,
            n_iterations=self.n_iterations,
            metric=self.metric,
            graph=self.graph,
            random_state=self.random_state,
        )
        fusion._fuse(X)
        n_samples = fusion.fused_graph_.shape[0]
        if self.n_clusters > n_samples:
            raise ValueError(f"n_clusters={self.n_clusters} exceeds the number of samples ({n_samples}).")
        clustering = SpectralClustering(
            self.n_clusters, affinity="precomputed", random_state=self.random_state
        )
        self.labels_ = clustering.fit(fusion.fused_graph_).labels_
        self.fusion_ = fusion
        self.fused_graph_ = fusion.fused_graph_
        for name in ("modalities_", "n_features_in_", "feature_names_in_"):
            if hasattr(fusion, name):
                setattr(self, name, getattr(fusion, name))
        return self


def propagate_labels(graph, y, *, n_neighbors=20):
    """Labels for the unlabelled rows of a similarity graph, propagated from the labelled ones.

    The transductive use of a fused graph (SNF's label propagation): rows whose
    label is unknown (``-1``, scikit-learn's semi-supervised convention) take
    the class with the largest harmonic score, the limit of repeatedly
    averaging each unlabelled row's neighbours' class indicators over the
    row-normalised graph while the labelled rows keep theirs (snfpy's
    ``_label_prop`` iterates this 1,000 times; here it is solved directly).

    Parameters
    ----------
    graph : ndarray or sparse matrix of shape (n_samples, n_samples)
        A non-negative similarity graph, e.g. ``SimilarityNetworkFusion().fit(X).fused_graph_``.
    y : array-like of shape (n_samples,)
        Labels, ``-1`` for unlabelled rows (integer labels).
    n_neighbors : int or None, default=20
        Propagate over each row's ``n_neighbors`` strongest similarities to
        other rows (the graph made symmetric by keeping an edge either row
        keeps). None propagates over every entry, as snfpy does; on SNF's
        fused graph, where every pair has a small positive similarity, the
        many weak entries then swamp the strong ones (on 600 digits with 10%
        labelled: 0.44 accuracy with every entry, 0.87 with 20 neighbours).

    Returns
    -------
    ndarray of shape (n_samples,)
        ``y`` with every ``-1`` replaced by its propagated label.

    Notes
    -----
    Zhu, Ghahramani and Lafferty, "Semi-supervised learning using Gaussian
    fields and harmonic functions", ICML 2003: with ``P = D^-1 W`` split into
    labelled (``l``) and unlabelled (``u``) rows, the scores are
    ``F_u = (I - P_uu)^-1 P_ul Y_l``. An unlabelled group of rows with no path
    to a labelled one has no defined label; it gets a least-squares solution.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion import propagate_labels
    >>> graph = np.array([[1.0, 0.9, 0.1, 0.0],
    ...                   [0.9, 1.0, 0.0, 0.1],
    ...                   [0.1, 0.0, 1.0, 0.8],
    ...                   [0.0, 0.1, 0.8, 1.0]])
    >>> propagate_labels(graph, [0, -1, 1, -1], n_neighbors=None)
    array([0, 0, 1, 1])
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != graph.shape[0] or graph.shape[0] != graph.shape[1]:
        raise ValueError(
            f"`graph` must be square with one row per label; got graph of shape {graph.shape} "
            f"and y of shape {y.shape}."
        )
    if y.dtype.kind not in "iuf":
        # in text labels a -1 (or "-1") would be a class: nothing would be propagated
        raise TypeError(
            "`y` must hold integer labels with -1 for the unlabelled rows (scikit-learn's "
            f"semi-supervised convention); got dtype {y.dtype}. Encode text labels first, "
            "e.g. with sklearn.preprocessing.LabelEncoder."
        )
    labelled = y != -1
    if not labelled.any():
        raise ValueError("`y` has no labelled row (every label is -1).")
    classes, codes = np.unique(y[labelled], return_inverse=True)
    if n_neighbors is not None:
        graph = _strongest_neighbours(graph, n_neighbors)
    degree = np.asarray(graph.sum(axis=1)).ravel() + _EPS
    transition = sp.diags(1.0 / degree) @ graph if sp.issparse(graph) else graph / degree[:, None]
    lab, unl = np.flatnonzero(labelled), np.flatnonzero(~labelled)
    indicators = np.zeros((lab.size, classes.size))
    indicators[np.arange(lab.size), codes] = 1.0
    out = y.copy()
    if not unl.size:
        return out
    if sp.issparse(transition):
        transition = transition.tocsr()
        system = sp.identity(unl.size, format="csc") - transition[unl][:, unl].tocsc()
        rhs = np.asarray(transition[unl][:, lab] @ indicators)
        scores = sp.linalg.spsolve(system, rhs).reshape(unl.size, classes.size)
    else:
        system = np.eye(unl.size) - transition[np.ix_(unl, unl)]
        rhs = transition[np.ix_(unl, lab)] @ indicators
        try:
            scores = linalg.solve(system, rhs)
        except linalg.LinAlgError:
            scores = linalg.lstsq(system, rhs)[0]
    out[unl] = classes[np.argmax(scores, axis=1)]
    return out


def _strongest_neighbours(graph, n_neighbors):
    """Each row's ``n_neighbors`` largest off-diagonal entries, symmetrised by the maximum (sparse)."""
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, Integral) or n_neighbors < 1:
        raise ValueError(f"`n_neighbors` must be a positive int or None; got {n_neighbors!r}.")
    graph = sp.csr_matrix(graph, dtype=np.float64)
    graph.setdiag(0.0)
    graph.eliminate_zeros()
    n_samples = graph.shape[0]
    k = min(n_neighbors, max(int(np.diff(graph.indptr).max(initial=0)), 1))
    index, weight = _top_k_per_row(graph, k, normalise=False)
    strongest = sp.csr_matrix(
        (weight.ravel(), (np.repeat(np.arange(n_samples), k), index.ravel())), shape=graph.shape
    )
    return strongest.maximum(strongest.T).tocsr()


# ---------------------------------------------------------------- kernels


def _kernel(distance, mean_rows, mean_cols, mu):
    """snfpy's scaled exponential kernel: a Gaussian density of ``distance`` with an adaptive width."""
    sigma = (mean_rows + mean_cols + distance) / 3.0
    sigma = sigma * (sigma > _EPS) + _EPS
    scale = mu * sigma
    return np.exp(-0.5 * (distance / scale) ** 2) / (np.sqrt(2.0 * np.pi) * scale)


def _mean_neighbour_distance(smallest):
    """Mean of the ``K`` smallest distances after the very smallest (the row itself), as snfpy."""
    ordered = np.sort(smallest, axis=1)
    return ordered[:, 1:].mean(axis=1) + _EPS


def _neighbour_index(Z, metric):
    return NearestNeighbors(metric=_METRICS[metric][0]).fit(Z)


def _neighbour_distances(neighbors, Z, k, metric):
    distance, index = neighbors.kneighbors(Z, n_neighbors=k)
    if _METRICS[metric][1]:
        distance = distance**2
    return distance, index


def _symmetrise(W):
    return (W + W.T) / 2.0


# ---------------------------------------------------------------- dense path (snfpy's arithmetic)


def _dense_affinity(Z, n_neighbors, mu, metric):
    distance = cdist(Z, Z, metric=metric)
    np.fill_diagonal(distance, 0.0)
    smallest = np.partition(distance, n_neighbors, axis=1)[:, : n_neighbors + 1]
    mean_distance = _mean_neighbour_distance(smallest)
    return _symmetrise(_kernel(distance, mean_distance[:, None], mean_distance[None, :], mu))


def _dominate_set(P, n_neighbors):
    """snfpy's ``_find_dominate_set``: each row's ``K`` strongest entries (and ties), renormalised."""
    cutoff = 100 - (100 * (n_neighbors / len(P)))
    kept = np.where(P < np.percentile(P, cutoff, axis=1, keepdims=True), 0.0, P)
    return sp.csr_matrix(kept / kept.sum(axis=1, keepdims=True))


def _fuse_dense(standardised, mask, n_neighbors, mu, n_iterations, metric):
    n_samples, n_views = mask.shape
    complete = bool(mask.all())
    affinities, normalised, local = {}, [], []
    for j, (name, Z) in enumerate(standardised.items()):
        rows = np.flatnonzero(mask[:, j])
        W = _dense_affinity(Z, n_neighbors, mu, metric)
        P = _symmetrise(W / W.sum(axis=1, keepdims=True))
        affinities[name] = W if complete else _embed_square(W, rows, n_samples)
        normalised.append(P)
        local.append(_dominate_set(P, n_neighbors))
    rows = [np.flatnonzero(mask[:, j]) for j in range(n_views)]
    if complete:
        counts = float(n_views)
        total = np.sum(normalised, axis=0)
    else:
        counts = mask.astype(np.float64) @ mask.T.astype(np.float64)  # views shared by each pair
        total = np.zeros((n_samples, n_samples))
        for P, r in zip(normalised, rows):
            total[np.ix_(r, r)] += P
    for _ in range(n_iterations):
        updated = []
        for P, S, r in zip(normalised, local, rows):
            if complete:
                others = total - P
                diffused = (S @ (S @ others).T).T / (counts - 1)
            else:
                others = total[np.ix_(r, r)] - P
                shared = counts[np.ix_(r, r)] - 1
                others = np.divide(others, shared, out=np.zeros_like(others), where=shared > 0)
                diffused = (S @ (S @ others).T).T
            diffused[np.diag_indices_from(diffused)] += 1.0
            updated.append(_symmetrise(diffused))
        normalised = updated
        if complete:
            total = np.sum(normalised, axis=0)
        else:
            total = np.zeros((n_samples, n_samples))
            for P, r in zip(normalised, rows):
                total[np.ix_(r, r)] += P
    fused = total / counts if complete else np.divide(total, counts, out=np.zeros_like(total), where=counts > 0)
    fused = fused / fused.sum(axis=1, keepdims=True)
    fused = (fused + fused.T + np.eye(n_samples)) / 2.0
    return affinities, fused


def _embed_square(block, rows, n_samples):
    full = np.zeros((n_samples, n_samples))
    full[np.ix_(rows, rows)] = block
    return full


# ---------------------------------------------------------------- sparse path


def _knn_affinity(Z, rows, n_samples, n_neighbors, mu, metric, neighbors):
    """The kernel on each present row's ``K`` nearest neighbours (and itself), symmetric, global indices.

    Returns the kernel and each row's mean distance to its neighbours (for :meth:`transform`).
    """
    distance, index = _neighbour_distances(neighbors, Z, n_neighbors + 1, metric)
    mean_distance = _mean_neighbour_distance(distance)
    weights = _kernel(distance, mean_distance[:, None], mean_distance[index], mu)
    n_present = Z.shape[0]
    local = np.arange(n_present)
    off_diagonal = index != local[:, None]
    self_weight = _kernel(np.zeros(n_present), mean_distance, mean_distance, mu)
    i = np.concatenate([np.repeat(local, n_neighbors + 1)[off_diagonal.ravel()], local])
    j = np.concatenate([index[off_diagonal], local])
    w = np.concatenate([weights[off_diagonal], self_weight])
    W = sp.csr_matrix((w, (rows[i], rows[j])), shape=(n_samples, n_samples))
    return W.maximum(W.T).tocsr(), mean_distance


def _top_k_per_row(P, k, normalise=True):
    """(index, weight) arrays of shape (n, k): each row's ``k`` largest entries, renormalised.

    Rows with fewer entries get zero weights for the rest.
    """
    n = P.shape[0]
    lengths = np.diff(P.indptr)
    width = max(int(lengths.max()), k)
    values = np.full((n, width), -np.inf)
    columns = np.zeros((n, width), dtype=np.intp)
    position = np.arange(P.nnz) - np.repeat(P.indptr[:-1], lengths)
    row = np.repeat(np.arange(n), lengths)
    values[row, position] = P.data
    columns[row, position] = P.indices
    top = np.argpartition(-values, k - 1, axis=1)[:, :k]
    weight = np.take_along_axis(values, top, axis=1)
    index = np.take_along_axis(columns, top, axis=1)
    weight = np.where(np.isfinite(weight), weight, 0.0)
    if not normalise:
        return index, weight
    total = weight.sum(axis=1, keepdims=True)
    weight = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
    return index, weight


def _aligned(matrix, keys, n_samples):
    """The entries of ``matrix`` on the sorted pattern ``keys`` (row * n + column), 0 elsewhere."""
    coo = matrix.tocoo()
    found = coo.row.astype(np.int64) * n_samples + coo.col
    data = np.zeros(keys.size)
    data[np.searchsorted(keys, found)] = coo.data
    return data


def _fuse_sparse(standardised, mask, n_neighbors, mu, n_iterations, metric, neighbors):
    n_samples, n_views = mask.shape
    affinities, normalised, mean_distances = {}, [], {}
    for j, (name, Z) in enumerate(standardised.items()):
        rows = np.flatnonzero(mask[:, j])
        W, mean_distances[name] = _knn_affinity(Z, rows, n_samples, n_neighbors, mu, metric, neighbors[name])
        affinities[name] = W
        degree = np.asarray(W.sum(axis=1)).ravel()
        inverse = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
        normalised.append(_symmetrise(sp.diags(inverse) @ W).tocsr())
    # The diffusion lives on one fixed pattern: the union of the modalities' kNN graphs.
    pattern = sum(abs(P) for P in normalised) + sp.identity(n_samples, format="csr")
    pattern = pattern.tocsr()
    pattern.sort_indices()
    indptr, indices = pattern.indptr, pattern.indices
    entry_row = np.repeat(np.arange(n_samples), np.diff(indptr))
    keys = entry_row.astype(np.int64) * n_samples + indices
    transpose = np.argsort(indices.astype(np.int64) * n_samples + entry_row, kind="stable")
    diagonal = entry_row == indices
    shared = (mask[entry_row] & mask[indices]).sum(axis=1).astype(np.float64)
    data = [_aligned(P, keys, n_samples) for P in normalised]
    local = []
    for P in normalised:
        index, weight = _top_k_per_row(P, n_neighbors)
        S = sp.csr_matrix(
            (weight.ravel(), index.ravel(), np.arange(0, n_samples * n_neighbors + 1, n_neighbors)),
            shape=(n_samples, n_samples),
        )
        local.append((S, index.astype(np.int64), weight))
    views_present = [mask[:, j] for j in range(n_views)]
    total = np.sum(data, axis=0)
    for _ in range(n_iterations):
        updated = []
        for P, (S, index, weight), present in zip(data, local, views_present):
            others_shared = shared - (present[entry_row] & present[indices])
            others = np.divide(total - P, others_shared, out=np.zeros_like(P), where=others_shared > 0)
            diffused = _diffuse_on_pattern(others, indptr, indices, entry_row, transpose, S, index, weight)
            diffused[diagonal & present[entry_row]] += 1.0
            updated.append(diffused)
        data = updated
        total = np.sum(data, axis=0)
    fused = np.divide(total, shared, out=np.zeros_like(total), where=shared > 0)
    row_sum = np.bincount(entry_row, weights=fused, minlength=n_samples)
    fused = fused / row_sum[entry_row]
    fused = (fused + fused[transpose] + diagonal) / 2.0
    fused = sp.csr_matrix((fused, indices.copy(), indptr.copy()), shape=(n_samples, n_samples))
    return affinities, fused, mean_distances


def _diffuse_on_pattern(others, indptr, indices, entry_row, transpose, S, index, weight):
    """Entries of ``S X S'`` on the (symmetric) pattern, with ``S`` also given as per-row
    (index, weight) arrays.

    ``(S X S')_ij = sum_q S_j,q (S X)_i,index[j, q]``: ``S X`` is formed in dense
    row blocks, so memory stays ``O(block * n)``, and only the pattern's entries
    on and above the diagonal are computed; ``S X S'`` is symmetric (``X`` is),
    so the others are their mirror images.
    """
    n_samples = len(indptr) - 1
    X = sp.csr_matrix((others, indices, indptr), shape=(n_samples, n_samples))
    out = np.zeros_like(others)
    block = max(1, min(n_samples, _BLOCK_FLOATS // max(n_samples, 1)))
    for start in range(0, n_samples, block):
        stop = min(start + block, n_samples)
        product = (S[start:stop] @ X).toarray().ravel()
        lo, hi = indptr[start], indptr[stop]
        upper = lo + np.flatnonzero(indices[lo:hi] >= entry_row[lo:hi])
        cols = indices[upper]
        positions = index[cols]  # int64: row block offsets can pass 2**31 at 20k+ rows
        positions += ((entry_row[upper] - start) * n_samples)[:, None]
        out[upper] = np.einsum("ij,ij->i", np.take(product, positions), weight[cols])
    lower = indices < entry_row
    out[lower] = out[transpose[lower]]
    return out


# ---------------------------------------------------------------- embedding


def _spectral_embedding(graph, n_components, random_state):
    """Random-walk eigenvectors ``psi`` (``D^-1 W psi = lambda psi``) after the trivial one."""
    n_samples = graph.shape[0]
    degree = np.asarray(graph.sum(axis=1)).ravel()
    inv_sqrt = 1.0 / np.sqrt(degree)
    k = n_components + 1
    if sp.issparse(graph) and k >= n_samples:
        # ARPACK finds at most n - 1 eigenpairs: all n are wanted, of a graph this small
        graph = graph.toarray()
    if sp.issparse(graph):
        normalised = sp.diags(inv_sqrt) @ graph @ sp.diags(inv_sqrt)
        v0 = check_random_state(random_state).uniform(-1, 1, n_samples)
        # eigenvalues of A + I lie in [0, 2]: the largest in magnitude are A's largest
        values, vectors = eigsh(normalised + sp.identity(n_samples), k=k, which="LM", v0=v0)
        values -= 1.0
    else:
        normalised = graph * inv_sqrt[:, None] * inv_sqrt[None, :]
        values, vectors = linalg.eigh(normalised, subset_by_index=[n_samples - k, n_samples - 1])
    order = np.argsort(values)[::-1][1:]
    values, vectors = values[order], vectors[:, order]
    psi = vectors * np.sqrt(n_samples * degree.mean() / degree)[:, None]
    # LAPACK/ARPACK choose signs arbitrarily: make each column's largest entry positive
    largest = psi[np.argmax(np.abs(psi), axis=0), np.arange(psi.shape[1])]
    psi *= np.where(largest < 0, -1.0, 1.0)
    return psi, values, degree
