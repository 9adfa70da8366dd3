"""Every Python snippet of README.md runs as written, in order, in a fresh interpreter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"


def python_snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_the_snippets_users_paste():
    code = "\n".join(python_snippets())
    assert "NeuroModel(" in code and "mesa.batch_run(" in code and 'if __name__ == "__main__":' in code


@pytest.mark.slow
def test_readme_snippets_run_as_written(tmp_path):
    """One script from all snippets (later ones use earlier names); a hang fails after 15 minutes."""
    script = tmp_path / "readme_snippets.py"
    script.write_text("\n\n".join(python_snippets()), encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
