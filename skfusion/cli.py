"""The ``skfusion`` command line: ``skfusion compare`` (argument parsing, I/O, printing).

``skfusion compare`` cross-validates fusion strategies on a CSV/Parquet file
(or the bundled UCI Multiple Features digits) and prints the comparison table
of :func:`skfusion.model_selection.compare_fusion`. User errors end with exit
code 2 and a one-line message saying what to fix; never a traceback.
"""

import argparse
import csv
import fnmatch
import itertools
import json
import os
import re
import sys
import time
import warnings
from functools import partial

import numpy as np

from ._modalities import presence_mask
from ._utils.text_table import shorten

__all__ = ["main", "build_parser"]

PROG = "skfusion"
_GLOB_CHARACTERS = "*?["


class UsageError(Exception):
    """A mistake in the command line or the data that the user can fix."""


# --------------------------------------------------------------------------- #
# Parsing                                                                     #
# --------------------------------------------------------------------------- #
def _int_at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value

    return parse


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError(
            "0 jobs cannot run anything; use 1, a larger number, or -1 for all cores"
        )
    return value


def build_parser():
    """The argument parser of the ``skfusion`` command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Multimodal fusion for scikit-learn: compare fusion strategies on your data.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    compare = commands.add_parser(
        "compare",
        help="cross-validate fusion strategies and print the comparison table",
        description=(
            "Cross-validate fusion strategies (each modality alone, early, late, "
            "intermediate, hybrid) on the same folds and print scores, fit time, "
            "predict latency and the gain over the best single modality. Without "
            "--data it runs on the bundled UCI Multiple Features digits."
        ),
    )
    compare.add_argument(
        "--data",
        metavar="FILE",
        help=(
            "CSV or Parquet file, one row per sample; a modality may be missing in a row "
            "(all its cells empty); other empty cells are imputed "
            "(default: bundled mfeat digits)"
        ),
    )
    compare.add_argument(
        "--target", metavar="COLUMN", help="column of FILE to predict (required with --data)"
    )
    compare.add_argument(
        "--modality",
        metavar="NAME=SPEC",
        action="append",
        default=[],
        help=(
            "a modality: NAME=col1,col2 or NAME='emb_*' (globs allowed, comma lists "
            "mixed); repeat for each modality. Without any, the modalities are inferred from "
            "the table (one per free-text column, per numbered embedding family, one tabular)"
        ),
    )
    compare.add_argument(
        "--strategies",
        metavar="LIST",
        default="default",
        help="comma list of single, single:NAME, early, stacking, vote, intermediate, hybrid (default: all available)",
    )
    compare.add_argument(
        "--cv",
        type=_int_at_least(2),
        default=5,
        metavar="K",
        help="number of cross-validation folds (default: 5)",
    )
    compare.add_argument(
        "--scoring",
        metavar="LIST",
        help="comma list of scikit-learn scorer names (default: accuracy or r2)",
    )
    compare.add_argument(
        "--task",
        choices=["auto", "classification", "regression"],
        default="auto",
        help="default: read from the target",
    )
    compare.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=None,
        metavar="N",
        help="folds fitted in parallel (-1: all cores)",
    )
    compare.add_argument(
        "--random-state",
        type=_int_at_least(0),
        default=0,
        metavar="SEED",
        help="seed for fold shuffling and networks (default: 0)",
    )
    compare.add_argument(
        "--save-best",
        metavar="OUT",
        help=(
            "refit the best strategy on every row and save it to OUT (.skops, read back with "
            "skfusion.persistence.load; .joblib or .pkl for a pickle)"
        ),
    )
    compare.add_argument(
        "--code",
        action="store_true",
        help="print the Python code that rebuilds and fits the best strategy",
    )
    compare.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    compare.add_argument(
        "--plot", metavar="OUT.png", help="also plot score against fit time to OUT.png"
    )
    compare.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


# --------------------------------------------------------------------------- #
# Data                                                                        #
# --------------------------------------------------------------------------- #
def _one_line(exc):
    return " ".join(str(exc).split())


def _show_warning(prefix, message, category, filename, lineno, file=None, line=None):
    """A warning as one ``warning:`` line on stderr, as errors get one ``error:`` line
    (Python's default shows the file, line and source of the library code that warned)."""
    print(f"{prefix}: warning: {_one_line(message)}", file=sys.stderr if file is None else file)


def _read_table(path):
    if not os.path.exists(path):
        raise UsageError(f"--data: file not found: {path}")
    if os.path.isdir(path):
        raise UsageError(f"--data: {path} is a directory; give a CSV or Parquet file")
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise UsageError(
            f"--data: unsupported file type {suffix or '(none)'!r} for {path}; use .csv or .parquet"
        )
    try:
        import pandas as pd
    except ImportError:
        raise UsageError(
            '--data needs pandas; install it with `pip install "skfusion[pandas]"`'
        ) from None
    try:
        if suffix == ".csv":
            options, mixed_marks = _csv_reading(path)
            _refuse_duplicates(_csv_header(path, options.get("sep", ",")), path)
            frame = pd.read_csv(path, **options)
            grouped = _grouped_columns(frame) if options.get("decimal") == "," else []
            for column in grouped:
                frame[column] = _read_grouped(frame[column])
            if mixed_marks:
                warnings.warn(
                    f"{path} writes numbers both with decimal commas (3,14) and decimal "
                    "points (3.14); it is read with points, so numbers written 3,14 are "
                    "text: save it with one decimal mark",
                    UserWarning,
                    stacklevel=2,
                )
        else:
            options, grouped = {}, []
            import pyarrow.parquet

            # pyarrow fails on a repeated name with its internals ("Multiple matches for
            # FieldRef.Name(x) in ... __fragment_index ...")
            _refuse_duplicates(pyarrow.parquet.read_schema(path).names, path)
            frame = pd.read_parquet(path)
    except UsageError:
        raise
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"--data: {path} is not UTF-8 text ({_one_line(exc)}); save it as UTF-8"
        ) from None
    except ImportError as exc:
        raise UsageError(
            f"--data: reading Parquet needs pyarrow ({_one_line(exc)}); `pip install pyarrow`"
        ) from None
    except Exception as exc:  # pandas raises many types for unreadable files
        raise UsageError(
            f"--data: cannot read {path}: {_one_line(exc) or type(exc).__name__}"
        ) from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise UsageError(f"--data: {path} has no rows or no columns")
    frame.columns = [str(column) for column in frame.columns]
    _refuse_duplicates(frame.columns, path)
    return frame, _Reading(options, grouped)


