"""``run_cleft``: one synapse, many releases, a run folder of tables, summary and figure.

The command ``neuroabm cleft CONFIG --out DIR [--trials N] [--seed S]`` calls :func:`run_cleft`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuroabm.cleft.analysis import first_passage_frame, occupation_frame, receptors_frame, summarize
from neuroabm.cleft.params import load_cleft_config
from neuroabm.cleft.report import write_cleft_report
from neuroabm.cleft.simulate import simulate
from neuroabm.exports.atomic import write_text_atomic
from neuroabm.exports.tables import write_json, write_parquet

__all__ = ["OUTPUT_FILES", "run_cleft"]

#: the files a run writes into its folder
OUTPUT_FILES = ("first_passage.parquet", "occupation.parquet", "receptors.parquet", "summary.json", "report.png")


def run_cleft(
    config_path: Path | None,
    out: Path,
    trials: int | None = None,
    seed: int | None = None,
    overrides: dict[str, Any] | None = None,
    report: bool = True,
) -> dict[str, Any]:
    """Simulate the synapse of ``config_path`` (defaults if None) and write the run folder ``out``.

    Every file is written atomically (temporary file, then rename). ``trials`` and ``seed`` override
    the config's ``trials`` and ``seed``; ``overrides`` any other cleft parameter by name.

    Args:
        config_path: a TOML file like ``runs/cleft/synapse.toml``, or None for the defaults.
        out: the run folder (created if needed).
        trials: number of releases (None: the config's).
        seed: seed of all random streams (None: the config's).
        overrides: parameter values that replace the config's (validated the same way).
        report: also draw ``report.png``.

    Returns:
        The summary (also written as ``summary.json``).

    Raises:
        neuroabm.config.params.ConfigError: one line naming a bad parameter and its allowed range.

    """
    extra = dict(overrides or {})
    if trials is not None:
        extra["trials"] = trials
    if seed is not None:
        extra["seed"] = seed
    p = load_cleft_config(config_path, **extra)
    res = simulate(p)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_parquet(first_passage_frame(res), out / "first_passage.parquet")
    write_parquet(occupation_frame(res), out / "occupation.parquet")
    write_parquet(receptors_frame(res), out / "receptors.parquet")
    summary = summarize(res)
    summary["config"] = str(config_path) if config_path is not None else None
    write_json(summary, out / "summary.json")
    write_text_atomic(out / "params.json", p.model_dump_json(indent=2) + "\n")
    if report:
        write_cleft_report(res, out / "report.png")
    return summary
