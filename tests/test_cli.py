"""`skfusion compare` end to end in a subprocess, and every user error's exit
code and one-line message."""

import io
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from skfusion import cli
from skfusion.cli import main
from skfusion.datasets import make_multimodal_classification

pd = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(*args):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "skfusion", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


@pytest.fixture
def table(tmp_path):
    """A small CSV: modalities a (a1, a2) and b (b1, b2) carry the label, noise does not."""
    X, y, _ = make_multimodal_classification(
        n_samples=90,
        widths={"a": 2, "b": 2, "noise": 1},
        signal={"a": 1.5, "b": 1.5, "noise": 0.0},
        random_state=0,
    )
    frame = pd.DataFrame(X, columns=["a1", "a2", "b1", "b2", "noise"])
    frame["label"] = np.where(y == 1, "yes", "no")
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_compare_end_to_end_prints_the_table_and_writes_json_and_png(table, tmp_path):
    path, _ = table
    out_json, out_png = tmp_path / "result.json", tmp_path / "result.png"
    pytest.importorskip("matplotlib")  # for --plot
    options = "--modality a=a1,a2 --modality b=b* --strategies single,early --cv 3".split()
    completed = _run(
        "compare", "--data", str(path), "--target", "label", *options,
        "--json", str(out_json), "--plot", str(out_png),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].split()[:3] == ["strategy", "kind", "accuracy"]
    assert [line.split()[0] for line in lines[2:5]] == ["single:a", "single:b", "early"]
    assert "Traceback" not in completed.stderr
    # progress on a pipe: plain lines, one per fold (3 strategies x 3 folds)
    assert "[1/9] single:a (1/3 folds)" in completed.stderr
    assert "[9/9] early (3/3 folds)" in completed.stderr
    # 'noise' is in no --modality: the user is told it is not used
    assert "noise" in completed.stderr

    payload = json.loads(out_json.read_text())
    assert [entry["name"] for entry in payload["strategies"]] == ["single:a", "single:b", "early"]
    assert payload["modalities"] == {"a": 2, "b": 2}
    assert payload["n_splits"] == 3 and payload["n_samples"] == 90
    assert payload["best"] in {"single:a", "single:b", "early"}
    assert out_png.read_bytes()[:8] == PNG_MAGIC


def test_quiet_silences_progress_and_modalities_are_inferred_by_default(table):
    path, _ = table
    completed = _run(
        "compare",
        "--data",
        str(path),
        "--target",
        "label",
        "--strategies",
        "single",
        "--cv",
        "2",
        "--quiet",
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    # numbers only: one tabular modality (give others with --modality)
    names = [line.split()[0] for line in completed.stdout.splitlines()[2:3]]
    assert names == ["single:tabular"]


def test_python_m_skfusion_without_a_command_runs_compare_on_the_bundled_digits():
    completed = _run("--strategies", "single:mor", "--cv", "2", "--quiet")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[2].startswith("single:mor")
    assert "2000 samples" in completed.stdout


def test_a_user_error_in_the_real_command_is_one_line_and_exit_code_2(tmp_path):
    completed = _run("compare", "--data", str(tmp_path / "missing.csv"), "--target", "y")
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0
    assert "file not found" in completed.stderr and "Traceback" not in completed.stderr


def test_progress_bar_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = cli._Progress(stream)
    progress(0, 2, "early")
    progress(1, 2, "stacking")
    progress(2, 2, None)
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n")
    assert "0/2 early" in text and "[" + "#" * 12 + "." * 12 + "] 1/2 stacking" in text
    assert "[" + "#" * 24 + "] 2/2 done" in text


def _write(tmp_path, frame, name="data.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def _user_error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("skfusion compare: error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--modality", "a=a1,zzz"], "unknown column 'zzz'"),
        (["--modality", "a=emb_*"], "pattern 'emb_*' matches no column"),
        (["--modality", "a="], "the modality is empty"),
        (["--modality", "a"], "expected NAME=SPEC"),
        (["--modality", "=a1"], "expected NAME=SPEC"),
        (["--modality", "a=a1", "--modality", "a=a2"], "'a' is given twice"),
        (["--modality", "a__x=a1"], "cannot contain '__'"),
        (["--modality", "a=a1,label"], "selects the target column 'label'"),
        (["--strategies", "bagging"], "unknown strategy 'bagging'"),
        (["--strategies", "single:c"], "'single:c' names an unknown modality"),
        (["--strategies", "early,early"], "listed twice"),
        (["--strategies", ","], "at least one strategy"),
        (["--scoring", "accuracy,precision_fancy"], "unknown scorer 'precision_fancy'"),
        (["--cv", "50"], "lower --cv to at most"),
        (["--plot", "out.unknown"], "cannot write 'unknown'"),
    ],
)
def test_bad_options_exit_2_with_a_message(table, capsys, extra, message):
    path, _ = table
    err = _user_error(capsys, ["compare", "--data", str(path), "--target", "label", *extra])
    assert message in err