def _refuse_duplicates(names, path):
    seen = set()
    for name in map(str, names):
        if name in seen:
            raise UsageError(f"--data: column {name!r} appears twice in {path}; rename one")
        seen.add(name)


def _csv_header(path, separator):
    """The column names of the header line as written: pandas renames a repeated
    name (a, a becomes a, a.1), so that a duplicate is seen only here."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as file:
        return next(csv.reader(file, delimiter=separator), [])


#: Separators a CSV file may use besides the comma (European spreadsheets write ';').
_OTHER_SEPARATORS = (";", "\t", "|")


#: Rows read to tell a decimal comma from a decimal point.
_DECIMAL_SAMPLE_ROWS = 200
_COMMA_DECIMAL = re.compile(r"[+-]?(?:[1-9]\d{0,2}(?:\.\d{3})+|\d*),\d+(?:[eE][+-]?\d+)?")
_POINT_DECIMAL = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")
#: "1.565" beside "3,14": a thousands point, not a decimal one ("0.125" never is).
_POINT_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+")
#: "45,678" reads both ways (45678 or 45.678): no evidence of a decimal comma.
_COMMA_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+")


#: A number of a decimal-comma file whose point groups thousands: "1.234", "-12.345,6"
#: (and plain "980" or "3,5" beside them). "05.01.2020" and "1.2.3" are not.
_GROUPED_NUMBER = re.compile(r"[+-]?(?:[1-9]\d{0,2}(?:\.\d{3})+|\d+)(?:,\d+)?")


class _Reading:
    """How a file was read: ``read_csv``'s arguments and the columns of numbers with
    thousands points converted after it (``--code`` repeats both)."""

    def __init__(self, options=None, grouped=()):
        self.options = dict(options or {})
        self.grouped = list(grouped)

    def describe(self):
        """``sep=';', decimal=','; thousands points in 'anzahl'``, or "" for a plain read."""
        text = _arguments(self.options)[2:]
        if self.grouped:
            text += f"; numbers with thousands points in {_column_list(self.grouped, 5)}"
        return text

    def code(self, path):
        """Python lines that read ``path`` as it was read, into ``frame``."""
        read = f"read_csv({path!r}{_arguments(self.options)})" if _is_csv(path) else (
            f"read_parquet({path!r})"
        )
        lines = [f"frame = pd.{read}"]
        if self.grouped:
            lines += [
                "# numbers with thousands points (1.234,5), read column by column",
                f"for column in {self.grouped!r}:",
                "    frame[column] = pd.to_numeric(",
                "        frame[column].str.replace('.', '', regex=False)"
                ".str.replace(',', '.', regex=False)",
                "    )",
            ]
        return "\n".join(lines)


def _grouped_columns(frame):
    """Text columns of a decimal-comma file whose every value is a number with thousands
    points ("1.234,5"), some with a point.

    Decided column by column: ``read_csv(thousands=".")`` would drop the points of
    every field of the file, so that the date "05.01.2020" became 5012020 and the
    version "1.2.3" became 123.
    """
    grouped = []
    for column in frame.columns:
        if frame[column].dtype.kind in "biufcmM" or str(frame[column].dtype) == "category":
            continue
        values = frame[column].dropna()
        if not len(values) or not all(isinstance(value, str) for value in values):
            continue
        values = [value.strip() for value in values]
        if any("." in value for value in values) and all(
            _GROUPED_NUMBER.fullmatch(value) for value in values
        ):
            grouped.append(column)
    return grouped


def _read_grouped(column):
    """Numbers written "1.234,5" as floats (the expression --code prints, too)."""
    import pandas as pd

    return pd.to_numeric(
        column.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    )


def _csv_separator(path):
    """``,`` unless the header line has none and holds one of the other separators.

    Read from the header alone: a column name seldom holds a separator, where a
    row's text often does (csv.Sniffer, which reads rows, is fooled by them).
    """
    with open(path, encoding="utf-8", errors="replace", newline="") as file:
        header = file.readline()
    if "," in header:
        return ","
    counts = {separator: header.count(separator) for separator in _OTHER_SEPARATORS}
    separator = max(counts, key=counts.get)
    return separator if counts[separator] else ","


def _decimal_marks(path, separator):
    """How many of the first rows' fields are numbers written 3,14 (or 1.565,65; not
    45,678, which reads both ways), 3.14, and 1.565 (a point that may group thousands)."""
    comma = point = thousands = 0
    with open(path, encoding="utf-8", errors="replace", newline="") as file:
        rows = csv.reader(file, delimiter=separator)
        next(rows, None)  # the header
        for row in itertools.islice(rows, _DECIMAL_SAMPLE_ROWS):
            for field in row:
                field = field.strip()
                comma += bool(_COMMA_DECIMAL.fullmatch(field)) and not bool(
                    _COMMA_THOUSANDS.fullmatch(field)
                )
                point += bool(_POINT_DECIMAL.fullmatch(field))
                thousands += bool(_POINT_THOUSANDS.fullmatch(field))
    return comma, point, thousands


def _csv_reading(path):
    """``(read_csv arguments, mixed)`` for the file, from one look at its first rows.

    The arguments: its separator and, for a file not separated by commas, a
    decimal comma when the first rows' numbers are written "3,14" and every point
    in a number groups thousands ("1.565,65"). European spreadsheets write both
    ';' and decimal commas; read with a decimal point, every such number would be
    text. Thousands points are not an argument (``thousands="."`` applies to every
    field, dates too): :func:`_grouped_columns` finds their columns after reading.
    ``mixed``: numbers are written both ways, so the file is read with points (and
    :func:`_read_table` warns).
    """
    separator = _csv_separator(path)
    if separator == ",":
        return {}, False
    comma, point, thousands = _decimal_marks(path, separator)
    if comma and point == thousands:
        return {"sep": separator, "decimal": ","}, False
    return {"sep": separator}, bool(comma) and point > thousands


def _is_csv(path):
    return path is not None and path.lower().endswith(".csv")


def _arguments(options):
    """``read_csv``'s keyword arguments as Python source: ``, sep=';', decimal=','``."""
    return "".join(f", {key}={value!r}" for key, value in options.items())


