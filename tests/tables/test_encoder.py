"""TableEncoder: each block against scikit-learn's and skrub's own encoders, missing rows."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from _tables import every_kind_table, reviews
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfusion._modalities import presence_mask
from skfusion.tables import ModalityPlan, TableEncoder, infer_modalities
from skfusion.tables._encoder import EmbeddingScaler

skrub = pytest.importorskip("skrub")


def _presence(Xt, encoder):
    spec = {name: np.asarray(columns) for name, columns in encoder.modalities_out_.items()}
    return dict(zip(spec, presence_mask(Xt, spec).T))


def _block(Xt, encoder, name):
    block = Xt[:, encoder.modalities_out_[name]]
    return block.toarray() if sp.issparse(block) else block


@pytest.fixture(scope="module")
def table():
    table = every_kind_table(n_rows=60)
    # a row where every tabular cell is empty: the tabular modality is missing there
    tabular = infer_modalities(table).modalities["tabular"]
    table = table.astype({"in_stock": "boolean", "stars": "Int64"})
    for column in tabular:
        table.loc[9, column] = None
    table.loc[9, "shop"] = "?"  # a null string counts as empty
    # and a row without its embedding
    table.loc[13, [f"emb_{i}" for i in range(10)]] = np.nan
    return table


def test_the_tfidf_block_is_tfidfvectorizer_on_the_present_texts(table):
    encoder = TableEncoder()
    Xt = encoder.fit_transform(table)
    assert sp.issparse(Xt) and Xt.format == "csr"
    present = table["review"].map(lambda t: isinstance(t, str) and bool(t.strip())).to_numpy()
    expected = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2).fit_transform(
        table["review"][present]
    )
    block = _block(Xt, encoder, "review")
    assert_allclose(block[present], expected.toarray())
    assert np.isnan(block[~present]).all()
    assert_array_equal(_presence(Xt, encoder)["review"], present)
    # transform gives what fit_transform gave
    assert_allclose(encoder.transform(table).toarray(), Xt.toarray())


def test_the_tabular_block_is_skrubs_vectorizer_imputed_and_scaled_on_the_present_rows(table):
    encoder = TableEncoder().fit(table)
    Xt = encoder.transform(table)
    columns = encoder.plan_.modalities["tabular"]
    present = np.ones(len(table), dtype=bool)
    present[9] = False
    expected = make_pipeline(
        skrub.TableVectorizer(
            high_cardinality=skrub.StringEncoder(random_state=0),
            datetime=skrub.DatetimeEncoder(periodic_encoding="spline"),
        ),
        SimpleImputer(add_indicator=True, keep_empty_features=True),
        skrub.SquashingScaler(max_absolute_value=5),
    ).fit_transform(table.loc[present, columns])
    block = _block(Xt, encoder, "tabular")
    assert_allclose(block[present], expected, rtol=1e-6)
    assert np.isnan(block[9]).all()
    assert_array_equal(_presence(Xt, encoder)["tabular"], present)
    # scattered empty cells of present rows are imputed, with an indicator
    assert not np.isnan(block[present]).any()
    names = encoder.get_feature_names_out()[encoder.modalities_out_["tabular"]]
    assert "tabular__missingindicator_price" in names


def test_the_embedding_block_is_imputed_standardised_and_a_row_without_it_is_missing(table):
    encoder = TableEncoder(text_representation="tfidf").fit(table)
    Xt = encoder.transform(table)
    columns = [f"emb_{i}" for i in range(10)]
    present = np.ones(len(table), dtype=bool)
    present[13] = False
    imputed = SimpleImputer().fit_transform(table.loc[present, columns])
    expected = StandardScaler().fit_transform(imputed) / np.sqrt(10)
    block = _block(Xt, encoder, "emb")
    assert_allclose(block[present], expected)
    # unit total variance: each of the 10 columns has variance 1/10
    assert_allclose(block[present].var(axis=0), 0.1)
    assert np.isnan(block[13]).all()
    assert list(encoder.get_feature_names_out()[encoder.modalities_out_["emb"]]) == [
        f"emb__emb_{i}" for i in range(10)
    ]


def test_the_embedding_block_does_not_depend_on_the_unit_of_a_column(table):
    # numbered numeric columns (sensor_0 ... sensor_9) are inferred as an
    # embedding: a column in other units must not change the encoding
    encoder = TableEncoder().fit(table)
    rescaled = table.assign(emb_0=table["emb_0"] / 1000, emb_1=table["emb_1"] * 1e4 + 3)
    other = TableEncoder().fit(rescaled)
    assert_allclose(
        _block(other.transform(rescaled), other, "emb"),
        _block(encoder.transform(table), encoder, "emb"),
        atol=1e-9,
    )
    # imputed (mean 2), standardised (std sqrt(2/3)), divided by sqrt(2) (the block's
    # width); a column constant in training is 0 (centred, not divided by 0)
    scaled = EmbeddingScaler().fit_transform(np.array([[1.0, 5.0], [3.0, 5.0], [np.nan, 5.0]]))
    assert_allclose(scaled, np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]) * np.sqrt(1.5 / 2))


def test_feature_names_are_modality_then_feature_and_modalities_out_cover_the_output(table):
    encoder = TableEncoder().fit(table)
    names = encoder.get_feature_names_out()
    positions = np.concatenate([np.asarray(c) for c in encoder.modalities_out_.values()])
    assert_array_equal(positions, np.arange(names.size))
    for modality, columns in encoder.modalities_out_.items():
        assert all(name.startswith(f"{modality}__") for name in names[columns])
    assert list(encoder.modalities_out_) == ["tabular", "review", "emb"]


def test_dense_output_follows_set_output_pandas(table):
    plan = ModalityPlan(
        {"tabular": ["price", "shop", "sold_at"], "emb": [f"emb_{i}" for i in range(10)]},
        {"tabular": "tabular", "emb": "embedding"},
    )
    encoder = TableEncoder(plan).set_output(transform="pandas")
    frame = encoder.fit_transform(table)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(encoder.get_feature_names_out())
    assert frame.filter(like="emb__").iloc[13].isna().all()
    dense = clone(encoder).set_output(transform="default").fit_transform(table)
    assert isinstance(dense, np.ndarray)
    assert_allclose(frame.to_numpy(), dense)


def test_a_modality_of_one_column_works():
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"price": rng.normal(size=20), "shop": rng.choice(["a", "b", "c"], 20)})
    table.loc[3, "price"] = np.nan
    encoder = TableEncoder({"price": ["price"], "shop": ["shop"]})
    Xt = encoder.fit_transform(table)
    assert encoder.modalities_out_ == {"price": [0], "shop": [1, 2, 3]}
    assert np.isnan(Xt[3, 0]) and not np.isnan(Xt[3, 1:]).any()
    expected = skrub.SquashingScaler(max_absolute_value=5).fit_transform(
        table[["price"]].dropna().astype(np.float32)
    )
    assert_allclose(Xt[~np.isnan(Xt[:, 0]), 0], expected.ravel(), rtol=1e-6)


def test_a_dict_of_modalities_reads_only_its_columns_and_finds_their_kinds(table):
    encoder = TableEncoder({"words": "review", "money": ["price", "units"]})
    unreadable = table.assign(tags=[["tea", "cake"]] * len(table))  # never read
    encoder.fit(unreadable)
    assert encoder.plan_.kinds == {"words": "text", "money": "tabular"}
    assert encoder.transform(unreadable).shape[0] == len(table)
    # positions work too
    by_position = TableEncoder({"words": [3], "money": [2, 6]}).fit(table)
    assert by_position.plan_ == encoder.plan_


def test_custom_text_and_tabular_encoders_are_cloned_and_used(table):
    counts = CountVectorizer(min_df=3)
    scaler = make_pipeline(skrub.TableVectorizer(), SimpleImputer(), StandardScaler())
    encoder = TableEncoder(text_vectorizer=counts, tabular_transformer=scaler).fit(table)
    assert encoder.encoders_["review"] is not counts and not hasattr(counts, "vocabulary_")
    present = table["review"].map(lambda t: isinstance(t, str) and bool(t.strip())).to_numpy()
    expected = CountVectorizer(min_df=3).fit_transform(table["review"][present]).toarray()
    assert_allclose(_block(encoder.transform(table), encoder, "review")[present], expected)


def test_a_modality_missing_in_every_row_at_transform_time_is_all_nan(table):
    encoder = TableEncoder().fit(table)
    blank = table.assign(review="")
    Xt = encoder.transform(blank)
    assert sp.issparse(Xt)  # the output type does not depend on the rows
    assert np.isnan(_block(Xt, encoder, "review")).all()


def test_unseen_categories_at_transform_time_are_ignored(table):
    encoder = TableEncoder().fit(table)
    other = table.assign(category=pd.Categorical(["biscuits"] * len(table)))
    with pytest.warns(UserWarning, match="unknown categories"):
        Xt = encoder.transform(other)
    names = encoder.get_feature_names_out()
    one_hot = [i for i, name in enumerate(names) if name.startswith("tabular__category_")]
    assert len(one_hot) == 3 and (Xt[:, one_hot].toarray() == 0).all()
    assert _presence(Xt, encoder)["tabular"].all()  # row 9 now has a category


def test_an_array_is_one_tabular_modality_of_columns_x0_x1():
    X = np.random.default_rng(0).normal(size=(20, 3))
    encoder = TableEncoder().fit(X)
    assert encoder.plan_.modalities == {"tabular": ["x0", "x1", "x2"]}
    assert not hasattr(encoder, "feature_names_in_") and encoder.n_features_in_ == 3
    assert encoder.transform(X).shape == (20, 3)


def test_text_representation_both_gives_two_modalities(table, tiny_model, tmp_path):
    from sentence_transformers import SentenceTransformer

    encoder = TableEncoder(
        text_representation="both", embedding_model=tiny_model, device="cpu", memory=tmp_path
    ).fit(table)
    Xt = encoder.transform(table)
    assert list(encoder.modalities_out_) == ["tabular", "review_tfidf", "review_embedding", "emb"]
    present = table["review"].map(lambda t: isinstance(t, str) and bool(t.strip())).to_numpy()
    expected = SentenceTransformer(str(tiny_model), device="cpu").encode(
        table["review"][present].tolist()
    )
    block = _block(Xt, encoder, "review_embedding")
    assert_allclose(block[present], expected, rtol=1e-5, atol=1e-6)
    assert np.isnan(block[~present]).all()
    names = encoder.get_feature_names_out()[encoder.modalities_out_["review_embedding"]]
    assert names[0] == "review_embedding__embedding0" and names.size == 16
    only = TableEncoder(
        text_representation="embedding", embedding_model=tiny_model, device="cpu", memory=tmp_path
    ).fit(table)
    assert list(only.modalities_out_) == ["tabular", "review", "emb"]
    assert isinstance(only.transform(table), np.ndarray)


@pytest.mark.parametrize(
    "params, X_change, error, match",
    [
        (dict(text=["note"]), dict(note=""), ValueError, "Text column 'note' is empty in every row"),
        (dict(modalities={"note": ["note"]}), dict(note=" "), ValueError, "Modality 'note' is empty in every row"),
        (dict(modalities={"t": ["tags"]}), dict(tags=[["x"]]), TypeError, "Column 'tags' holds a value of type list"),
        (dict(modalities={"t": ["missing"]}), {}, ValueError, r"unknown column name\(s\) \['missing'\]"),
        (dict(modalities=ModalityPlan({"t": ["gone"]}, {"t": "tabular"})), {}, ValueError, "The plan reads column"),
        (dict(modalities=ModalityPlan({"t": ["price"]}, {"t": "tabular"}), text=["review"]), {}, ValueError, "apply to modalities='auto'"),
        (dict(modalities={"t": ["price"]}, groups={"g": ["shop"]}), {}, ValueError, "apply to modalities='auto'"),
        (dict(text_representation="words"), {}, ValueError, "text_representation"),
        (dict(modalities="guess"), {}, ValueError, "modalities"),
        (dict(modalities={"rev": ["review"], "rev_tfidf": ["price"]}, text_representation="both"), {}, ValueError, "appears twice"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_column_or_parameter(table, params, X_change, error, match):
    X = table.assign(**{k: [v] * len(table) for k, v in X_change.items()})
    with pytest.raises(error, match=match):
        TableEncoder(**params).fit(X)


def test_a_text_vectorizer_that_fails_says_which_modality():
    table = pd.DataFrame({"review": reviews(25, np.random.default_rng(0))})
    encoder = TableEncoder(text_vectorizer=TfidfVectorizer(min_df=30))
    with pytest.raises(ValueError, match="Fitting the tfidf encoder of modality 'review' failed"):
        encoder.fit(table)


def test_transform_checks_the_columns_against_fit(table):
    encoder = TableEncoder().fit(table)
    with pytest.raises(ValueError, match="feature names(.|\n)*Modality 'tabular' reads 'price'"):
        encoder.transform(table.rename(columns={"price": "cost"}))
    # an array has no names to read the columns by
    with pytest.raises(ValueError, match=r"reads its columns by name \('product_id', 'row', "
                       r"'price', 'review', 'stars', \.\.\. \(30 in all\)\); X \(ndarray\) has "
                       "no column names. Pass a DataFrame"):
        encoder.transform(table.to_numpy())


def test_numbers_written_as_text_are_encoded_as_those_numbers():
    rng = np.random.default_rng(0)
    price = rng.uniform(100, 5000, 40).round(2)
    written = pd.DataFrame({"price": [f"${p:,.2f}" for p in price], "shop": rng.choice(["a", "b"], 40)})
    encoder = TableEncoder().fit(written)
    assert encoder.plan_.number_formats == {"price": "$1,234.5"}
    plain = TableEncoder().fit(written.assign(price=price))
    assert_allclose(encoder.transform(written), plain.transform(written.assign(price=price)))
    assert list(encoder.get_feature_names_out()) == ["tabular__price", "tabular__shop_b"]
    # a value that does not fit the format is an empty cell (imputed), with a warning
    odd = written.head(3).assign(price=["$1,000", "about $5", "N/A"])
    with pytest.warns(UserWarning, match=r"Column 'price': 1 value\(s\) do not read .* 'about \$5'"):
        Xt = encoder.transform(odd)
    assert_allclose(Xt[1:, 0], encoder.transform(written.head(1).assign(price=np.nan))[[0, 0], 0])


def test_date_strings_skrub_would_not_parse_are_encoded_as_dates():
    """skrub reads date strings only when pandas guesses one format for its whole
    sample, without UTC: such columns were encoded as high-cardinality strings."""
    pytest.importorskip("skrub")
    days = pd.date_range("2020-03-01", periods=40, freq="3D")
    stamps = pd.date_range("2021-03-10", periods=40, freq="D", tz="Europe/Paris")
    table = pd.DataFrame({
        "day": days.strftime("%d %b %Y"),
        "ts": stamps.strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(r"(\d\d)$", r":\1", regex=True),
        "iso": days.strftime("%Y-%m-%d"),  # skrub reads these itself
    })  # fmt: skip
    encoder = TableEncoder().fit(table)
    assert encoder._date_readings_ == {"day": ("%d %b %Y", False), "ts": ("ISO8601", True)}
    names = encoder.get_feature_names_out().tolist()
    assert {"tabular__day_year", "tabular__ts_year", "tabular__iso_year"} <= set(names)
    Xt = np.asarray(encoder.transform(table.iloc[:5]))
    assert_allclose(Xt, np.asarray(encoder.transform(table))[:5])


def test_a_text_column_with_no_word_in_two_texts_keeps_every_term_with_a_warning():
    """The default TF-IDF (min_df=2) kept no term and the fit failed asking for a lower
    min_df, which a user of the defaults (the command line) cannot set."""
    table = pd.DataFrame({"note": [" ".join(f"w{i}_{k}" for k in range(9)) for i in range(12)],
                          "x": np.arange(12.0)})  # fmt: skip
    with pytest.warns(UserWarning, match="no word is in two of its texts"):
        encoder = TableEncoder(text=["note"]).fit(table)
    assert len(encoder.modalities_out_["note"]) == len(encoder.encoders_["note"].vocabulary_) > 0
    # a vectorizer given by the user fails as it would alone
    with pytest.raises(ValueError, match="no terms remain"):
        TableEncoder(text=["note"], text_vectorizer=TfidfVectorizer(min_df=2)).fit(table)


def test_a_column_of_numbers_at_fit_that_comes_back_as_text_is_read_or_refused():
    # "0,346" (a CSV read without decimal=',') went to the encoder as an unknown
    # string, i.e. an empty cell: accuracy fell from 0.99 to 0.67 without a word
    from sklearn.linear_model import LogisticRegression

    from skfusion.tables import TableFusion

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=100), "b": rng.normal(size=100),
                          "note": [f"w{i % 5} x{i % 3}" for i in range(100)]})  # fmt: skip
    y = (frame["a"] > 0).astype(int)
    model = TableFusion(LogisticRegression()).fit(frame, y)
    as_text = frame.assign(a=frame["a"].map(lambda v: f"{v:.17g}"))
    as_text.loc[3, "a"] = ""  # an empty cell stays empty
    expected = model.predict_proba(frame.assign(a=frame["a"].mask(frame.index == 3)))
    assert_allclose(model.predict_proba(as_text), expected)
    decimal_commas = frame.assign(a=frame["a"].map(lambda v: f"{v:.3f}".replace(".", ",")))
    with pytest.raises(ValueError, match=r"Column 'a' held numbers in fit; here 100 cell\(s\) are not numbers \(e.g. '0,126'\)"):
        model.predict(decimal_commas)
