"""A script that would hang in mesa.batch_run (no __main__ guard) stops at once with one line."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from neuroabm._spawn_guard import unguarded_batch_run_line

UNGUARDED = """\
import mesa

from neuroabm import NeuroModel

rows = mesa.batch_run(NeuroModel, {"g": [4.0, 5.0], "duration_ms": 20.0}, rng=[1], number_processes=2)
"""


@pytest.mark.parametrize(
    ("source", "line"),
    [
        (UNGUARDED, 5),
        ("from mesa import batch_run\nbatch_run(M, {})\n", 2),  # a bare name, Mesa's default processes
        ("import mesa\nif True:\n    mesa.batch_run(M, {}, number_processes=None)\n", 2),
        ('if "__main__" == __name__:\n    mesa.batch_run(M, {})\n', None),  # guarded, either order
        ("def main():\n    mesa.batch_run(M, {})\n", None),  # inside a function
        ("mesa.batch_run(M, {}, number_processes=1)\n", None),  # one process: no pool, no hang
        ("rows = run(M)\n", None),
        ("this is not python\n", None),
    ],
)
def test_top_level_parallel_batch_run_calls_are_found(source, line):
    assert unguarded_batch_run_line(source) == line


def test_an_unguarded_script_stops_in_one_line_instead_of_hanging(tmp_path):
    """Without the check this script never returns (the pool restarts its dying workers forever)."""
    script = tmp_path / "sweep.py"
    script.write_text(UNGUARDED, encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sweep.py, line 5:") and '__name__ == "__main__"' in lines[0]


def test_a_guarded_script_is_left_alone(tmp_path):
    script = tmp_path / "ok.py"
    script.write_text(textwrap.dedent('''\
        import mesa
        from neuroabm import NeuroModel
        if __name__ == "__main__":
            print("guarded")
        '''), encoding="utf-8")  # fmt: skip
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == "guarded"
