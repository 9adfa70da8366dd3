"""Checkpoint and resume: a run that stops and continues equals one that never stopped, bit for bit.

What "equal" means here: every output file byte for byte, except the two that hold wall-clock
times (``summary.json``'s ``*wall_s`` fields and ``criticality.parquet``'s ``wall_s`` column), which
differ between two uninterrupted runs as well; those are compared with the wall times removed.
In-process checks compare the whole captured state (every array and counter) after the resume.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from neuroabm.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from neuroabm.checkpoint.model_state import capture_model
from neuroabm.cli import app
from neuroabm.config import validate_params
from neuroabm.config.toml_io import to_toml
from neuroabm.model.model import NeuroModel
from neuroabm.model.subsystem import Subsystem
from neuroabm.recorders import spikes as spike_module
from neuroabm.runner import Checkpoints, resume_directory, run_to_directory

NET = dict(n_exc=160, n_inh=40, k_exc=16, k_inh=4, j_mv=0.5, eta=1.6, dt_ms=0.1, seed=5)
#: dopamine (feedback, excitability, fixed and contingent rewards), STDP, structural plasticity,
#: graph records and snapshots, voltages and the criticality recorder: every part with state
PLASTIC = dict(
    NET, kernel="gaussian", sigma_mm=0.25, record_v=3, criticality_period_ms=5000,
    dopamine=True, n_sites=4, grid_n=16, feedback_gain=1e-4, da_excitability_mv=0.5, field_record_ms=100,
    reward_pair=[1, 2], reward_window_ms=50.0, reward_delay_min_ms=10.0, reward_delay_max_ms=300.0,
    reward_times_ms=[100.0, 2500.0], reward_period_ms=900.0,
    plasticity=True, plasticity_period_ms=300, structural=True, struct_period_ms=200, growth_hz=2.0,
    graph_period_ms=200, snapshot_period_ms=1000,
)  # fmt: skip
#: the other neuron model, drives and synapse models (their own state: u, pulses, resources)
OTHERS = {
    "izhikevich": dict(NET, neuron_model="izhikevich", drive="current", i_ext_mv_per_ms=5.0, j_mv=2.0, t_ref_ms=0.0,
                       v_init="rest"),
    "pulse-depressing": dict(NET, leak=False, drive="pulse", pulse_mv=10.0, pulse_period_ms=1.0, j_mv=3.0,
                             synapse_model="depressing", t_ref_ms=0.0),
    "white-noise-quantal": dict(NET, drive="white_noise", mu_mv=18.0, sigma_mv=4.0, quantal="cleft"),
}  # fmt: skip
WALL = "wall_s"
#: summary fields measured with a clock (and the checkpoint count, which a resumed run does not share)
TIMED = {"build_s", "realtime_factor", "events_per_s", "checkpoints"}


def without_wall(value):
    """A JSON value with every wall-clock field removed (they differ between any two runs)."""
    if isinstance(value, dict):
        return {k: without_wall(v) for k, v in value.items() if WALL not in k and k not in TIMED}
    if isinstance(value, list):
        return [without_wall(v) for v in value]
    return value


def assert_same_run(a: Path, b: Path) -> None:
    """Every file of run folder ``a`` equals ``b``'s byte for byte (wall times aside)."""
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        if rel.name == "summary.json":
            sa, sb = (json.loads((d / rel).read_text()) for d in (a, b))
            assert without_wall(sa) == without_wall(sb)
        elif rel.name == "criticality.parquet":
            fa, fb = (pd.read_parquet(d / rel).drop(columns=[WALL]) for d in (a, b))
            pd.testing.assert_frame_equal(fa, fb, check_exact=True)
        else:
            assert (a / rel).read_bytes() == (b / rel).read_bytes(), f"{rel} differs"


def state_of(model: NeuroModel) -> tuple[dict, dict]:
    state, arrays = capture_model(model)
    return without_wall(state), {k: v for k, v in arrays.items() if WALL not in k}