def _column_list(columns, limit=8):
    # repr for a name with spaces around it, so that " a " is seen as such
    return shorten(
        (column if column == column.strip() else repr(column) for column in columns), limit
    )


def _modality_columns(name, selection, columns, known):
    """Columns selected by one SPEC: a comma list of names and globs, in order, no repeats."""
    selected = {}
    for raw in selection.split(","):
        # a column whose name has spaces around it (" a ") is named as it is
        item = raw if raw in known else raw.strip()
        if not item:
            continue
        if any(char in item for char in _GLOB_CHARACTERS):
            # fnmatchcase: the same (case-sensitive) matching on every platform
            matched = [column for column in columns if fnmatch.fnmatchcase(column, item)]
            if not matched:
                raise UsageError(
                    f"--modality {name}: pattern {item!r} matches no column; "
                    f"columns are {_column_list(columns)}"
                )
        elif item in known:
            matched = [item]
        else:
            raise UsageError(
                f"--modality {name}: unknown column {item!r}; columns are {_column_list(columns)}"
            )
        selected.update(dict.fromkeys(matched))
    if not selected:
        raise UsageError(
            f"--modality {name}: the modality is empty; "
            f"list its columns after '=', e.g. {name}=a,b"
        )
    return list(selected)


def _parse_modalities(specs, columns):
    """``--modality NAME=SPEC`` options as ``{name: [column names]}``."""
    known = set(columns)
    modalities = {}
    for spec in specs:
        name, sep, selection = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(
                f"--modality {spec!r}: expected NAME=SPEC, e.g. --modality image='img_*'"
            )
        if "__" in name:
            raise UsageError(
                f"--modality {spec!r}: modality names cannot contain '__'; rename {name!r}"
            )
        if name in modalities:
            raise UsageError(f"--modality: {name!r} is given twice; give each modality once")
        modalities[name] = _modality_columns(name, selection, columns, known)
    return modalities


