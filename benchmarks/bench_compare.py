"""Wall time and peak memory of ``skfusion compare`` (default strategies) on load_mfeat.

Each run is a fresh ``python`` process, measured from outside: wall time with
``time.perf_counter`` around it, peak resident memory with
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a wrapper process whose
only child is the run, and CPU time (user + system) from the same call. Both
sides pin BLAS/OpenMP to one thread through the environment (``compare_fusion``
also does it internally).

Baseline, measured in the same invocation: scikit-learn's ``cross_validate`` of
StandardScaler + LogisticRegression on all 649 columns with the same 5 folds,
i.e. the cost of the single cheapest sensible model, including interpreter
start-up and imports. The ratios say what comparing all strategies costs on
top of that.

Usage::

    python benchmarks/bench_compare.py [--cv 5] [--strategies default] [--repeats 1]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BASELINE = """
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skfusion.datasets import load_mfeat

mfeat = load_mfeat()
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300))
scores = cross_validate(model, mfeat.data, mfeat.target, cv={cv}, scoring="accuracy")
print(f"accuracy {{scores['test_score'].mean():.3f}}")
"""

# Runs the measured command as its only child and reports that child's peak RSS.
WRAPPER = """
import resource, subprocess, sys
completed = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(completed.stderr)
sys.stdout.write(completed.stdout)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print("__usage__", usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
sys.exit(completed.returncode)
"""


def _environment():
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _measure(command):
    """(wall seconds, peak RSS in MiB, CPU seconds, stdout) of one fresh process."""
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command],
        capture_output=True,
        text=True,
        env=_environment(),
        cwd=ROOT,
    )
    wall = time.perf_counter() - start
    if completed.returncode != 0:
        sys.exit(
            f"benchmark command failed ({completed.returncode}): {' '.join(command)}\n{completed.stderr}"
        )
    output, _, usage = completed.stdout.rpartition("__usage__")
    rss, cpu = usage.split()
    return wall, int(rss) / 1024, float(cpu), output


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--strategies", default="default")
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs of each side; the best wall time is kept"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "compare.json")
        compare = [
            sys.executable,
            "-m",
            "skfusion",
            "compare",
            "--quiet",
            "--cv",
            str(args.cv),
            "--strategies",
            args.strategies,
            "--json",
            out,
        ]
        baseline = [sys.executable, "-c", BASELINE.format(cv=args.cv)]
        runs = {"baseline": [], "compare": []}
        for _ in range(args.repeats):
            runs["baseline"].append(_measure(baseline))
            runs["compare"].append(_measure(compare))
        with open(out, encoding="utf-8") as stream:
            result = json.load(stream)

    best = {name: min(measures, key=lambda m: m[0]) for name, measures in runs.items()}
    print(
        f"skfusion compare on load_mfeat (2000 x 649, 6 modalities), {args.cv}-fold CV, "
        f"strategies={args.strategies}, BLAS threads pinned to 1, {os.cpu_count()} CPUs, "
        f"best of {args.repeats}"
    )
    print()
    header = f"{'run':<58} {'wall (s)':>9} {'CPU (s)':>8} {'peak RSS (MiB)':>15}"
    print(header)
    print("-" * len(header))
    for name, label in (
        ("baseline", "baseline: cross_validate(StandardScaler+LogisticRegression)"),
        ("compare", "skfusion compare (python -m skfusion compare)"),
    ):
        wall, rss, cpu, _ = best[name]
        print(f"{label:<58} {wall:>9.1f} {cpu:>8.1f} {rss:>15.0f}")
    ratios = [best["compare"][i] / best["baseline"][i] for i in (0, 2, 1)]
    print(
        f"{'ratio compare / baseline':<58} {ratios[0]:>8.1f}x {ratios[1]:>7.1f}x {ratios[2]:>14.2f}x"
    )
    print("(wall time includes waiting for a core when the machine is shared; CPU time does not)")
    print()
    total = sum(entry["fit_time"]["mean"] for entry in result["strategies"]) * result["n_splits"]
    print(
        f"{'strategy':<16} {'accuracy':>9} {'fit s/fold':>11} {'share of fit time':>18} {'predict ms/1k':>14}"
    )
    for entry in result["strategies"]:
        fit = entry["fit_time"]["mean"]
        print(
            f"{entry['name']:<16} {entry['scores'][result['primary_metric']]['mean']:>9.3f} {fit:>11.2f} "
            f"{fit * result['n_splits'] / total:>17.0%} {entry['predict_ms_per_1k']['mean']:>14.1f}"
        )
    print()
    print(
        f"baseline {best['baseline'][3].strip()}; best strategy {result['best']}, "
        f"best single modality {result['best_single']}"
    )


if __name__ == "__main__":
    main()
