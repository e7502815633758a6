"""Stages forked from the preloaded helper (reports/preloaded.py) behave as ``python -m`` subprocesses: the same
output, exit codes, exceptions, and signals."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from reports import preloaded
from reports.reproduce import Launcher, stage_env

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not preloaded.available(), reason="forked stages are Linux-only")


@pytest.fixture(scope="module")
def helper():
    helper = preloaded.Helper(stage_env())
    yield helper
    helper.close()


def _forked(helper, *args: str) -> tuple[int, str]:
    proc = helper.start([sys.executable, "-m", *args])
    out = proc.stdout.read().decode()
    return proc.wait(), out


def _fresh(*args: str) -> tuple[int, str]:
    result = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=stage_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=120)
    return result.returncode, result.stdout


@pytest.mark.parametrize("args", [
    ("controller", "evaluate", "--help"),  # exit 0, argparse's text
    ("controller", "evaluate", "--run-dir", "/nonexistent/run"),  # the project's one-line error, exit 2
    ("json.tool", "/nonexistent.json"),  # an uncaught error: exit 1, its message
])
def test_forked_stage_is_the_command_line(helper, args):
    assert _forked(helper, *args) == _fresh(*args)


def test_tensorflow_runs_in_forked_stages(helper):
    """TensorFlow's runtime starts in each child (the helper never started it), so every fork can run ops."""
    stage = ("timeit", "-n", "1", "-r", "1", "-s", "import tensorflow as tf",
             "print('sum', float(tf.reduce_sum(tf.ones([3]))))")
    for _ in range(2):
        code, out = _forked(helper, *stage)
        assert code == 0 and "sum 3.0" in out, out


def test_terminate_reaches_the_stage(helper):
    proc = helper.start([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"])
    time.sleep(1.0)
    proc.terminate()
    assert proc.wait(timeout=30) == -15


def test_launcher_without_preload_runs_fresh_processes(monkeypatch):
    monkeypatch.setenv("WM_PRELOAD", "0")
    launcher = Launcher()
    proc = launcher.start([sys.executable, "-m", "controller", "evaluate", "--help"])
    assert isinstance(proc, subprocess.Popen)
    assert proc.stdout.read() and proc.wait() == 0
    launcher.close()


def test_launcher_falls_back_to_fresh_processes_when_the_helper_dies(capsys):
    launcher = Launcher()
    try:
        first = launcher.start([sys.executable, "-m", "controller", "evaluate", "--help"])
        assert isinstance(first, preloaded.ForkedStage) and first.stdout.read() and first.wait() == 0
        launcher._helper._proc.kill()
        launcher._helper._proc.wait()
        second = launcher.start([sys.executable, "-m", "controller", "evaluate", "--help"])
        assert isinstance(second, subprocess.Popen) and second.stdout.read() and second.wait() == 0
        assert "stages run as fresh processes" in capsys.readouterr().out
    finally:
        launcher.close()
