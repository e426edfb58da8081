"""README's code blocks run as written, and its two set-up commands are what CI expects."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_python_blocks_run(capsys):
    namespace = {}
    for block in _blocks("python"):
        exec(compile(block, str(README), "exec"), namespace)
    search, vote = namespace["search"], namespace["vote"]
    # the grid search really fitted, and the learned vote weights are a distribution
    assert search.best_score_ > 0.6
    assert abs(sum(vote.weights_.values() if isinstance(vote.weights_, dict) else vote.weights_) - 1) < 1e-9
    assert "fusion__block_scaling" in capsys.readouterr().out


def test_readme_opens_with_exactly_two_setup_commands():
    commands = _blocks("bash")
    assert len(commands) == 2
    assert "python -m skfusion" in commands[0]
    assert "torch==2.13.0" in commands[1] and "pytest" in commands[1] and "[all]" in commands[1]


def test_readme_data_example_reads_a_file_the_repository_ships():
    """The ``--data`` example runs after README's first command, from the repository root."""
    pd = pytest.importorskip("pandas")
    commands = [line for block in _blocks("console") for line in block.splitlines() if "--data" in line]
    assert commands, "README shows no `skfusion compare --data` example"
    for command in commands:
        data = re.search(r"--data (\S+)", command).group(1)
        target = re.search(r"--target (\S+)", command).group(1)
        path = README.parent / data
        assert path.is_file(), f"README's --data path {data} does not exist"
        table = pd.read_csv(path)
        assert target in table.columns and table[target].notna().all()
        strings = [column for column in table if not pd.api.types.is_numeric_dtype(table[column])]
        assert len(table) >= 500 and len(strings) >= 3