def _modality_name(column, columns):
    """A column's name as a modality name: '__' (reserved for nested parameters) becomes '_'
    (with a suffix if that name is taken by another column)."""
    if "__" not in column:
        return column
    name = column
    while "__" in name:
        name = name.replace("__", "_")
    taken = set(columns) - {column}
    base, k = name, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    return name


def _feature_matrix(frame, used):
    non_numeric = [column for column in used if frame[column].dtype.kind not in "biuf"]
    if non_numeric:
        column = non_numeric[0]
        raise UsageError(
            f"column {column!r} is not numeric (dtype {frame[column].dtype}); "
            "encode it or leave it out of every --modality"
        )
    _check_finite(frame, used)
    return frame[used].to_numpy(dtype=float, na_value=np.nan)


def _check_finite(frame, used):
    """Refuse a column of numbers holding inf (pandas reads the text "inf" as one),
    naming it, before any fit fails on "Input X contains infinity" naming none."""
    for column in used:
        if frame[column].dtype.kind == "f" and np.isinf(frame[column].to_numpy(dtype=float, na_value=np.nan)).any():
            raise UsageError(f"column {column!r} holds infinite values; replace them first")


def _check_missing(X, spec, used):
    """A modality missing in every row is refused (it holds nothing to learn from).

    Whole missing modalities are fine (fusion handles them), and so are NaN cells
    in rows where their modality is present: every built-in strategy sets them to
    their column's training mean (see the missing-modalities user guide).
    """
    if not np.isnan(X).any():
        return
    positions = {name: np.asarray(columns) for name, columns in spec.items()}
    present = presence_mask(X, positions)
    for j, name in enumerate(positions):
        if not present[:, j].any():
            raise UsageError(
                f"modality {name!r} is empty in every row (columns "
                f"{_column_list([used[c] for c in positions[name]], 3)}); leave it out"
            )


def _used_columns(modalities):
    """The columns in some modality, in order, and the modalities as positions among them."""
    used = list(dict.fromkeys(column for selected in modalities.values() for column in selected))
    position = {column: i for i, column in enumerate(used)}
    spec = {
        name: [position[column] for column in selected] for name, selected in modalities.items()
    }
    return used, spec