def test_bad_files_and_targets_exit_2_with_a_message(table, tmp_path, capsys):
    path, frame = table
    cases = [
        (["--data", str(tmp_path / "none.csv"), "--target", "label"], "file not found"),
        (["--data", str(tmp_path), "--target", "label"], "is a directory"),
        (["--data", str(path)], "--data needs --target"),
        (["--data", str(path), "--target", "Label"], "unknown column 'Label'"),
        (["--target", "label"], "--target needs --data"),
        (
            ["--data", str(path), "--target", "label", "--json", str(tmp_path / "no" / "out.json")],
            "does not exist",
        ),
        (  # checked before the comparison runs, as --json and --plot are
            ["--data", str(path), "--target", "label", "--save-best",
             str(tmp_path / "no" / "best.skops")],
            "--save-best: folder",
        ),
    ]
    text = tmp_path / "data.txt"
    text.write_text("a,b\n1,2\n")
    cases.append((["--data", str(text), "--target", "b"], "unsupported file type '.txt'"))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    cases.append((["--data", str(empty), "--target", "b"], "cannot read"))
    cases.append(
        (
            ["--data", _write(tmp_path, frame.assign(label="yes"), "one.csv"), "--target", "label"],
            "column 'label' is constant (every row holds 'yes')",
        )
    )
    unlabelled = frame.copy()
    unlabelled.loc[0, "label"] = np.nan
    cases.append(
        (
            ["--data", _write(tmp_path, unlabelled, "unlabelled.csv"), "--target", "label"],
            "1 missing values",
        )
    )
    cases.append(
        (
            ["--data", _write(tmp_path, frame[["label"]], "only.csv"), "--target", "label"],
            "no column besides the target",
        )
    )
    for argv, message in cases:
        err = _user_error(capsys, ["compare", *argv])
        assert message in err, (argv, err)


def test_default_strategies_run_without_torch(table, tmp_path):
    """README's first command installs no torch: the default comparison leaves the network out."""
    path, _ = table
    stubs = tmp_path / "no_torch"
    stubs.mkdir()
    (stubs / "torch.py").write_text("raise ImportError('No module named torch')\n")
    out_json = tmp_path / "result.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(stubs), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-m", "skfusion", "compare", "--data", str(path), "--target", "label",
         "--modality", "a=a1,a2", "--modality", "b=b1,b2", "--cv", "3", "--quiet",
         "--json", str(out_json)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(out_json.read_text())
    assert [entry["name"] for entry in payload["strategies"]] == ["single:a", "single:b", "early", "stacking", "vote", "hybrid"]


def test_intermediate_without_torch_is_a_user_error(table, capsys, monkeypatch):
    from skfusion.model_selection import _strategies

    monkeypatch.setattr(_strategies, "torch_available", lambda: False)
    path, _ = table
    err = _user_error(
        capsys,
        ["compare", "--data", str(path), "--target", "label", "--strategies", "intermediate"],
    )
    assert "needs torch and skorch" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["compare", "--cv", "1"], "expected an integer >= 2"),
        (["compare", "--cv", "five"], "expected an integer"),
        (["compare", "--n-jobs", "0"], "0 jobs"),
        (["compare", "--task", "ranking"], "invalid choice"),
        (["compare", "--unknown"], "unrecognized arguments"),
        (["explain"], "invalid choice"),
    ],
)
def test_argparse_errors_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_no_command_exits_2_with_a_hint(capsys):
    assert main([]) == 2
    assert "choose a command" in capsys.readouterr().err