@pytest.mark.parametrize(
    "params", [NET, PLASTIC, *OTHERS.values()], ids=["static", "plastic", *OTHERS]
)  # fmt: skip
def test_a_restored_model_continues_exactly_as_the_original(params, tmp_path):
    stop_ms, end_ms = 1300, 3000  # the stop falls between reward, plasticity and structure events
    original = NeuroModel(**params, duration_ms=end_ms)
    for _ in range(stop_ms):
        original.step()
    save_checkpoint(original, tmp_path)
    resumed = load_checkpoint(NeuroModel(**params, duration_ms=end_ms), tmp_path)
    while original.running:
        original.step()
    while resumed.running:
        resumed.step()
    (s1, a1), (s2, a2) = state_of(original), state_of(resumed)
    assert json.dumps(s1, sort_keys=True) == json.dumps(s2, sort_keys=True)  # NaN equals NaN here
    assert a1.keys() == a2.keys()
    for name in a1:
        assert np.array_equal(a1[name], a2[name], equal_nan=True), name
    for x, y in zip(original.spikes(), resumed.spikes(), strict=True):
        assert np.array_equal(x, y)
    assert np.array_equal(original.synapse_weights(), resumed.synapse_weights())
    assert original.spike_totals.sum() > 1000  # the network did something
    if params is PLASTIC:  # the run did what the test is about: rewards, growth and pruning happened
        assert len(original.dopamine.rewards.delivered_ms) >= 4
        assert original.plasticity.structure.history


def test_events_sharing_a_time_keep_their_order(tmp_path):
    """Mesa orders events of one time and priority by creation: a restore keeps that order."""
    model = NeuroModel(**PLASTIC, duration_ms=2000)
    for _ in range(100):
        model.step()
    save_checkpoint(model, tmp_path)
    fresh = load_checkpoint(NeuroModel(**PLASTIC, duration_ms=2000), tmp_path)

    def pending(m):
        events = sorted(e for e in m._event_list._events if not e.CANCELED)
        return [(e.time, e.priority, e.fn().__func__.__qualname__) for e in events]

    assert pending(model) == pending(fresh)
    assert len({t for t, _, _ in pending(model)}) < len(pending(model))  # some do share a time


def test_state_that_cannot_be_saved_is_named_not_dropped(tmp_path):
    class Tally(Subsystem):
        name = "tally"

        def __init__(self) -> None:
            self.seen = {1, 2}  # a set: not plain data

    model = NeuroModel(**NET, duration_ms=10)
    model.attach(Tally())
    with pytest.raises(CheckpointError, match=r"subsystems\[\d+\]\.seen: a builtins.set"):
        save_checkpoint(model, tmp_path)
    assert not (tmp_path / "checkpoint.npz").exists()


class Killed(BaseException):
    """Stands for SIGKILL in-process: nothing after it runs (no cleanup that a kill would skip)."""


