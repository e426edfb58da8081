"""infer_modalities and ModalityPlan: which column goes where, overrides, the report."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from _tables import EVERY_KIND_EXCLUDED, EVERY_KIND_MODALITIES, every_kind_table, reviews
from numpy.testing import assert_allclose

from skfusion.tables import ModalityPlan, infer_modalities
from skfusion.tables._columns import NULL_STRINGS, empty_cells, number_format, read_numbers


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
    assert plan.excluded == {
        "code": "identifier",
        "user_id": "identifier",
        "serial": "identifier: consecutive integers 7..36",
    }
    assert plan.modalities == {"tabular": ["score", "weight"]}
    # in few rows any column may be unique: nothing is called an identifier
    assert infer_modalities(table.head(10)).excluded == {}


def test_dates_and_years_unique_per_row_are_not_identifiers():
    n = 100
    days = pd.date_range("2021-01-01", periods=n, freq="D")
    table = pd.DataFrame(
        {
            "us_date": days.strftime("%m/%d/%Y"),  # as skrub's TableVectorizer parses them
            "eu_time": (days + pd.Timedelta("14h05min")).strftime("%d.%m.%Y %H:%M"),
            "iso": days.strftime("%Y-%m-%d"),
            "year": np.arange(1920, 1920 + n),  # one row per year
            "birth_year": np.arange(1920, 1920 + n)[::-1],
            "period": np.arange(1920, 1920 + n),  # a year by its values only: shown
        }
    )
    plan = infer_modalities(table)
    assert plan.modalities == {"tabular": ["us_date", "eu_time", "iso", "year", "birth_year"]}
    assert plan.excluded == {"period": "identifier: consecutive integers 1920..2019"}
    assert str(plan).splitlines()[-1] == (
        "excluded: period (identifier: consecutive integers 1920..2019)"
    )
    # a year name with values that are no years, or an identifier's name, still excludes
    ids = pd.DataFrame({"year": np.arange(1, 31), "year_id": np.arange(1990, 2020)})
    assert infer_modalities(ids.assign(x=1.0 * np.arange(30))).excluded == {
        "year": "identifier: consecutive integers 1..30",
        "year_id": "identifier",
    }


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
        (_small_table(), dict(text=["comment"]), ValueError, r"`text` names column\(s\) 'comment' that"),
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
        (pd.DataFrame(), {}, ValueError, r"^X has 0 rows and 0 columns; modalities are inferred"),
        (pd.DataFrame({"a": []}), {}, ValueError, r"^X has 0 rows and 1 column;"),
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


# ---------------------------------------------------------------- numbers written as text


@pytest.mark.parametrize(
    "values, pattern, numbers",
    [
        (["1,565.65", "2.5", "12,345,678.9", "-1,000"], "1,234.5", [1565.65, 2.5, 12345678.9, -1000]),
        (["1.565,65", "3,2", "12.345"], "1.234,5", [1565.65, 3.2, 12345]),
        (["$2,341", "$341", "-$1,200.50", "$ 3"], "$1,234.5", [2341, 341, -1200.5, 3]),
        (["€2.341", "€5"], "€1.234,5", [2341, 5]),  # an amount has 0 or 2 decimals
        (["$1.375", "$0.125"], "$1234.5", [1.375, 0.125]),  # 0.125 is no thousand
        (["50%", "12.5%", "3 %"], "1234.5%", [50, 12.5, 3]),
        (["1 234,5", "12", "1\u00a0000"], "1 234,5", [1234.5, 12, 1000]),
        (["1'234.5", "7"], "1'234.5", [1234.5, 7]),
        (["1,2", "3,4"], "1234,5", [1.2, 3.4]),
    ],
)  # fmt: skip
def test_a_column_that_writes_numbers_one_way_is_read_as_those_numbers(values, pattern, numbers):
    assert number_format(values) == (pattern, None)
    read, misfits = read_numbers(pd.Series(values + ["", None], name="x"), pattern)
    assert_allclose(read, numbers + [np.nan, np.nan])
    assert misfits == []


@pytest.mark.parametrize(
    "values",
    [
        ["3.5", "2"],  # plain numbers: pandas reads them
        ["1,565.65", "1.565,65"],  # two formats
        ["$5", "5"],  # a sign on some values only
        ["5%", "$5"],
        ["1.2.3", "4"],  # a version, not a number
        ["12 34", "5"],  # a group of 2 digits
        ["01/31/2021", "02/01/2021"],
        ["tea", "1,000"],
        ["1e5", "2,000"],
    ],
)
def test_strings_that_are_not_all_numbers_of_one_format_have_none(values):
    assert number_format(values) == (None, None)


def test_a_value_that_reads_two_ways_takes_the_english_reading_with_a_note():
    pattern, note = number_format(["2,341", "1,565"])
    assert pattern == "1,234.5"
    assert note == (
        "'2,341' reads as 2341 (',' thousands separator) or as 2.341 (',' decimal "
        "separator); the first is taken"
    )
    pattern, note = number_format(["1.565%", "50%"])
    assert pattern == "1234.5%" and "1.565 ('.' decimal separator) or as 1565" in note


def test_numbers_written_as_text_are_tabular_numbers_and_the_plan_says_so():
    rng = np.random.default_rng(0)
    price = rng.uniform(100, 5000, 30).round(2)
    table = pd.DataFrame(
        {
            "price": [f"{p:,.2f}" for p in price],  # unique: once an identifier
            "usd": [f"${p:,.0f}" for p in price],
            "share": [f"{v}%" for v in rng.integers(0, 10, 30)],  # repeated: once n-grams
            "eu": [f"{p:,.2f}".replace(",", " ").replace(".", ",") for p in price],
            "shop": rng.choice(["a", "b"], 30),
        }
    )
    plan = infer_modalities(table)
    assert plan.modalities == {"tabular": list(table.columns)} and plan.excluded == {}
    assert plan.number_formats == {
        "price": "1,234.5", "usd": "$1,234.5", "share": "1234.5%", "eu": "1 234,5"
    }  # fmt: skip
    assert str(plan).splitlines()[-1] == (
        "read as numbers: price (like 1,234.5), usd (like $1,234.5), share (like 1234.5%), "
        "eu (like 1 234,5)"
    )
    assert ModalityPlan(**plan.to_dict()) == plan
    # a value that reads two ways warns, naming the column and how to override
    with pytest.warns(UserWarning, match=r"Column 'n' is read as numbers written like '1,234.5'"):
        plan = infer_modalities(pd.DataFrame({"n": ["2,341", "1,565"] * 15}))
    assert plan.number_formats == {"n": "1,234.5"}
    # forced text stays text
    assert infer_modalities(table, text=["usd"]).number_formats.keys() == {"price", "share", "eu"}


@pytest.mark.parametrize(
    "number_formats, match",
    [
        ({"price": "1234"}, "number format '1234' is not 1234.5 written"),
        ({"price": "1.234.5"}, "number format"),
        ({"review": "1,234.5"}, "names column 'review', which is in no tabular"),
        ({"gone": "1,234.5"}, "names column 'gone'"),
    ],
)
def test_a_bad_number_format_in_a_plan_is_refused(number_formats, match):
    with pytest.raises(ValueError, match=match):
        ModalityPlan(
            {"review": ["review"], "tabular": ["price"]},
            {"review": "text", "tabular": "tabular"},
            number_formats=number_formats,
        )


def _vectors_as(form, vectors):
    if form == "json":
        return pd.Series([json.dumps(list(v)) for v in vectors])
    if form == "numpy text":
        return pd.Series([str(v) for v in vectors])
    if form == "arrays":  # a Parquet list column read by pandas
        return pd.Series(list(vectors))
    pa = pytest.importorskip("pyarrow")
    return pd.Series([list(v) for v in vectors], dtype=pd.ArrowDtype(pa.list_(pa.float64())))


@pytest.mark.parametrize("form", ["json", "numpy text", "arrays", "arrow lists"])
def test_a_column_of_vectors_is_refused_with_how_to_expand_it(form):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(30, 64)).round(3)
    X = pd.DataFrame({"emb": _vectors_as(form, vectors), "x": rng.normal(size=30)})
    with pytest.raises(TypeError) as error:
        infer_modalities(X)
    message = str(error.value)
    written = " written as text" if form in ("json", "numpy text") else ""
    assert message.startswith(
        f"Column 'emb' holds a vector in each cell{written}, e.g. [0.126, -0.132, 0.64, ...] "
        "(64 numbers); a column holds one value per cell. Expand it into one column per "
        "dimension, which infer_modalities reads as an embedding modality: vectors = np.stack("
    )
    # the code it shows does expand it
    namespace = {"np": np, "pd": pd, "X": X}
    exec(message.split(": ", 1)[1].rstrip(".").replace("; ", "\n"), namespace)
    X = namespace["X"]
    assert_allclose(X.filter(like="emb_").to_numpy(), vectors)
    assert infer_modalities(X).kinds == {"tabular": "tabular", "emb": "embedding"}


def test_intervals_and_pairs_in_brackets_are_strings_not_vectors():
    bins = pd.Series(pd.cut(np.arange(40), [-1, 10, 20, 40])).astype(str)
    X = pd.DataFrame({"bin": bins, "pair": ["[1, 2]", "[3, 4]"] * 20})
    assert infer_modalities(X).modalities == {"tabular": ["bin", "pair"]}


def test_the_report_and_messages_about_a_wide_table_list_the_first_columns_and_a_count():
    rng = np.random.default_rng(0)
    wide = pd.DataFrame({f"c{i:03d}": np.ones(25) for i in range(300)})
    with pytest.raises(ValueError) as error:
        infer_modalities(wide)
    assert str(error.value) == (
        "No column of X is left for a modality; excluded: "
        + ", ".join(f"c{i:03d} (constant)" for i in range(10))
        + ", ... (300 in all)."
    )
    plan = infer_modalities(wide.assign(x=rng.normal(size=25)))
    assert str(plan).splitlines()[-1].endswith("c009 (constant), ... (300 in all)")
    with pytest.raises(ValueError, match=r"names column\(s\) 'a0', 'a1', 'a2', 'a3', 'a4', "
                       r"\.\.\. \(7 in all\) that X does not have"):
        infer_modalities(wide, exclude=[f"a{i}" for i in range(7)])


def test_codes_in_brackets_and_long_digit_runs_are_strings_not_vectors():
    # "(212)" matched as the three numbers 2, 1, 2 (the separator was optional), and a
    # long run of digits in brackets took exponential time to be refused: a log line
    # with a 60-digit field would hang inference
    rows = 40
    frame = pd.DataFrame(
        {
            "area_code": ["(212)", "(415)"] * (rows // 2),
            "year": [f"({1990 + i % 7})" for i in range(rows)],
            "log": [f"[{'1' * 60}] GET /index.html {i % 3}" for i in range(rows)],
            "x": np.arange(rows, dtype=float) * 0.5,
        }
    )
    plan = infer_modalities(frame)
    used = [column for columns in plan.modalities.values() for column in columns]
    assert {"area_code", "year"} <= set(used)


def test_numbers_written_as_text_under_an_identifier_name_are_identifiers():
    rng = np.random.default_rng(0)
    rows = 40
    frame = pd.DataFrame(
        {
            "customer_id": [f"{rng.integers(10, 99)}.{rng.integers(100, 999)}.{i:03d}" for i in range(rows)],
            "price": [f"${value:,.2f}" for value in rng.uniform(1000, 5000, rows)],
        }
    )
    plan = infer_modalities(frame)
    assert plan.excluded["customer_id"] == "identifier"
    assert plan.modalities["tabular"] == ["price"]


def test_dates_whose_format_pandas_guesses_two_ways_or_whose_offset_changes_are_dates():
    """'01 May 2020' is guessed '%d %B %Y' beside '%d %b %Y' for the other months, and
    ISO timestamps crossing a daylight-saving change have two offsets (pandas reads
    them only as UTC): both were excluded as identifiers, though dates never are."""
    from skfusion.tables._columns import column_kind, date_reading

    days = pd.date_range("2020-03-01", periods=40, freq="3D")
    stamps = pd.date_range("2021-03-10", periods=40, freq="D", tz="Europe/Paris")
    table = pd.DataFrame({
        "x": np.arange(40) * 1.5,
        "day": days.strftime("%d %b %Y"),
        "ts": stamps.strftime("%Y-%m-%dT%H:%M:%S%z").str.replace(r"(\d\d)$", r":\1", regex=True),
    })  # fmt: skip
    assert table["ts"].str[-6:].nunique() == 2  # +01:00 and +02:00
    plan = infer_modalities(table)
    assert plan.modalities == {"tabular": ["x", "day", "ts"]} and plan.excluded == {}
    assert column_kind("day", table["day"], empty_cells(table["day"])) == "datetime"
    assert date_reading(table["day"]) == ("%d %b %Y", False)
    assert date_reading(table["ts"]) == ("ISO8601", True)
    assert date_reading(pd.Series(["1.2.3", "4.5.6 beta"])) is None
