"""infer_modalities and ModalityPlan: which column goes where, overrides, the report."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from _tables import EVERY_KIND_EXCLUDED, EVERY_KIND_MODALITIES, every_kind_table, reviews

from skfusion.tables import ModalityPlan, infer_modalities
from skfusion.tables._columns import NULL_STRINGS, empty_cells


def test_every_column_kind_goes_to_its_modality_or_is_excluded_with_the_reason():
    plan = infer_modalities(every_kind_table())
    assert plan.modalities == EVERY_KIND_MODALITIES
    assert plan.kinds == {"tabular": "tabular", "review": "text", "emb": "embedding"}
    assert plan.excluded == EVERY_KIND_EXCLUDED


def test_a_string_column_is_text_from_eight_words_and_one_tenth_distinct():
    rng = np.random.default_rng(0)
    n = 50
    table = pd.DataFrame(
        {
            "eight_words": reviews(n, rng, min_words=8, max_words=8),
            "seven_words": reviews(n, rng, min_words=7, max_words=7),
            # 4 distinct long answers in 50 rows (0.08): a category, not text
            "survey": np.tile(reviews(4, rng, min_words=12, max_words=12), 13)[:n],
            # 6 distinct in 50 rows (0.12): text
            "notes": np.repeat(reviews(6, rng, min_words=12, max_words=12), 9)[:n],
        }
    )
    plan = infer_modalities(table)
    assert plan.kinds == {"eight_words": "text", "tabular": "tabular", "notes": "text"}
    assert plan.modalities["tabular"] == ["seven_words", "survey"]
    # the thresholds are parameters
    plan = infer_modalities(table, text_min_words=7, text_min_distinct=0.05)
    assert plan.kinds == {n: "text" for n in table.columns}


def test_empty_cells_are_missing_values_blank_strings_and_skrubs_null_strings():
    column = pd.Series(["tea", "", "  ", "?", "N/A", None, np.nan, "null", "fine"])
    assert empty_cells(column).tolist() == [False] + [True] * 7 + [False]
    skrub_null_strings = pytest.importorskip("skrub._clean_null_strings").STR_NA_VALUES
    assert NULL_STRINGS == set(skrub_null_strings)


def test_identifiers_are_unique_strings_or_consecutive_or_id_named_integers():
    rng = np.random.default_rng(0)
    n = 30
    table = pd.DataFrame(
        {
            "code": [f"c{i}" for i in range(n)],
            "user_id": rng.permutation(10_000)[:n],
            "serial": np.arange(n)[::-1] + 7,
            "score": rng.permutation(1000)[:n],  # unique integers, but a measurement
            "weight": rng.normal(size=n),  # unique floats: a measurement
        }
    )
    plan = infer_modalities(table)
    assert plan.excluded == {"code": "identifier", "user_id": "identifier", "serial": "identifier"}
    assert plan.modalities == {"tabular": ["score", "weight"]}
    # in few rows any column may be unique: nothing is called an identifier
    assert infer_modalities(table.head(10)).excluded == {}


def test_numbered_numeric_columns_form_an_embedding_from_eight_columns():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(20, 15)), columns=[f"pc{i}" for i in range(15)])
    table["v_0"], table["v_1"] = rng.normal(size=20), rng.normal(size=20)
    table["age"] = rng.integers(20, 60, 20).astype(float)
    plan = infer_modalities(table)
    assert plan.modalities == {"pc": [f"pc{i}" for i in range(15)], "tabular": ["v_0", "v_1", "age"]}
    assert plan.kinds["pc"] == "embedding"
    assert infer_modalities(table, embedding_min_columns=16).modalities == {
        "tabular": list(table.columns)
    }


def test_overrides_text_groups_and_exclude():
    table = every_kind_table()
    plan = infer_modalities(
        table,
        text=["shop"],
        groups={"money": ["price", "units"], "vector": ["emb_*"], "words": ["review"]},
        exclude=["x2", "row"],
    )
    assert plan.modalities["money"] == ["price", "units"]
    assert plan.modalities["vector"] == [f"emb_{i}" for i in range(10)]
    assert plan.kinds == {
        "money": "tabular",
        "vector": "embedding",
        "words": "text",
        "shop": "text",
        "tabular": "tabular",
    }
    assert "price" not in plan.modalities["tabular"] and "x2" not in plan.columns
    assert plan.excluded["x2"] == plan.excluded["row"] == "excluded by the user"
    assert plan.excluded["product_id"] == "identifier"  # the rest is still inferred


def test_modality_names_from_columns_avoid_double_underscores_and_clashes():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {"the__review": reviews(30, rng), "tabular": reviews(30, rng), "n": rng.normal(size=30)}
    )
    plan = infer_modalities(table)
    assert plan.modalities == {
        "the_review": ["the__review"],
        "tabular_2": ["tabular"],
        "tabular": ["n"],
    }


def test_the_report_is_a_table_with_the_excluded_columns_and_why():
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(25)],
            "review": reviews(25, rng),
            **{f"emb_{i}": rng.normal(size=25) for i in range(8)},
            "price": rng.normal(size=25),
            "shop": rng.choice(["a", "b"], 25),
        }
    )
    assert str(infer_modalities(table)).splitlines() == [
        "modality  kind       columns                        encoding",
        "--------  ---------  -----------------------------  --------------------------------------------------",
        "review    text       review                         TF-IDF word n-grams and/or sentence embedding",
        "emb       embedding  emb_0, emb_1, ... (8 columns)  empty cells imputed, columns standardised",
        "tabular   tabular    price, shop                    skrub TableVectorizer, empty cells imputed, scaled",
        "excluded: id (identifier)",
    ]
    assert repr(infer_modalities(table)) == (
        "ModalityPlan(review: text, 1 column, emb: embedding, 8 columns, "
        "tabular: tabular, 2 columns; 1 excluded)"
    )


def test_a_plan_is_immutable_comparable_and_round_trips_through_a_dict():
    plan = infer_modalities(every_kind_table())
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan._modalities = ()
    spec = plan.modalities
    spec["tabular"].append("product_id")
    assert "product_id" not in plan.modalities["tabular"]
    assert ModalityPlan(**plan.to_dict()) == plan
    assert hash(ModalityPlan(**plan.to_dict())) == hash(plan)
    assert infer_modalities(every_kind_table(), exclude=["x1"]) != plan


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(modalities={"a": ["x"], "b": ["x"]}, kinds={"a": "tabular", "b": "tabular"}),
         ValueError, "Column 'x' is in modalities 'a' and 'b'"),
        (dict(modalities={"a": ["x"]}, kinds={"a": "picture"}), ValueError, "kind 'picture'"),
        (dict(modalities={"a": ["x", "y"]}, kinds={"a": "text"}), ValueError, "one column"),
        (dict(modalities={"a": ["x"]}, kinds={}), ValueError, "kind of each modality"),
        (dict(modalities={"a__b": ["x"]}, kinds={"a__b": "tabular"}), ValueError, "'__'"),
        (dict(modalities={"a": [1]}, kinds={"a": "tabular"}), TypeError, "named by strings"),
        (dict(modalities={"a": ["x"]}, kinds={"a": "tabular"}, excluded={"x": "id"}),
         ValueError, "both in a modality and excluded"),
    ],
)  # fmt: skip
def test_a_malformed_plan_is_refused_with_a_clear_error(kwargs, error, match):
    with pytest.raises(error, match=match):
        ModalityPlan(**kwargs)


def _small_table():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"review": reviews(30, rng), "price": rng.normal(size=30)})


@pytest.mark.parametrize(
    "X, kwargs, error, match",
    [
        (np.zeros((3, 2)), {}, TypeError, "needs a pandas or polars DataFrame"),
        (pd.DataFrame({0: [1.0, 2.0]}), {}, TypeError, "Column names must be strings; got 0"),
        (_small_table(), dict(text=["comment"]), ValueError, r"`text` names column\(s\) \['comment'\]"),
        (_small_table(), dict(exclude=["nope"]), ValueError, "`exclude` names column"),
        (_small_table(), dict(text=["price"]), TypeError, "Column 'price' is given as text but holds numeric"),
        (_small_table().assign(note=""), dict(text=["note"]), ValueError, "Text column 'note' is empty in every row"),
        (_small_table().assign(tags=[["a"]] * 30), {}, TypeError, "Column 'tags' holds a value of type list"),
        (_small_table().assign(z=np.ones(30) * 1j), {}, TypeError, "Column 'z' holds complex numbers"),
        (_small_table(), dict(groups={"g": ["emb_*"]}), ValueError, "Group 'g': 'emb_\\*' matches no column"),
        (_small_table(), dict(groups={"g": ["price"], "h": ["price"]}), ValueError, "in two groups"),
        (_small_table(), dict(groups=["price"]), TypeError, "`groups` must be a dict"),
        (_small_table().assign(gap=np.nan), dict(groups={"g": ["gap"]}), ValueError, "Group 'g' is empty in every row"),
        (_small_table(), dict(exclude=["review", "price"]), ValueError, "No column of X is left"),
        (_small_table(), dict(text_min_distinct=2), ValueError, "`text_min_distinct` must be in"),
        (pd.DataFrame({"a": [np.nan] * 3, "b": [""] * 3}), {}, ValueError, r"a \(empty\), b \(empty\)"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_column_or_parameter(X, kwargs, error, match):
    with pytest.raises(error, match=match):
        infer_modalities(X, **kwargs)


def test_a_polars_frame_is_read_through_pandas():
    class FakePolarsFrame:  # what infer_modalities needs of a polars DataFrame
        __module__ = "polars.dataframe.frame"

        def __init__(self, frame):
            self.frame = frame

        def to_pandas(self):
            return self.frame

    table = _small_table()
    assert infer_modalities(FakePolarsFrame(table)) == infer_modalities(table)
