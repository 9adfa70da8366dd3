"""Command line: ``neuroabm run CONFIG [--out DIR] [--set KEY=VALUE ...] [--seed N]``."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from neuroabm.config import ConfigError, load_config, parse_assignment, validate_params

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="neuroabm: spiking networks with diffusing dopamine."
)


#: build cost per synapse [s] on the 2-core reference machine (10^9 synapses in 73 s; README benchmarks)
BUILD_S_PER_SYNAPSE = 7.5e-8


def build_message(params: Any) -> str:
    """What is about to be built and roughly how long it takes (printed before the silent build)."""
    n = params.n_exc + params.n_inh
    syn = n * (n - 1) if params.connectivity == "all_to_all" else n * (params.k_exc + params.k_inh)
    secs = max(1.0, syn * BUILD_S_PER_SYNAPSE * (3 if params.kernel == "gaussian" else 1))
    return (
        f"building {n:,} neurons and {syn:,} synapses (about {secs:.0f} s; the first run on a machine also "
        "compiles the kernels, about a minute)"
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _checkpoint_kept(out_dir: Path) -> bool:
    """Whether an interrupted run into ``out_dir`` left a checkpoint that --resume can continue."""
    from neuroabm.runner import CHECKPOINT_FILE

    return any((p / CHECKPOINT_FILE).is_file() for p in out_dir.absolute().parent.glob(f".{out_dir.name}.partial-*"))


def _fail(msg: str) -> None:
    """One line on stderr, exit code 2 (control characters in echoed user input are escaped)."""
    one_line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in msg)
    typer.echo(f"error: {one_line}", err=True)
    raise typer.Exit(2)


@app.command()
def run(
    config: Annotated[Path | None, typer.Argument(help="TOML run configuration (not with --resume)")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="output folder \\[default: <config dir>/out/<name>]")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override a parameter, KEY=VALUE (repeatable)")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (overrides the config)")] = None,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print the memory estimate and exit")] = False,
    force: Annotated[bool, typer.Option("--force", help="replace a non-empty output folder as a whole")] = False,
    resume: Annotated[
        Path | None, typer.Option("--resume", help="continue the interrupted run into this folder from its checkpoint")
    ] = None,
) -> None:
    """Simulate a configuration and write config.toml, neurons/spikes/metrics.parquet, summary.json, report.png.

    The memory a configuration needs is estimated first; one that cannot fit is refused. A
    checkpoint is written every checkpoint_period_ms and on Ctrl-C or SIGTERM; --resume OUT continues.
    """
    from neuroabm.model.memory import available_bytes, check_fits, estimate_memory

    if resume is not None:
        if config is not None or set_ or seed is not None or force or dry_run:
            _fail("--resume takes the configuration from the checkpoint: give only --resume OUT (and --no-progress)")
        _run_or_resume(None, resume, progress, force=False)
        return
    if config is None:
        _fail("give a TOML run configuration (neuroabm run CONFIG), or --resume OUT to continue an interrupted run")
    try:
        values = load_config(config)
        for item in set_ or []:
            key, value = parse_assignment(item)
            values[key] = value
        if seed is not None:
            values["seed"] = seed
        params = validate_params(values)
    except ConfigError as exc:
        _fail(str(exc))
    if dry_run:
        typer.echo(f"memory estimate ({params.n_exc + params.n_inh:,} neurons):")
        typer.echo(estimate_memory(params).describe())
        typer.echo(f"  {'available':<22} {available_bytes() / 2**30:8.3f} GiB")
        return
    try:
        check_fits(params)
    except ConfigError as exc:
        _fail(str(exc))
    out_dir = out if out is not None else config.parent / "out" / config.stem
    _run_or_resume(params, out_dir, progress, force)


def _run_or_resume(params: Any, out_dir: Path, progress: bool, force: bool) -> None:
    """Run ``params`` into ``out_dir`` (or, with ``params`` None, resume it); one line for every way it can stop."""
    from neuroabm.checkpoint import CheckpointError
    from neuroabm.exports.run_folder import RunFolderError
    from neuroabm.runner import RunInterrupted, resume_directory, run_to_directory  # loads once the input is valid

    signal.signal(signal.SIGTERM, _interrupt)  # a scheduler's SIGTERM ends the run like Ctrl-C
    again = f"neuroabm run --resume {out_dir}"
    try:
        if params is None:
            summary = resume_directory(
                out_dir, progress=progress,
                on_build=lambda p, t: typer.echo(f"resuming from t = {t:g} ms; {build_message(p)}", err=True),
            )  # fmt: skip
        else:
            announce = lambda: typer.echo(build_message(params), err=True)  # noqa: E731
            summary = run_to_directory(params, out_dir, progress=progress, force=force, on_build=announce)
    except RunInterrupted as exc:
        typer.echo(f"interrupted ({exc}): checkpoint written in {exc.folder}; continue with: {again}", err=True)
        raise typer.Exit(128 + exc.signum) from None
    except KeyboardInterrupt:
        if _checkpoint_kept(out_dir):
            typer.echo(f"interrupted: the last checkpoint is kept; continue with: {again}", err=True)
        else:
            typer.echo(f"interrupted: the partial run was removed and {out_dir} is unchanged; run it again", err=True)
        raise typer.Exit(130) from None
    except (ConfigError, RunFolderError, CheckpointError) as exc:  # ConfigError: raised while building
        _fail(str(exc))
    except OSError as exc:  # a write failed: disk full, permissions
        kept = f"the last checkpoint is kept; after fixing it: {again}" if _checkpoint_kept(out_dir) else (
            f"nothing was written to {out_dir}")  # fmt: skip
        _fail(f"cannot write {exc.filename or out_dir}: {exc.strerror or exc}; {kept}")
    keys = ("n_neurons", "n_synapses", "rate_hz", "theory_rate_hz", "theory_rate_basis", "cv_isi", "wall_s",
            "events_per_s")  # fmt: skip
    typer.echo(json.dumps({k: summary[k] for k in keys}, indent=1))
    typer.echo(f"wrote {out_dir}")


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="a run folder written by 'neuroabm run' (with plasticity)")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="graphml, gexf or parquet")] = "graphml",
    at: Annotated[float | None, typer.Option("--at", help="snapshot time \\[ms]; default: the last one")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="output file \\[default: RUN_DIR/graph_<t>ms.<fmt>]")
    ] = None,
) -> None:
    """Export a graph snapshot of a run as GraphML, GEXF or Parquet node/edge tables."""
    from neuroabm.exports.graph import FORMATS, write_graph
    from neuroabm.exports.snapshots import find_snapshot, read_snapshot

    if fmt not in FORMATS:
        _fail(f"--format = {fmt!r}: allowed {', '.join(FORMATS)}")
    from neuroabm.exports.run_folder import require_complete

    try:
        require_complete(run_dir)
        t_ms, stem = find_snapshot(run_dir, at)
        target = out if out is not None else run_dir / f"graph_{t_ms:.0f}ms.{fmt}"
        if target.is_dir():
            _fail(f"--out {target} is a folder: give a file name (e.g. {target / ('graph.' + fmt)})")
        nodes, edges = read_snapshot(stem)
        paths = write_graph(nodes, edges, target, fmt)  # type: ignore[arg-type]
    except (FileNotFoundError, ValueError) as exc:  # includes a corrupt snapshot (pyarrow raises ValueError kinds)
        _fail(str(exc).splitlines()[0] if str(exc) else repr(exc))
    except OSError as exc:  # incomplete folder, read-only folder, full disk
        _fail(f"cannot write {exc.filename or target}: {exc.strerror or exc}" if exc.errno else str(exc))
    for path in paths:
        typer.echo(f"wrote {path}")


@app.command()
def analyze(
    run_dir: Annotated[Path, typer.Argument(help="a run folder written by 'neuroabm run'")],
    subsample: Annotated[
        int | None, typer.Option(help="analyse avalanches on this many randomly chosen neurons", min=1)
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the subsample")] = 0,
) -> None:
    """Avalanches, power laws, branching ratios and first passage vs theory: analysis.json, analysis.png."""
    from neuroabm.analysis.run_analysis import analyze_run
    from neuroabm.exports.run_folder import require_complete

    try:
        require_complete(run_dir)
        result = analyze_run(run_dir, subsample=subsample, seed=seed)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc).splitlines()[0] if str(exc) else repr(exc))
    except OSError as exc:  # incomplete folder, read-only folder, full disk
        _fail(f"cannot write into {exc.filename or run_dir}: {exc.strerror or exc}" if exc.errno else str(exc))
    a, f = result["avalanches"], result["first_passage"]
    short = {
        "n_avalanches": a["n_avalanches"],
        "tau": [a["tau"], a["tau_err"]],
        "alpha": [a["alpha"], a["alpha_err"]],
        "gamma": [a["gamma"], a["gamma_err"]],
        "gamma_range": [a.get("gamma_t_min"), a.get("gamma_t_max")],
        "m_conventional": a["m_conventional"],
        "m_mr": a["m_mr"],
        "mean_fpt_ms": f.get("mean_fpt_ms"),
        "theory_mean_fpt_ms": f.get("theory_mean_fpt_ms"),
    }
    short |= {k: v for k, v in a.items() if k.endswith("_reason") or k == "suggestion"}  # why a value is NaN
    typer.echo(json.dumps(short, indent=1, default=float))
    typer.echo(f"wrote {run_dir / 'analysis.json'} and {run_dir / 'analysis.png'}")


#: the browser app, shipped in the package (``neuroabm/viz/``): works from any install, editable or not
VIZ_APP = Path(__file__).resolve().parent / "viz" / "app.py"
#: addresses that keep the app on this machine
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command()
def viz(
    config: Annotated[Path | None, typer.Argument(help="TOML run configuration \\[default: the app's own]")] = None,
    port: Annotated[int, typer.Option(help="port to serve on (0: any free port)", min=0, max=65535)] = 8765,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
) -> None:
    """Watch the model live in the browser (Mesa SolaraViz): torus, raster, graph, avalanches, sliders."""
    import os

    if host not in LOOPBACK:
        typer.echo(f"warning: --host {host} serves the app beyond this machine; it has no authentication", err=True)
    if not VIZ_APP.is_file():
        _fail(f"the browser app {VIZ_APP} is missing: the installed package is incomplete (reinstall neuroabm)")
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    env.pop("NEUROABM_VIZ_CONFIG", None)
    if config is not None:
        try:
            validate_params(load_config(config))  # fail here rather than in the browser
        except ConfigError as exc:
            _fail(str(exc))
        env["NEUROABM_VIZ_CONFIG"] = str(config.resolve())  # read by neuroabm/viz/components/controls.py
    cmd = [sys.executable, "-m", "solara", "run", str(VIZ_APP), "--host", host, "--port", str(port)]
    cmd += ["--no-open", "--production", "--no-check-version"]  # offline: no browser, no PyPI query
    typer.echo(f"neuroabm viz: serving on http://{host}:{port}/ (Ctrl-C stops)")
    sys.stdout.flush()
    # the server replaces this process: a SIGTERM or Ctrl-C to 'neuroabm viz' reaches it directly
    os.execve(sys.executable, cmd, env)


@app.command()
def cleft(
    config: Annotated[Path | None, typer.Argument(help="cleft TOML \\[default: the built-in synapse]")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="output folder")] = Path("out/cleft"),
    trials: Annotated[int | None, typer.Option(help="release trials \\[default: the config's]", min=1)] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (overrides the config)", min=0)] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override a cleft parameter, KEY=VALUE (repeatable)")
    ] = None,
) -> None:
    """One synapse molecule by molecule: first_passage/occupation/receptors.parquet, summary.json, report.png."""
    import tomllib

    overrides: dict[str, object] = {}
    for item in set_ or []:
        key, sep, raw = (s.strip() for s in item.partition("="))
        if not sep:
            _fail(f"--set expects KEY=VALUE, got {item!r}")
        try:
            overrides[key] = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            overrides[key] = raw
    from neuroabm.cleft.runner import run_cleft

    try:
        summary = run_cleft(config, out, trials=trials, seed=seed, overrides=overrides)
    except ConfigError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {exc.filename or out}: {exc.strerror or exc}")
    typer.echo(json.dumps(summary, indent=1, default=float))
    typer.echo(f"wrote {out}")


@app.command()
def sweep(
    sweep_file: Annotated[
        Path, typer.Argument(help="sweep TOML: base run, \\[set], \\[grid], seeds (see runs/sweeps/)")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="sweep folder: results.parquet, phase.png, points/")],
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address, e.g. tcp://host:8786 \\[default: a local cluster]")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="local workers \\[default: from the cores]", min=1)] = None,
    threads_per_worker: Annotated[
        int | None, typer.Option(help="numba threads per local worker (workers x threads <= cores)", min=1)
    ] = None,
    keep_spikes: Annotated[
        bool, typer.Option("--keep-spikes", help="keep every point's spikes, graph snapshots and report.png")
    ] = False,
) -> None:
    """Run a parameter sweep on Dask, resumably: a run folder per point and one results.parquet row each."""
    from neuroabm.sweep.runner import run_sweep

    try:
        run_sweep(sweep_file, out, scheduler, workers, threads_per_worker, keep_spikes)  # prints its own summary
    except (ConfigError, ValueError) as exc:  # SweepError is a ConfigError
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {exc.filename or out}: {exc.strerror or exc}")


@app.command()
def params() -> None:
    """List every parameter with its section, default and allowed range."""
    from neuroabm.config.params import SECTIONS, Params, _allowed

    for section, names in SECTIONS.items():
        typer.echo(f"[{section}]")
        for name in names:
            f = Params.model_fields[name]
            typer.echo(f"  {name} = {f.default!r}  ({_allowed(name)}) - {f.description}")


def main() -> None:
    """Entry point of the ``neuroabm`` script."""
    app()


if __name__ == "__main__":
    sys.exit(main())
