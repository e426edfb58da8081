"""Sentence embeddings stored per text on disk, so that no text is embedded twice.

Cross-validation folds and grid-search candidates see different subsets of
the rows, so a cache keyed by a whole column (joblib.Memory's unit, a
function call) would miss; the unit here is one text. Each text's key is a
keyed BLAKE2b hash of the text, keyed by the model's identity and settings
(a digest of the model folder's files, or the hub name). A store is one
folder per model identity under the memory location::

    <location>/skfusion_text_embeddings/<model digest>/part-<uuid>.npz

Each ``part`` holds the keys (16 bytes each) and the float32 vectors of the
texts one call embedded. A writer writes a temporary file and renames it
into place (``os.replace`` is atomic), so concurrent writers (joblib
workers, several processes) never corrupt a part and a reader never sees a
half-written one; each process reads every part once into memory and then
only the parts that appeared since. When more than :data:`MAX_PARTS` parts
pile up, the writer merges them into one and deletes those it merged (a
reader that misses a part deleted under it embeds those texts again: a cost,
never a wrong vector). A part that cannot be read (corrupted on disk,
truncated by hand) is renamed ``*.corrupt`` with a warning and its texts are
embedded again.
"""

import hashlib
import os
import threading
import uuid
import warnings
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["EmbeddingStore", "get_store", "text_keys", "forget_stores"]

#: Parts in a store beyond which a writer merges them into one.
MAX_PARTS = 32
_KEY_BYTES = 16
_FOLDER = "skfusion_text_embeddings"

_registry_lock = threading.Lock()
_STORES = {}  # store folder -> EmbeddingStore of this process


def text_keys(identity, texts):
    """One 16-byte key per text: BLAKE2b of the text keyed by the model identity (<= 64 bytes)."""
    return [
        hashlib.blake2b(
            text.encode("utf-8", "surrogatepass"), digest_size=_KEY_BYTES, key=identity
        ).digest()
        for text in texts
    ]


def get_store(location, identity):
    """The process's store for ``identity`` under ``location`` (read from disk once)."""
    folder = Path(location) / _FOLDER / identity.hex()[:32]
    with _registry_lock:
        store = _STORES.get(folder)
        if store is None:
            store = _STORES[folder] = EmbeddingStore(folder)
    return store


def forget_stores():
    """Drop what this process read from disk (the next lookups read the parts again)."""
    with _registry_lock:
        _STORES.clear()


class EmbeddingStore:
    """The vectors of one model's texts: on disk in parts, in memory once read."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self._vectors = {}  # key -> float32 vector (a row of a part's array)
        self._read = set()  # names of the parts read into _vectors
        self.dimension = None  # width of the vectors, once one is known
        self._lock = threading.Lock()

    def _parts(self):
        try:
            return sorted(p.name for p in self.folder.glob("part-*.npz"))
        except OSError:
            return []

    def _read_part(self, name):
        path = self.folder / name
        try:
            # our own handle: np.load leaves its file open when the archive is broken
            with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as part:
                keys, vectors = part["keys"], part["vectors"]
            if (
                keys.ndim != 2
                or keys.shape[1] != _KEY_BYTES
                or vectors.ndim != 2
                or keys.shape[0] != vectors.shape[0]
            ):
                raise ValueError("keys and vectors do not match")
            if self.dimension is not None and vectors.shape[1] != self.dimension:
                raise ValueError(f"vectors of width {vectors.shape[1]}, not {self.dimension}")
        except FileNotFoundError:
            return  # merged into another part by a concurrent writer
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            self._quarantine(path, exc)
            return
        for key, vector in zip(keys, vectors):
            self._vectors[key.tobytes()] = vector
        self._read.add(name)
        self.dimension = vectors.shape[1]

    def _quarantine(self, path, exc):
        warnings.warn(
            f"Could not read the embedding cache file {path} ({exc}); it is renamed "
            f"'{path.name}.corrupt' and its texts will be embedded again.",
            UserWarning,
            stacklevel=4,
        )
        try:
            os.replace(path, path.with_name(path.name + ".corrupt"))
        except OSError:
            pass

    def refresh(self):
        """Read the parts written since the last look (by any process)."""
        for name in self._parts():
            if name not in self._read:
                self._read_part(name)

    def lookup(self, keys):
        """The stored vector of each key (None where there is none)."""
        with self._lock:
            self.refresh()
            return [self._vectors.get(key) for key in keys]

    def add(self, keys, vectors):
        """Store ``vectors`` (float32, one row per key) as a new part; merge parts when many."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = self._write(keys, vectors)
            for key, vector in zip(keys, vectors):
                self._vectors[key] = vector
            self._read.add(name)
            self.dimension = vectors.shape[1]
            if len(self._parts()) > MAX_PARTS:
                self._merge()

    def _write(self, keys, vectors):
        token = uuid.uuid4().hex
        temporary = self.folder / f".tmp-{token}.npz"
        with open(temporary, "wb") as file:
            np.savez(
                file,
                keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, _KEY_BYTES),
                vectors=vectors,
            )
        name = f"part-{token}.npz"
        os.replace(temporary, self.folder / name)
        return name

    def _merge(self):
        self.refresh()
        merged = [name for name in self._parts() if name in self._read]
        if not self._vectors:
            return
        keys = list(self._vectors)
        name = self._write(keys, np.stack([self._vectors[key] for key in keys]))
        for old in merged:
            try:
                os.remove(self.folder / old)
            except OSError:
                pass  # already merged by another writer
        self._read = (self._read - set(merged)) | {name}