def test_parquet_input_and_a_continuous_target_give_a_regression_table(table, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    _, frame = table
    frame = frame.assign(label=2.0 * frame["a1"] - frame["b2"] + 0.1)
    path = tmp_path / "data.parquet"
    frame.to_parquet(path)
    code = main(
        [
            "compare",
            "--data",
            str(path),
            "--target",
            "label",
            "--modality",
            "a=a*",
            "--modality",
            "b=b1,b2",
            "--strategies",
            "single,early",
            "--cv",
            "3",
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].split()[:3] == ["strategy", "kind", "r2"]
    early = next(line for line in out.splitlines() if line.startswith("early"))
    r2 = float(re.search(r"(-?\d+\.\d+) ±", early).group(1))
    assert r2 > 0.99  # the target is linear in a1 and b2


def test_whole_missing_modalities_are_accepted(table, tmp_path, capsys):
    _, frame = table
    frame = frame.copy()
    frame.loc[::4, ["b1", "b2"]] = np.nan  # modality b missing in a quarter of the rows
    path = _write(tmp_path, frame, "gaps.csv")
    argv = ["compare", "--data", path, "--target", "label", "--modality", "a=a1,a2"]
    argv += ["--modality", "b=b1,b2", "--strategies", "single,early,vote", "--cv", "3", "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()[2:6]] == [
        "single:a",
        "single:b",
        "early",
        "vote",
    ]


def test_nan_cells_inside_a_present_modality_are_accepted(table, tmp_path, capsys):
    """Scattered empty cells are imputed by every strategy (their column's training
    mean); only a target with gaps is refused."""
    _, frame = table
    frame = frame.copy()
    frame.loc[::4, ["b1", "b2"]] = np.nan  # modality b missing in a quarter of the rows
    frame.loc[[1, 6, 11, 30], "b2"] = np.nan  # and NaN cells where it is present
    frame.loc[[2, 7, 40], "a1"] = np.nan
    path = _write(tmp_path, frame, "cells.csv")
    argv = ["compare", "--data", path, "--target", "label", "--modality", "a=a1,a2"]
    argv += ["--modality", "b=b1,b2", "--strategies", "single,early,stacking,vote,hybrid"]
    argv += ["--cv", "3", "--quiet"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()[2:8]
    assert [line.split()[0] for line in lines] == [
        "single:a", "single:b", "early", "stacking", "vote", "hybrid"
    ]
    for line in lines:
        score = float(re.search(r"(-?\d+\.\d+) ±", line).group(1))
        assert 0.5 < score <= 1.0, line  # accuracy, finite and above chance

    unlabelled = frame.copy()
    unlabelled.loc[0, "label"] = np.nan
    err = _user_error(
        capsys, ["compare", "--data", _write(tmp_path, unlabelled, "u.csv"), "--target", "label"]
    )
    assert "--target 'label' has 1 missing values; drop those rows first" in err


def test_awkward_column_names_are_valid_modalities_and_branches(tmp_path, capsys):
    """A text column whose name holds '__', modalities named like parameters ('cv')."""
    rng = np.random.default_rng(0)
    words = np.array("red green blue cyan pink gold grey teal navy lime".split())
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["cv", "verbose", "x"])
    frame["a__b"] = [" ".join(rng.choice(words, 10)) for _ in range(60)]
    frame["y"] = (frame["x"] > 0).astype(int)
    path = _write(tmp_path, frame, "odd.csv")
    code = main(["compare", "--data", path, "--target", "y", "--strategies",
                 "single,hybrid,stacking", "--quiet", "--cv", "3"])
    out = capsys.readouterr().out
    assert code == 0
    assert "single:a_b" in out and "single:tabular" in out and "hybrid" in out
    code = main(["compare", "--data", path, "--target", "y", "--modality", "cv=cv",
                 "--modality", "verbose=verbose,x", "--strategies", "single,hybrid",
                 "--quiet", "--cv", "3"])
    out = capsys.readouterr().out
    assert code == 0 and "single:cv" in out and "hybrid" in out


def test_user_errors_found_by_the_review_exit_2_with_one_line(table, tmp_path, capsys):
    path, frame = table
    empty_b = frame.assign(b1=np.nan, b2=np.nan)
    continuous = frame.assign(label=np.linspace(0, 1, len(frame)))
    cases = [
        (["--data", _write(tmp_path, empty_b, "empty_b.csv"), "--target", "label",
          "--modality", "a=a1,a2", "--modality", "b=b1,b2"],
         "'b' is empty in every row"),
        (["--data", _write(tmp_path, continuous, "continuous.csv"), "--target", "label",
          "--task", "classification"],
         "use --task regression"),
    ]
    for argv, message in cases:
        err = _user_error(capsys, ["compare", *argv])
        assert message in err, (argv, err)


def test_a_negative_seed_is_refused_by_the_parser(table, capsys):
    path, _ = table
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--data", str(path), "--target", "label", "--random-state", "-5"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "error:" in line] == [
        "skfusion compare: error: argument --random-state: expected an integer >= 0, got -5"
    ]


def test_an_error_the_fusion_code_raises_is_a_user_error(table, capsys, monkeypatch):
    from skfusion.model_selection import _compare

    def refuse(*args, **kwargs):
        raise ValueError("Modality 'a' says\nwhat is wrong")

    monkeypatch.setattr(_compare, "evaluate_fold", refuse)
    path, _ = table
    err = _user_error(capsys, ["compare", "--data", str(path), "--target", "label", "--quiet"])
    assert "Modality 'a' says what is wrong" in err


@pytest.fixture
def reviews(tmp_path):
    """A raw table: free text, a category, a number with empty cells, an identifier."""
    pytest.importorskip("skrub")
    rng = np.random.default_rng(0)
    good = np.array("great lovely tasty fresh perfect delicious fine nice".split())
    bad = np.array("stale awful bland broken late soggy bitter poor".split())
    filler = np.array("the box it was and a bit of my order this".split())
    n = 120
    label = rng.integers(0, 2, n)
    text = [
        " ".join(rng.choice(np.concatenate([filler, good if y else bad]), 12)) for y in label
    ]
    frame = pd.DataFrame({
        "id": [f"r{i:04d}" for i in range(n)],
        "review": text,
        "category": rng.choice(["food", "drink", "snack"], n),
        "price": np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2.0, 3.0, n)),
        "recommended": np.where(label == 1, "yes", "no"),
    })
    return _write(tmp_path, frame, "reviews.csv"), frame


