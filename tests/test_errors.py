"""Bad input to the commands a user runs on a committed agent: one ``error:`` line naming the file or flag and
the bad value, exit 2, nothing written, no cost recorded, before any slow start-up."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "reports" / "results" / "doom"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})


def _error_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and len(lines) == 1, (result.returncode, result.stderr[-2000:])
    return lines[0]


@pytest.fixture(scope="module")
def run_copy(tmp_path_factory) -> Path:
    """A copy of the committed Doom folder: what the README tells a user to re-score."""
    copy = tmp_path_factory.mktemp("committed") / "doom"
    shutil.copytree(COMMITTED, copy)
    return copy


def _snapshot(folder: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("content, says", [
    ('{"params": "oops"}', '"params" must be a list of numbers'),
    ('{"generation": 3}', 'has no "params" field'),
    ('{"params": [0.1, 0.2]}', "needs a list of 1088"),
    ("[1, 2", "is not JSON"),
])
def test_bad_controller_file_is_refused_before_start_up(run_copy, tmp_path, content, says):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    before = _snapshot(run_copy)
    result = _run("controller", "evaluate", "--run-dir", str(run_copy), "--params", str(bad))
    line = _error_line(result)
    assert str(bad) in line and says in line
    # Refused before the run's settings line, which comes before models load and workers start.
    assert "[worldmodels]" not in result.stdout, result.stdout
    assert _snapshot(run_copy) == before  # no evaluation, no timings part


def test_missing_run_dir_names_it(tmp_path):
    missing = tmp_path / "nowhere"
    line = _error_line(_run("controller", "evaluate", "--run-dir", str(missing)))
    assert str(missing) in line and "does not exist" in line and not missing.exists()


def test_config_errors_name_the_file_and_the_field(run_copy, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    config = json.loads((run_copy / "config.json").read_text())
    config["es"]["population_size"] = "many"
    (broken / "config.json").write_text(json.dumps(config))
    line = _error_line(_run("controller", "evaluate", "--run-dir", str(broken)))
    assert str(broken / "config.json") in line and "es.population_size" in line and "'many'" in line


@pytest.mark.parametrize("args, says", [(["--video", "agent.txt"], "use a .gif or .mp4"),
                                        (["--video", "a.gif", "--frames", "0"], "--frames and --fps")])
def test_bad_video_request_is_refused_before_playing(run_copy, tmp_path, args, says):
    before = _snapshot(run_copy)
    line = _error_line(_run("controller", "evaluate", "--run-dir", str(run_copy), *args))
    assert says in line and _snapshot(run_copy) == before


def test_failed_commands_record_no_cost(tmp_path):
    """timings.json counts work that is in the results: a stage that fails records nothing, an interrupted
    resumable stage (its work is kept) records its part, an interrupted evaluation (it starts over) does not."""
    from common.timing import read_timings, stage_timer

    with pytest.raises(ValueError):
        with stage_timer(tmp_path, "evaluate", resumable=False):
            raise ValueError("bad controller file")
    with pytest.raises(KeyboardInterrupt):
        with stage_timer(tmp_path, "evaluate", resumable=False):
            raise KeyboardInterrupt
    assert read_timings(tmp_path) == {}
    with pytest.raises(SystemExit):
        with stage_timer(tmp_path, "rnn_train"):
            raise SystemExit(143)  # SIGTERM, as common.cli turns it
    with stage_timer(tmp_path, "evaluate", resumable=False):
        pass
    timings = read_timings(tmp_path)
    assert set(timings) == {"rnn_train", "evaluate"} and timings["evaluate"]["parts"] == 1


def test_dotted_flag_works_beside_its_alias_and_help_shows_the_applied_value(run_copy):
    helped = _run("controller", "evaluate", "--run-dir", str(run_copy), "--help")
    assert helped.returncode == 0 and len(helped.stdout.splitlines()) <= 80
    assert "--evaluate.episodes" in helped.stdout and "--es.population_size" not in helped.stdout
    assert "(default 1.15)" in helped.stdout  # the run's τ, not the dataclass default 1.0
    for flag in ("--collect.episodes", "--episodes"):
        result = _run("envs", "collect", "--experiment", "doom", "--run-dir", "/nonexistent/x", flag, "-3")
        assert "collect.episodes must be >= 1" in _error_line(result)