def _load_file(args):
    """The table's features (a numeric matrix, or the raw DataFrame when some modality
    needs encoding), the target, the modalities, the plan, and the file's rows without
    the target with how the file was read (for --save-best and --code)."""
    if args.target is None:
        raise UsageError("--data needs --target COLUMN, the column to predict")
    frame, reading = _read_table(args.data)
    columns = list(frame.columns)
    if args.target not in columns:
        raise UsageError(
            f"--target: unknown column {args.target!r}; columns are {_column_list(columns)}"
        )
    features = [column for column in columns if column != args.target]
    if not features:
        raise UsageError(f"--data: {args.data} has no column besides the target {args.target!r}")
    target = frame[args.target]
    if target.isna().any():
        raise UsageError(
            f"--target {args.target!r} has {int(target.isna().sum())} missing values; "
            "drop those rows first"
        )
    plan = _plan(frame[features], args)
    used = [column for selected in plan.modalities.values() for column in selected]
    if all(frame[column].dtype.kind in "biuf" for column in used):
        # numbers only: the numeric path, which needs no encoder library
        used, spec = _used_columns(plan.modalities)
        X = _feature_matrix(frame, used)
        _check_missing(X, spec, used)
        return X, target.to_numpy(), spec, plan, (frame[features], reading)
    _check_finite(frame, used)
    return frame[features], target.to_numpy(), plan, plan, (frame[features], reading)


def _plan(features, args):
    """The modalities: inferred from the table, or the --modality groups (nothing else)."""
    from .tables import infer_modalities

    groups = None
    if args.modality:
        groups = _parse_modalities(args.modality, [*features.columns, args.target])
        for name, selected in groups.items():
            if args.target in selected:
                raise UsageError(
                    f"--modality {name}: it selects the target column {args.target!r}; "
                    "leave it out"
                )
    named = {column for selected in (groups or {}).values() for column in selected}
    exclude = [column for column in features.columns if column not in named] if groups else None
    plan = infer_modalities(features, groups=groups, exclude=exclude)
    if not plan.modalities:
        raise UsageError(
            f"--data: no column of {args.data} can be used ("
            + "; ".join(f"{column}: {why}" for column, why in list(plan.excluded.items())[:3])
            + "); give the modalities with --modality"
        )
    return plan


def _load_bundled(args):
    if args.target is not None:
        raise UsageError("--target needs --data FILE; the bundled digits' target is the digit")
    from .datasets import load_mfeat

    bunch = load_mfeat()
    columns = [str(name) for name in bunch.feature_names]
    X = np.asarray(bunch.data, dtype=float)
    if not args.modality:
        spec = {name: [int(c) for c in positions] for name, positions in bunch.modalities.items()}
        return X, np.asarray(bunch.target), spec, None, None
    selected = _parse_modalities(args.modality, columns)
    used, _ = _used_columns(selected)
    position = {column: i for i, column in enumerate(columns)}
    unused = [column for column in columns if column not in set(used)]
    if unused and not args.quiet:
        print(
            f"note: {len(unused)} column(s) are in no --modality and are not used: "
            f"{_column_list(unused, 5)}",
            file=sys.stderr,
        )
    # Positions in the whole matrix (its other columns are never read), so that the
    # saved model and the --code take load_mfeat's matrix as it is.
    spec = {name: [position[column] for column in names] for name, names in selected.items()}
    return X, np.asarray(bunch.target), spec, None, None


# --------------------------------------------------------------------------- #
# Checks before running                                                       #
# --------------------------------------------------------------------------- #
def _parse_strategies(text, spec):
    from .model_selection._strategies import STRATEGY_NAMES, torch_available

    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise UsageError("--strategies: give at least one strategy name")
    if names == ["default"]:
        return "default"
    known = ", ".join(STRATEGY_NAMES)
    for name in names:
        if name.startswith("single:"):
            modality = name[len("single:") :]
            if modality not in spec:
                raise UsageError(
                    f"--strategies: {name!r} names an unknown modality; modalities are {_column_list(list(spec))}"
                )
        elif name not in STRATEGY_NAMES:
            raise UsageError(
                f"--strategies: unknown strategy {name!r}; choose from default, {known}, single:NAME"
            )
        elif name == "intermediate" and not torch_available():
            raise UsageError(
                "--strategies: 'intermediate' needs torch and skorch; `pip install \"skfusion[torch]\"` or leave it out"
            )
    if len(set(names)) < len(names):
        raise UsageError("--strategies: a strategy is listed twice; list each once")
    return names