def test_spikes_flushed_across_checkpoints_join_into_the_same_file(tmp_path, monkeypatch):
    """A small spike buffer flushes many times between checkpoints; a kill after the second one loses nothing."""
    monkeypatch.setattr(spike_module.SpikeRecorder.__init__, "__defaults__", (4096, 50_000_000))
    params = validate_params({**PLASTIC, "duration_ms": 3000, "checkpoint_period_ms": 700})
    run_to_directory(params, tmp_path / "ref", progress=False)
    assert pd.read_parquet(tmp_path / "ref" / "spikes.parquet").shape[0] > 5 * 4096

    save = Checkpoints.save

    def save_then_die(self):
        path = save(self)
        if self.n_written == 2:
            for _ in range(150):  # a while on, past the checkpoint: these steps are lost and redone
                self.model.step()
            raise Killed
        return path

    monkeypatch.setattr(Checkpoints, "save", save_then_die)
    with pytest.raises(Killed):
        run_to_directory(params, tmp_path / "run", progress=False)
    monkeypatch.setattr(Checkpoints, "save", save)
    assert not (tmp_path / "run").exists()
    resume_directory(tmp_path / "run", progress=False)
    assert_same_run(tmp_path / "ref", tmp_path / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ref", "run"]  # the staging folder is gone


# ------------------------------------------------------------------------------ the command line
def toml(params: dict) -> str:
    return to_toml(validate_params(params))


def cli(*args: str, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    return subprocess.Popen(
        [sys.executable, "-m", "neuroabm", "run", *args, "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **kwargs,
    )  # fmt: skip


def wait_for_checkpoint(out: Path, proc: subprocess.Popen, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not list(out.parent.glob(f".{out.name}.partial-*/checkpoint.npz")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("params", "seed"), [(dict(NET, n_exc=800, n_inh=200, k_exc=80, k_inh=20), 1), (PLASTIC, 2)],
    ids=["static", "dopamine-stdp-structural"],
)  # fmt: skip
def test_a_run_killed_at_a_random_moment_resumes_to_the_same_outputs(params, seed, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(toml({**params, "duration_ms": 4000, "checkpoint_period_ms": 500}))
    reference = cli(str(config), "--out", str(tmp_path / "ref"))
    assert reference.wait() == 0, reference.communicate()

    out = tmp_path / "run"
    proc = cli(str(config), "--out", str(out))
    wait_for_checkpoint(out, proc)
    delay = np.random.default_rng(seed).uniform(0.0, 1.5)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    resumed = cli("--resume", str(out))
    assert resumed.wait() == 0, (delay, resumed.communicate())
    assert_same_run(tmp_path / "ref", out)
    assert not list(tmp_path.glob(".run.partial-*"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sigint_and_sigterm_checkpoint_and_say_how_to_resume(sig, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(toml({**NET, "duration_ms": 100_000, "checkpoint_period_ms": 0}))
    out = tmp_path / "run"
    proc = cli(str(config), "--out", str(out))
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".run.partial-*/spikes.parts")):  # the loop has started
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    time.sleep(1.0)  # well into the loop (the handlers are set just before it)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    lines = [line for line in err.strip().splitlines() if not line.startswith("building ")]
    assert proc.returncode == 128 + sig, err
    assert len(lines) == 1 and f"neuroabm run --resume {out}" in lines[0] and signal.Signals(sig).name in lines[0]
    assert list(tmp_path.glob(".run.partial-*/checkpoint.npz")) and not out.exists()


def test_resume_refuses_with_one_line_when_there_is_nothing_to_resume(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(toml({**NET, "duration_ms": 20}))
    runner = CliRunner()
    missing = runner.invoke(app, ["run", "--resume", str(tmp_path / "never")])
    assert missing.exit_code == 2 and "no checkpoint" in missing.stderr and len(missing.stderr.splitlines()) == 1
    assert runner.invoke(app, ["run", str(config), "--out", str(tmp_path / "done"), "--no-progress"]).exit_code == 0
    done = runner.invoke(app, ["run", "--resume", str(tmp_path / "done")])
    assert done.exit_code == 2 and "complete run" in done.stderr
    both = runner.invoke(app, ["run", str(config), "--resume", str(tmp_path / "done")])
    assert both.exit_code == 2 and "--resume takes the configuration" in both.stderr


def test_resume_refuses_a_run_that_is_still_running(tmp_path):
    staging = tmp_path / f".run.partial-{os.getppid()}"  # a live process that is not this one
    staging.mkdir()
    (staging / "checkpoint.npz").write_bytes(b"")
    result = CliRunner().invoke(app, ["run", "--resume", str(tmp_path / "run")])
    assert result.exit_code == 2 and "still being written" in result.stderr
    assert staging.exists()


def test_a_corrupt_checkpoint_is_one_line(tmp_path):
    staging = tmp_path / f".run.partial-{2**22 + 7}"  # above the kernel's pid_max: no such process
    staging.mkdir()
    (staging / "checkpoint.npz").write_bytes(b"not a zip file")
    (staging / "config.toml").write_text(toml({**NET, "duration_ms": 20}))
    result = CliRunner().invoke(app, ["run", "--resume", str(tmp_path / "run")])
    assert result.exit_code == 2 and "cannot be read" in result.stderr and len(result.stderr.splitlines()) == 1
