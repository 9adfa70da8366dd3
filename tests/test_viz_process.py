"""`neuroabm viz` is the server: stopping the command stops the server."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_sigterm_to_the_command_frees_the_port():
    port = free_port()
    cmd = [sys.executable, "-m", "neuroabm", "viz", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not listening(port):
            assert proc.poll() is None, "the server exited before listening"
            assert time.monotonic() < deadline, "the server did not start within 300 s"
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while listening(port):
            assert time.monotonic() < deadline, "the port is still served after SIGTERM"
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_public_host_is_warned_about():
    out = subprocess.run(
        [sys.executable, "-m", "neuroabm", "viz", "--host", "0.0.0.0", "--port", "1", "missing.toml"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2  # the missing config is refused, so no server starts
    warning, refusal = out.stderr.strip().splitlines()
    assert warning.startswith("warning: --host 0.0.0.0") and "no authentication" in warning
    assert refusal.startswith("error: config file not found")