def _parse_scoring(text):
    if text is None:
        return None
    from sklearn.metrics import get_scorer_names

    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise UsageError("--scoring: give at least one scorer name, e.g. accuracy,f1_macro")
    known = set(get_scorer_names())
    for name in names:
        if name not in known:
            raise UsageError(
                f"--scoring: unknown scorer {name!r}; see sklearn.metrics.get_scorer_names() for the names"
            )
    if len(set(names)) < len(names):
        raise UsageError("--scoring: a scorer is listed twice; list each once")
    return names[0] if len(names) == 1 else names


def _print_task(y, task, given):
    from .model_selection._compare import whole_number_quantity

    detail = "a quantity"
    codes = whole_number_quantity(y) if task == "regression" and given == "auto" else None
    if codes:
        detail += f": {codes} distinct whole numbers"
    if task == "classification":
        classes = np.unique(y)
        detail = f"{classes.size} classes"
        if classes.size <= 10:  # shown, so that 'yes' beside ' yes' or 'Yes' is seen
            detail += ": " + ", ".join(repr(_plain(label)) for label in classes)
    origin = "--task" if given != "auto" else "read from the target; change it with --task"
    print(f"task: {task} ({detail}; {origin})", file=sys.stderr)


def _plain(label):
    """A numpy scalar as the Python value it holds (repr ``1``, not ``np.int64(1)``)."""
    return label.item() if isinstance(label, np.generic) else label


def _is_numeric(y):
    if y.dtype.kind in "iufb":
        return True
    try:
        y.astype(np.float64)
        return True
    except (TypeError, ValueError):
        return False


def _check_target(y, task, cv, name=None):
    """The task (given or read from ``y``), or a UsageError saying why ``y`` is no target."""
    from .model_selection._compare import _infer_task

    column = "the target" if name is None else f"column {name!r}"
    given = f"--task {task}: " if task != "auto" else "--target: "
    if y.dtype.kind in "mM" or (y.dtype.kind == "O" and any(hasattr(v, "tzinfo") for v in y[:5])):
        # fitting a regressor on dates fails mid-comparison with a numpy ufunc error
        raise UsageError(
            f"--target: {column} holds dates or durations; predict a number or a class "
            "derived from them (e.g. the year, the weekday) put in a column of its own"
        )
    distinct = np.unique(y.astype(str) if y.dtype.kind == "O" else y)
    if distinct.size == 1:
        raise UsageError(
            f"--target: {column} is constant (every row holds {_plain(distinct[0])!r}); "
            "there is nothing to predict"
        )
    numeric = _is_numeric(y)
    if not numeric and distinct.size > len(y) / 2:
        raise UsageError(
            f"--target: {column} is not a usable target: text with {distinct.size} distinct "
            f"values in {len(y)} rows (too many to learn as classes, and not numbers)"
        )
    if not numeric and task == "regression":
        example = next(value for value in y if not _is_numeric(np.asarray([value])))
        raise UsageError(
            f"--task regression: {column} holds text ({_plain(example)!r}), not numbers; "
            f"leave --task out to predict its {distinct.size} classes"
        )
    try:
        task = _infer_task(y, task)
    except ValueError as exc:
        # the message ends a sentence (and may already name the task to choose)
        raise UsageError(f"--target: {_one_line(exc).rstrip('.')}; set --task") from None
    if task == "classification":
        classes, counts = np.unique(y, return_counts=True)
        if classes.size > len(y) / 2:
            raise UsageError(
                f"{given}{column} has {classes.size} distinct values in "
                f"{len(y)} rows, too many classes to learn; if it is a quantity, use "
                "--task regression"
            )
        if counts.min() < cv:
            smallest = _plain(classes[counts.argmin()])
            fix = (
                f"lower --cv to at most {counts.min()} or drop that class"
                if counts.min() >= 2
                else "drop that class (cross-validation needs two rows of each)"
            )
            raise UsageError(
                f"--cv {cv}: class {smallest!r} has only {counts.min()} "
                f"row{'s' if counts.min() != 1 else ''}; {fix} "
                "(or, if the target is a quantity, --task regression)"
            )
    elif len(y) < cv:
        raise UsageError(f"--cv {cv}: only {len(y)} rows; lower --cv")
    return task


