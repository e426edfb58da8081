"""Hand-made tables with every column kind, for the skfusion.tables tests."""

import numpy as np
import pandas as pd

from skfusion.tables import TextEmbedding

VOCABULARY = (
    "the a an and not very is was it this tea coffee biscuits cake chips sauce great good "
    "fresh tasty bad stale dry bitter sweet salty love hate buy again never price cheap "
    "box arrived quickly slowly broken fine"
).split()


def reviews(n_rows, rng, *, min_words=8, max_words=14):
    """Distinct free texts of ``min_words`` to ``max_words`` words from the tiny vocabulary."""
    return [
        " ".join(rng.choice(VOCABULARY, size=rng.integers(min_words, max_words + 1)))
        for _ in range(n_rows)
    ]


def every_kind_table(n_rows=40, seed=0):
    """A table with a column of each kind inference tells apart (and what it should say)."""
    rng = np.random.default_rng(seed)
    review = reviews(n_rows, rng)
    review[3], review[7], review[11] = "", "   ", None  # empty texts: missing there
    price = rng.normal(10, 2, n_rows)
    price[5] = np.nan
    table = pd.DataFrame(
        {
            "product_id": [f"p{i:03d}" for i in range(n_rows)],
            "row": np.arange(100, 100 + n_rows),
            "price": price,
            "review": review,
            "stars": rng.integers(1, 6, n_rows),
            "in_stock": rng.random(n_rows) > 0.5,
            "units": pd.array(rng.integers(0, 9, n_rows), dtype="Int64"),
            "gift": pd.array(rng.choice([True, False, None], n_rows), dtype="boolean"),
            "colour": pd.array(rng.choice(["red", "blue", None], n_rows), dtype="string"),
            "category": pd.Categorical(rng.choice(["tea", "coffee", "cake"], n_rows)),
            "shop": rng.choice(["north", "south", "?", "N/A"], n_rows),
            "sold_at": pd.date_range("2024-01-01", periods=n_rows, freq="D"),
            "sold_at_text": [f"2024-02-{1 + i % 28:02d}" for i in range(n_rows)],
            "delivery": pd.to_timedelta(rng.integers(1, 72, n_rows), unit="h"),
            "answer": rng.choice(
                ["I would buy this product again without any doubt at all",
                 "I would never buy this product again under any circumstances"],
                n_rows,
            ),
            "nothing": np.full(n_rows, np.nan),
            "blank": rng.choice(["", "  ", "N/A", None], n_rows),
            "constant": np.ones(n_rows),
            **{f"emb_{i}": rng.normal(size=n_rows) for i in range(10)},
            "x1": rng.normal(size=n_rows),
            "x2": rng.normal(size=n_rows),
        }
    )
    table.loc[rng.random(n_rows) < 0.2, "units"] = pd.NA
    return table


EVERY_KIND_MODALITIES = {
    "tabular": [
        "price", "stars", "in_stock", "units", "gift", "colour", "category", "shop",
        "sold_at", "sold_at_text", "delivery", "answer", "x1", "x2",
    ],
    "review": ["review"],
    "emb": [f"emb_{i}" for i in range(10)],
}  # fmt: skip
EVERY_KIND_EXCLUDED = {
    "product_id": "identifier",
    "row": "identifier: consecutive integers 100..139",
    "nothing": "empty",
    "blank": "empty",
    "constant": "constant",
}


class HashEmbedding(TextEmbedding):
    """TextEmbedding whose 'model' is the text's first 16 bytes: the cache's behaviour
    under concurrency, without loading torch in every worker process."""

    def _encode(self, texts):
        digests = [np.frombuffer(text.encode().ljust(16, b"-")[:16], dtype=np.uint8) for text in texts]
        return np.asarray(digests, dtype=np.float32).reshape(len(texts), 16)


def embed_in_worker(model, memory, texts):
    """What a joblib worker runs (here, not in a test module, so that workers import
    nothing heavy)."""
    return HashEmbedding(model, device="cpu", memory=memory).fit_transform(texts)