def test_a_raw_table_is_compared_with_no_other_flag(reviews, tmp_path):
    path, _ = reviews
    completed = _run("compare", "--data", path, "--target", "recommended", "--cv", "3")
    out_json = tmp_path / "out.json"
    assert completed.returncode == 0, completed.stderr
    err = completed.stderr
    # what was decided is printed: the modalities, how each is encoded, the task
    assert "modalities (inferred from the table)" in err
    assert "review    text" in err and "tabular" in err and "id (identifier)" in err
    assert "task: classification (2 classes" in err
    assert "skipped: intermediate" in completed.stdout
    completed = _run("compare", "--data", path, "--target", "recommended", "--cv", "3",
                     "--quiet", "--json", str(out_json))
    scores = {entry["name"]: entry["scores"]["accuracy"]["mean"]
              for entry in json.loads(out_json.read_text())["strategies"]}
    assert scores["single:review"] > 0.8 > scores["single:tabular"]  # the text carries it


def test_save_best_refits_the_winner_and_code_rebuilds_it(reviews, tmp_path):
    import joblib

    path, frame = reviews
    pickle_path = tmp_path / "best.joblib"
    completed = _run(
        "compare", "--data", path, "--target", "recommended", "--cv", "3",
        "--strategies", "single,early", "--save-best", str(pickle_path), "--code",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    best = next(line.split()[0] for line in completed.stdout.splitlines() if " *" in line)
    assert f"saved {best!r}, refitted on all 120 rows" in completed.stderr
    model = joblib.load(pickle_path)
    X, y = frame.drop(columns=["recommended"]), frame["recommended"]
    # the printed code rebuilds the same model
    code = completed.stdout[completed.stdout.index("# the best strategy"):]
    namespace = {}
    exec(code, namespace)
    np.testing.assert_array_equal(namespace["model"].predict(X), model.predict(X))
    assert model.score(X, y) > 0.8


def test_save_best_to_skops_tells_how_to_load_it(table, tmp_path):
    pytest.importorskip("skops")
    from skfusion.persistence import load, untrusted_types

    path, frame = table
    out = tmp_path / "best.skops"
    completed = _run(
        "compare", "--data", str(path), "--target", "label", "--cv", "3",
        "--modality", "a=a1,a2", "--modality", "b=b1,b2", "--strategies", "stacking",
        "--save-best", str(out),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "load it with skfusion.persistence.load(path)" in completed.stderr
    assert untrusted_types(out) == []
    model = load(out)
    # the file's rows, the target left out: the columns are read by name
    X = frame.drop(columns=["label"])
    assert model.score(X, frame["label"]) > 0.7


@pytest.mark.parametrize("separator", [";", "\t", "|"])
def test_a_csv_with_another_separator_is_read_and_the_code_reads_it_alike(
    table, tmp_path, capsys, separator
):
    """European spreadsheets write ';': the separator is read from the header line
    (a comma there means ','), and the printed code passes it to read_csv."""
    _, frame = table
    frame = frame.assign(note=[f"a, b; c | {i}" for i in range(len(frame))])  # separators in text
    path = tmp_path / "separated.csv"
    frame.to_csv(path, index=False, sep=separator)
    argv = ["compare", "--data", str(path), "--target", "label", "--cv", "3", "--quiet",
            "--strategies", "single", "--code"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    code = out[out.index("# the best strategy"):]
    assert f"read_csv({str(path)!r}, sep={separator!r})" in code
    namespace = {}
    exec(code, namespace)
    assert namespace["X"].shape == (90, 6)  # every column but the label, none merged
    assert cli._csv_separator(table[0]) == ","


@pytest.mark.parametrize("separator", [";", "\t"])
def test_decimal_commas_are_read_as_numbers_and_the_code_reads_them_alike(
    table, tmp_path, capsys, separator
):
    """A spreadsheet that writes ';' often writes 3,14 too: read with a decimal point,
    every number would be text (and a column of distinct numbers an identifier)."""
    _, frame = table
    frame = frame.assign(note=[f"about 1,5 of {i}" for i in range(len(frame))])  # text, not a number
    path = tmp_path / "european.csv"
    frame.to_csv(path, index=False, sep=separator, decimal=",")
    assert cli._csv_reading(path) == ({"sep": separator, "decimal": ","}, False)
    argv = ["compare", "--data", str(path), "--target", "label", "--cv", "3",
            "--modality", "a=a1,a2", "--modality", "b=b1,b2", "--strategies", "early", "--code"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert f"read {path} with sep={separator!r}, decimal=','" in captured.err
    code = captured.out[captured.out.index("# the best strategy"):]
    assert f"read_csv({str(path)!r}, sep={separator!r}, decimal=',')" in code
    namespace = {}
    exec(code, namespace)
    columns = ["a1", "a2", "b1", "b2"]
    np.testing.assert_allclose(namespace["X"][columns], frame[columns].to_numpy())
    # decimal points beside the separator: left as they are
    frame.to_csv(path, index=False, sep=separator)
    assert cli._csv_reading(path) == ({"sep": separator}, False)


def test_decimal_commas_with_thousands_points_and_mixed_marks(tmp_path, capsys):
    path = tmp_path / "eu.csv"
    path.write_text("weight;price;y\n1,07;1.565;0\n2,5;12.001,25;1\n3,25;980;0\n")
    assert cli._csv_reading(path) == ({"sep": ";", "decimal": ","}, False)
    frame, reading = cli._read_table(str(path))
    assert reading.grouped == ["price"]
    np.testing.assert_allclose(frame["price"], [1565.0, 12001.25, 980.0])
    np.testing.assert_allclose(frame["weight"], [1.07, 2.5, 3.25])
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("a;b;y\n1,5;2.25;0\n2,5;3.75;1\n")
    with pytest.warns(UserWarning, match="both with decimal commas .* and decimal points"):
        frame, _ = cli._read_table(str(mixed))
    assert frame["b"].dtype == float  # read with points; the commas stay text, as said
    # "45,678" reads both ways: no evidence of a decimal comma (it was read as 45.678)
    ambiguous = tmp_path / "population.csv"
    ambiguous.write_text("population\ty\n45,678\t0\n234,567\t1\n980\t0\n")
    assert cli._csv_reading(ambiguous) == ({"sep": "\t"}, False)
    # "0.125" is a decimal point, never a thousands one (it was read as 125)
    weights = tmp_path / "weights.csv"
    weights.write_text("w;b;y\n0.125;1,2;0\n1.250;2,5;1\n")
    assert cli._csv_reading(weights) == ({"sep": ";"}, True)


def test_a_column_named_with_spaces_around_it_can_be_selected(table, tmp_path, capsys):
    _, frame = table
    path = _write(tmp_path, frame.rename(columns={"a1": " a1 "}))
    argv = ["compare", "--data", path, "--target", "label", "--cv", "3", "--quiet",
            "--strategies", "single", "--modality", "a= a1 ,a2", "--modality", "b=b1,b2"]  # fmt: skip
    assert main(argv) == 0
    argv[-3] = "a=a1,a2"
    assert "unknown column 'a1'; columns are ' a1 ', a2" in _user_error(capsys, argv)


def test_no_best_strategy_to_save_or_print_is_a_user_error(table, tmp_path, capsys, monkeypatch):
    import skfusion.model_selection as model_selection
    from skfusion.model_selection import FusionComparison

    def every_fold_failed(X, y, *args, **kwargs):
        record = {"name": "early", "kind": "early", "scores": {"accuracy": np.full(3, np.nan)},
                  "fit_time": np.full(3, np.nan), "predict_ms_per_1k": np.full(3, np.nan)}  # fmt: skip
        return FusionComparison([record], task="classification", n_samples=len(y), n_splits=3)

    monkeypatch.setattr(model_selection, "compare_fusion", every_fold_failed)
    path, _ = table
    for option in (["--code"], ["--save-best", str(tmp_path / "best.skops")]):
        argv = ["compare", "--data", str(path), "--target", "label", "--quiet", *option]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"error: {option[0]}: no strategy has a score" in err and "Traceback" not in err


def test_r2_on_one_row_test_folds_is_refused(table, tmp_path, capsys):
    _, frame = table
    path = _write(tmp_path, frame.head(10).assign(label=np.arange(10) + 0.5))
    argv = ["compare", "--data", path, "--target", "label", "--cv", "10", "--quiet"]
    message = _user_error(capsys, argv)
    assert "r2 is undefined on a test fold of 1 row" in message


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--task", "regression"], "--task regression: column 'label' holds text ('"),
        (["--scoring", "accuracy,r2"], "scoring ['accuracy', 'r2'] does not suit a classification"),
    ],
)
def test_a_target_or_scoring_that_does_not_suit_the_task_is_named(
    table, tmp_path, capsys, extra, message
):
    path, _ = table
    argv = ["compare", "--data", str(path), "--target", "label", "--cv", "3", "--quiet",
            "--strategies", "single", *extra]  # fmt: skip
    assert message in _user_error(capsys, argv)


def test_a_file_that_is_not_utf8_is_a_user_error(table, tmp_path, capsys):
    path = tmp_path / "latin1.csv"
    path.write_bytes("ville,label\nSète,yes\nNîmes,no\n".encode("latin-1"))
    err = _user_error(capsys, ["compare", "--data", str(path), "--target", "label"])
    assert "is not UTF-8 text" in err and "save it as UTF-8" in err


def test_a_strategy_warning_is_shown_once_as_one_line(table, capsys, monkeypatch):
    """A warning that every fold raises (the network's SmallDataWarning, a convergence
    warning) reaches the user once, naming the strategy, on one ``warning:`` line."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    def fit_and_warn(self, X, y, **kwargs):
        warnings.warn("lbfgs failed to converge\n(status=1)", ConvergenceWarning)
        return original_fit(self, X, y, **kwargs)

    original_fit = LogisticRegression.fit
    monkeypatch.setattr(LogisticRegression, "fit", fit_and_warn)
    path, _ = table
    argv = ["compare", "--data", str(path), "--target", "label", "--cv", "3", "--quiet",
            "--modality", "a=a1,a2", "--modality", "b=b1,b2",
            "--strategies", "single:a,single:b"]  # fmt: skip
    assert main(argv) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert lines == [
        f"skfusion compare: warning: Strategy {name!r} (every fold): lbfgs failed to "
        "converge (status=1)" for name in ("single:a", "single:b")
    ]
    assert warnings.showwarning is not cli._show_warning  # restored after the command


def test_the_task_line_lists_a_few_classes_so_that_stray_labels_show(table, tmp_path, capsys):
    _, frame = table
    frame = frame.copy()
    frame.loc[:9, "label"] = " yes"  # a stray space makes a third class
    path = _write(tmp_path, frame)
    argv = ["compare", "--data", path, "--target", "label", "--cv", "3", "--strategies", "single"]
    assert main(argv) == 0
    assert "task: classification (3 classes: ' yes', 'no', 'yes';" in capsys.readouterr().err


def test_the_task_line_says_when_whole_numbers_were_read_as_a_quantity(table, tmp_path, capsys):
    _, frame = table
    frame = frame.assign(label=np.arange(len(frame)) % 25)  # integer-coded, 25 values
    path = _write(tmp_path, frame)
    argv = ["compare", "--data", path, "--target", "label", "--cv", "3", "--strategies", "single"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "task: regression (a quantity: 25 distinct whole numbers; read from the target" in err
    assert "warning:" not in err  # said once, on the task line


def test_a_table_of_one_modality_gets_a_note_that_nothing_is_fused(table, tmp_path, capsys):
    _, frame = table
    path = _write(tmp_path, frame)  # numbers only: one inferred modality, 'tabular'
    assert main(["compare", "--data", path, "--target", "label", "--cv", "3",
                 "--strategies", "single,stacking"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "note: one modality ('tabular')" in err and "--modality NAME=COLUMNS" in err
    argv = ["compare", "--data", path, "--target", "label", "--cv", "3", "--strategies",
            "single", "--modality", "a=a1,a2", "--modality", "b=b1,b2"]  # fmt: skip
    assert main(argv) == 0
    assert "note: one modality" not in capsys.readouterr().err


def test_an_output_that_cannot_be_written_is_a_user_error(table, tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "best.joblib")

    import joblib

    monkeypatch.setattr(joblib, "dump", refuse)
    path, _ = table
    err = _user_error(capsys, ["compare", "--data", str(path), "--target", "label", "--cv", "3",
                               "--strategies", "single", "--quiet",
                               "--save-best", str(tmp_path / "best.joblib")])  # fmt: skip
    assert "Permission denied" in err


def test_a_class_too_small_for_the_folds_is_named_as_its_value(table, tmp_path, capsys):
    _, frame = table
    frame = frame.assign(flag=frame["label"] == "yes").drop(columns="label")
    frame.loc[:, "flag"] = [True] * 88 + [False] * 2
    path = tmp_path / "flags.parquet"
    frame.to_parquet(path)
    err = _user_error(capsys, ["compare", "--data", str(path), "--target", "flag"])
    assert "class False has only 2 rows" in err


def test_thousands_points_are_read_per_column_so_dates_and_versions_stay_text(
    tmp_path, capsys
):
    """read_csv(thousands=".") drops every point of the file: the date 05.01.2020 was
    read as 5012020 and the version 1.2.3 as 123. Only columns of grouped numbers are
    numbers now, and --code reads the file the same way."""
    path = tmp_path / "de.csv"
    rows = ["datum;anzahl;version;wert;y"]
    for i in range(30):
        day = f"{(i % 28) + 1:02d}.{(i % 12) + 1:02d}.2020"
        rows.append(f"{day};{i + 1}.{(37 * i) % 1000:03d};1.{i % 3}.{i};{i % 9},5;{'ja' if i % 2 else 'nein'}")
    path.write_text("\n".join(rows) + "\n")
    frame, reading = cli._read_table(str(path))
    assert reading.options == {"sep": ";", "decimal": ","} and reading.grouped == ["anzahl"]
    assert frame["datum"].iloc[0] == "01.01.2020" and frame["version"].iloc[1] == "1.1.1"
    np.testing.assert_array_equal(frame["anzahl"][:2], [1000, 2037])
    np.testing.assert_allclose(frame["wert"][:2], [0.5, 1.5])
    argv = ["compare", "--data", str(path), "--target", "y", "--cv", "2",
            "--strategies", "single", "--code"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "with sep=';', decimal=','; numbers with thousands points in anzahl" in captured.err
    code = captured.out[captured.out.index("# the best strategy"):]
    namespace = {}
    exec(code, namespace)
    pd.testing.assert_frame_equal(namespace["X"], frame.drop(columns=["y"]))


def test_save_best_of_an_all_numeric_file_reads_the_files_columns_by_name(tmp_path, capsys):
    """The comparison of numbers runs on a matrix in the plan's column order (the
    numbered family e0..e7 first, here): the saved model once read a DataFrame of the
    file's rows by position, the wrong columns (accuracy 0.525 instead of 1)."""
    import joblib

    rng = np.random.default_rng(1)
    n = 80
    frame = pd.DataFrame({"z": rng.normal(size=n), **{f"e{k}": rng.normal(size=n) for k in range(8)},
                          "w": rng.normal(size=n)})  # fmt: skip
    frame["y"] = np.where(frame["w"] > 0, "pos", "neg")
    path = _write(tmp_path, frame)
    out = tmp_path / "model.joblib"
    argv = ["compare", "--data", path, "--target", "y", "--cv", "3", "--strategies", "single",
            "--save-best", str(out), "--code"]  # fmt: skip
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "it predicts from a DataFrame of the file's rows without the target column" in captured.err
    model = joblib.load(out)
    X, y = frame.drop(columns=["y"]), frame["y"]
    assert model.score(X, y) == 1.0
    # a DataFrame's columns in another order are read by name, too
    assert model.score(X[X.columns[::-1]], y) == 1.0
    code = captured.out[captured.out.index("# the best strategy"):]
    namespace = {}
    exec(code, namespace)
    np.testing.assert_array_equal(namespace["model"].predict(X), model.predict(X))


def test_save_best_of_a_file_with_nullable_integers(tmp_path, capsys):
    """Parquet keeps Int64 columns with empty cells (pandas.NA): the saved model reads them."""
    pytest.importorskip("pyarrow")
    import joblib

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"count": pd.array([1, 2, None, 4] * 10, dtype="Int64"),
                          "w": rng.normal(size=40)})  # fmt: skip
    frame["y"] = np.where(frame["w"] > 0, "pos", "neg")
    path = tmp_path / "data.parquet"
    frame.to_parquet(path)
    out = tmp_path / "model.joblib"
    argv = ["compare", "--data", str(path), "--target", "y", "--cv", "2", "--quiet",
            "--strategies", "single", "--save-best", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert joblib.load(out).score(frame.drop(columns=["y"]), frame["y"]) > 0.9


def test_an_infinite_value_in_a_mixed_table_is_refused_naming_its_column(tmp_path, capsys):
    """pandas reads the text "inf" as infinity; with a text column beside it the
    comparison started, then failed on "Input X contains infinity" naming no column."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "a": rng.normal(size=40),
        "b": rng.normal(size=40).astype(object),
        "note": [f"word{i % 7} and more words about item {i} here" for i in range(40)],
        "y": ["pos", "neg"] * 20,
    })  # fmt: skip
    frame.loc[3, "b"] = "inf"
    path = _write(tmp_path, frame)
    err = _user_error(capsys, ["compare", "--data", path, "--target", "y", "--quiet"])
    assert "column 'b' holds infinite values" in err


def test_a_repeated_column_name_is_refused_in_csv_and_parquet(tmp_path, capsys):
    """pandas renames a CSV's second 'a' to 'a.1' (the comparison then ran on it),
    and pyarrow fails on a Parquet's with its internals."""
    path = tmp_path / "dup.csv"
    path.write_text("a,a,b,y\n" + "".join(f"{i},{2 * i},{i % 3},{'yes' if i % 2 else 'no'}\n" for i in range(30)))
    err = _user_error(capsys, ["compare", "--data", str(path), "--target", "y", "--quiet"])
    assert "column 'a' appears twice" in err
    semicolons = tmp_path / "dup_semi.csv"
    semicolons.write_text("\ufeffx;y;x\n1,5;a;2\n2,5;b;3\n")  # a BOM, another separator
    err = _user_error(capsys, ["compare", "--data", str(semicolons), "--target", "y"])
    assert "column 'x' appears twice" in err
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table([pa.array([1.0, 2.0]), pa.array([3.0, 4.0]), pa.array(["a", "b"])],
                     names=["x", "x", "y"])  # fmt: skip
    pq.write_table(table, tmp_path / "dup.parquet")
    err = _user_error(capsys, ["compare", "--data", str(tmp_path / "dup.parquet"), "--target", "y"])
    assert "column 'x' appears twice" in err and "FieldRef" not in err


def test_a_target_that_cannot_be_learned_says_why_without_blaming_an_unset_task(
    tmp_path, capsys
):
    """Free text was refused as "--task classification: ... use --task regression",
    then "needs a numeric target"; dates failed mid-fit on a numpy ufunc; a constant
    target ran with --task regression."""
    rng = np.random.default_rng(0)
    n = 40
    frame = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    cases = [
        (frame.assign(y=[f"remark {i} about the engine" for i in range(n)]), [],
         "--target: column 'y' is not a usable target: text with 40 distinct values in 40 rows"),
        (frame.assign(y=[f"remark {i}" for i in range(n)]), ["--task", "regression"],
         "--target: column 'y' is not a usable target: text with 40 distinct values"),
        (frame.assign(y=pd.date_range("2020-01-01", periods=n)), [],
         "--target: column 'y' holds dates or durations"),
        (frame.assign(y=pd.date_range("2020-01-01", periods=n)), ["--task", "regression"],
         "--target: column 'y' holds dates or durations"),
        (frame.assign(y=2.5), ["--task", "regression"],
         "--target: column 'y' is constant (every row holds 2.5)"),
        (frame.assign(y=["a", "b"] * 20), ["--task", "regression"],
         "--task regression: column 'y' holds text ('a'), not numbers; leave --task out"),
        (frame.assign(y=np.arange(n) % 25), ["--task", "classification"],
         "--task classification: column 'y' has 25 distinct values in 40 rows"),
    ]  # fmt: skip
    pytest.importorskip("pyarrow")
    for i, (data, extra, message) in enumerate(cases):
        path = tmp_path / f"case{i}.parquet"
        data.to_parquet(path)
        argv = ["compare", "--data", str(path), "--target", "y", "--quiet", "--cv", "2", *extra]
        err = _user_error(capsys, argv)
        assert message in err, (i, err)
        assert "--task classification" not in err or "classification" in extra, err


def test_the_printed_plan_says_which_encoding_the_comparison_uses(table, reviews, capsys):
    """It said "TF-IDF ... and/or sentence embedding" (only TF-IDF runs) and "skrub
    TableVectorizer" for numbers, which the strategies standardise themselves."""
    path, _ = table
    assert main(["compare", "--data", str(path), "--target", "label", "--cv", "2",
                 "--strategies", "single"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "numbers standardised" in err and "TableVectorizer" not in err
    path, _ = reviews
    assert main(["compare", "--data", path, "--target", "recommended", "--cv", "2",
                 "--strategies", "single:review"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "TF-IDF of word unigrams and bigrams" in err and "sentence embedding" not in err


def test_bundled_digits_with_modalities_save_a_model_of_load_mfeats_matrix(tmp_path, capsys):
    # --modality on the bundled digits compared a matrix of the selected columns, while
    # --code loaded the whole one: 'kar' (columns 292-355) was read at 76-139 ('fac')
    import joblib

    from skfusion.cli import main
    from skfusion.datasets import load_mfeat

    out = tmp_path / "best.joblib"
    argv = ["compare", "--modality", "a=fou_*", "--modality", "b=kar_*", "--strategies",
            "early", "--cv", "2", "--save-best", str(out), "--code"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert "it predicts from load_mfeat's matrix of 649 columns" in printed.err
    bunch = load_mfeat()
    model = joblib.load(out)
    kar = [int(i) for i in bunch.modalities["kar"]]
    assert model[0].modalities["b"] == kar and kar[0] == 292
    code = printed.out[printed.out.index("# the best strategy"):]
    namespace = {}
    exec(code, namespace)
    np.testing.assert_array_equal(namespace["model"].predict(bunch.data), model.predict(bunch.data))