def _check_outputs(args):
    for option, path in (
        ("--json", args.json), ("--plot", args.plot), ("--save-best", args.save_best)
    ):
        if path is None:
            continue
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise UsageError(
                f"{option}: folder {folder} does not exist; create it or choose another path"
            )
        if os.path.isdir(path):
            raise UsageError(f"{option}: {path} is a directory; give a file name")
    if args.plot is not None:
        try:
            import matplotlib
        except ImportError:
            raise UsageError(
                '--plot needs matplotlib; `pip install "skfusion[plot]"` or leave --plot out'
            ) from None
        matplotlib.use("Agg")  # no display needed: the figure goes to a file
        from matplotlib.figure import Figure

        suffix = os.path.splitext(args.plot)[1].lower().lstrip(".")
        supported = Figure().canvas.get_supported_filetypes()
        if suffix not in supported:
            raise UsageError(
                f"--plot: cannot write {suffix or 'a file without extension'!r}; use one of .{', .'.join(sorted(supported))}"
            )


# --------------------------------------------------------------------------- #
# Progress                                                                    #
# --------------------------------------------------------------------------- #
class _Progress:
    """compare_fusion's progress callback: a bar on a terminal, plain lines otherwise."""

    def __init__(self, stream):
        self.stream = stream
        self.tty = stream.isatty()
        self.start = time.perf_counter()
        self.width = 0

    def __call__(self, done, total, name):
        elapsed = time.perf_counter() - self.start
        if not self.tty:
            message = (
                f"done: {total} fits in {elapsed:.1f}s"
                if name is None
                else f"[{done}/{total}] {name} ({elapsed:.0f}s elapsed)"
            )
            print(message, file=self.stream, flush=True)
            return
        filled = round(24 * done / total)
        label = "done" if name is None else name
        line = f"[{'#' * filled}{'.' * (24 - filled)}] {done}/{total} {label}  {elapsed:.0f}s"
        self.stream.write("\r" + line.ljust(self.width))
        self.width = len(line)
        if name is None:
            self.stream.write("\n")
        self.stream.flush()


# --------------------------------------------------------------------------- #
# The command                                                                 #
# --------------------------------------------------------------------------- #
def _compare(args):
    from .model_selection import compare_fusion

    _check_outputs(args)
    loader = _load_file if args.data is not None else _load_bundled
    X, y, modalities, plan, source = loader(args)
    names = list(plan.modalities if plan is not None else modalities)
    strategies = _parse_strategies(args.strategies, names)
    scoring = _parse_scoring(args.scoring)
    task = _check_target(y, args.task, args.cv, args.target)
    if not args.quiet:  # what was decided, now that the command line is known to be right
        if source is not None and source[1].describe():
            print(f"read {args.data} with {source[1].describe()}\n", file=sys.stderr)
        if plan is not None:
            how = "given with --modality" if args.modality else "inferred from the table"
            print(f"modalities ({how}):\n{_plan_text(plan, X)}\n", file=sys.stderr)
        _print_task(y, task, args.task)
        if len(names) == 1:
            print(
                f"note: one modality ({names[0]!r}): every strategy fits the same columns, "
                "so the comparison shows no fusion; name two or more with --modality "
                "NAME=COLUMNS\n",
                file=sys.stderr,
            )
    result = compare_fusion(
        X,
        y,
        modalities,
        strategies,
        cv=args.cv,
        scoring=scoring,
        n_jobs=args.n_jobs,
        task=task,
        random_state=args.random_state,
        progress=None if args.quiet else _Progress(sys.stderr),
    )
    print(result.to_string())
    if result.best_ is None and (args.save_best is not None or args.code):
        option = "--save-best" if args.save_best is not None else "--code"
        raise UsageError(
            f"{option}: no strategy has a score (each failed on every fold), so there is no "
            "best strategy"
        )
    if args.json is not None:
        payload = result.to_dict()
        payload["data"] = args.data if args.data is not None else "bundled:mfeat"
        payload["modalities"] = {name: len(columns) for name, columns in _spec(modalities).items()}
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(payload, stream, indent=2)
    if args.plot is not None:
        display = result.plot()
        display.figure_.savefig(args.plot, dpi=120, bbox_inches="tight")
    if args.save_best is not None:
        _save_best(result, X, y, plan, source, args.save_best, quiet=args.quiet)
    if args.code:
        print("\n" + _best_code(result, args, X, plan, source))
    return 0


def _plan_text(plan, X):
    """The plan with the encoding the comparison uses: the default TableFusion's on a
    raw table (TF-IDF only: no sentence embedding), the strategies' own on numbers
    (each branch standardises its columns; no TableVectorizer runs)."""
    if hasattr(X, "columns"):
        text = "TF-IDF of word unigrams and bigrams (terms of two texts or more)"
        return plan.to_string({"text": text})
    numbers = "numbers standardised, empty cells the column's training mean"
    return plan.to_string({"tabular": numbers, "embedding": numbers})


