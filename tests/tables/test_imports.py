"""The tables extra stays optional: what importing skfusion and skfusion.tables loads."""

import subprocess
import sys

HEAVY = ("torch", "matplotlib", "skrub", "sentence_transformers", "transformers")


def _loaded_after(statement):
    code = f"import sys; {statement}; print([m for m in {HEAVY!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_import_skfusion_imports_no_encoder_library():
    assert _loaded_after("import skfusion") == "[]"


def test_import_skfusion_tables_imports_skrub_and_sentence_transformers_only_when_used():
    assert _loaded_after("import skfusion.tables; from skfusion.tables import infer_modalities") == "[]"


def test_without_skrub_the_tabular_encoder_names_the_extra(tmp_path):
    (tmp_path / "skrub.py").write_text("raise ImportError('No module named skrub')\n")
    code = (
        "import pandas as pd; from skfusion.tables import TableEncoder;"
        "TableEncoder().fit(pd.DataFrame({'a': [1.0, 2.0], 'b': ['x', 'y']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{tmp_path}:{':'.join(sys.path)}"},
    )
    assert result.returncode != 0
    assert 'pip install "skfusion[tables]"' in result.stderr