def _spec(modalities):
    """``{name: columns}`` of a specification or a ModalityPlan."""
    return getattr(modalities, "modalities", modalities)


def _file_model(estimator, X, plan):
    """The best strategy as a model of the file's rows, target left out (a DataFrame).

    The comparison of an all-numbers table runs on a matrix of the modalities'
    columns in the plan's order, which need not be the file's; a model fitted on
    it would read a DataFrame of the file's rows by position, i.e. the wrong
    columns. A ColumnTransformer selecting the columns by name first makes it read
    the same rows as the model of a mixed table (which encodes the DataFrame).
    """
    if plan is None or hasattr(X, "columns"):
        return estimator
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    used, _ = _used_columns(plan.modalities)
    # an identity that reads each column as float, as the comparison's matrix did
    # ("passthrough" refuses a nullable Int64 column's empty cells, pandas.NA)
    as_float = StandardScaler(with_mean=False, with_std=False)
    select = ColumnTransformer([("columns", as_float, used)])
    return Pipeline([("select", select), ("model", estimator)])


def _save_best(result, X, y, plan, source, path, *, quiet):
    """Refit the best strategy on every row and save it (skops, or a pickle by suffix)."""
    from sklearn.base import clone

    model = clone(_file_model(result.estimators_[result.best_], X, plan))
    model.fit(X if source is None else source[0], y)
    if os.path.splitext(path)[1].lower() in (".joblib", ".pkl", ".pickle"):
        import joblib

        joblib.dump(model, path)
        how = "a pickle: load it only if you trust the file (joblib.load)"
    else:
        from . import persistence

        try:
            persistence.dump(model, path)
        except (TypeError, ValueError, ImportError) as exc:
            raise UsageError(
                f"--save-best: cannot save {result.best_!r} with skops ({_one_line(exc)}); "
                "use a .joblib path for a pickle"
            ) from None
        untrusted = persistence.untrusted_types(path)
        how = "load it with skfusion.persistence.load(path" + (
            f", trusted=...) once you have reviewed the {len(untrusted)} types that "
            "skfusion.persistence.untrusted_types(path) lists"
            if untrusted
            else ")"
        )
    expects = (
        f"load_mfeat's matrix of {X.shape[1]} columns"
        if source is None
        else "a DataFrame of the file's rows without the target column, read by column name"
    )
    if not quiet:
        print(
            f"saved {result.best_!r}, refitted on all {len(y)} rows, to {path}; it predicts "
            f"from {expects}; {how}",
            file=sys.stderr,
        )


def _best_code(result, args, X, plan, source):
    """Python that loads the data and rebuilds and fits the best strategy (the model
    --save-best saves)."""
    from ._utils.code import estimator_code

    if source is None:
        load = "from skfusion.datasets import load_mfeat\n\nX, y = load_mfeat(return_X_y=True)"
    else:
        load = (
            f"import pandas as pd\n\n{source[1].code(args.data)}\n"
            f"X = frame.drop(columns=[{args.target!r}])\ny = frame[{args.target!r}]"
        )
    code = estimator_code(_file_model(result.estimators_[result.best_], X, plan))
    return (
        f"# the best strategy, {result.best_!r}, as compared (refit it on all rows):\n"
        f"{load}\n\n{code}\nmodel.fit(X, y)"
    )


def main(argv=None):
    """Run the ``skfusion`` command; returns the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        0 on success, 2 for a usage or data error (after a one-line message
        on stderr).

    Examples
    --------
    >>> from skfusion.cli import main
    >>> main(["compare", "--data", "no-such-file.csv", "--target", "y"])
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: choose a command, e.g. `{PROG} compare`", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():  # restores showwarning on the way out
            warnings.showwarning = partial(_show_warning, f"{PROG} {args.command}")
            return _compare(args)
    except (UsageError, ValueError, TypeError, OSError) as exc:
        # skfusion raises ValueError/TypeError for data it cannot use, naming the column
        # or modality at fault, and OSError is an output that cannot be written (no
        # permission, a full disk): for the command line, user errors too
        print(f"{PROG} {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
