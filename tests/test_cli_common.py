"""Config and command-line plumbing (common/config.py, common/cli.py) through ``python -m envs collect``:
bad input exits with code 2 and one line, before anything is written."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from common import cli
from common.config import ConfigError, make_config
from envs.__main__ import main

ROOT = Path(__file__).resolve().parents[1]


def run_main(argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code


@pytest.mark.parametrize("args", [
    ["--experiment", "pong"],
    ["--experiment", "doom", "--preset", "huge"],
    ["--experiment", "doom", "--episodes", "-1"],
    ["--experiment", "doom", "--collect.workers", "0"],
    ["--experiment", "doom", "--collect.max_frames", "-5"],
    ["--experiment", "doom", "--collect.episodes", "ten"],
    ["--experiment", "doom", "--collect.min_frames", "3000"],  # >= max_frames
    ["--experiment", "carracing", "--controller.inputs", "zch"],
    ["--experiment", "doom", "--env.doom_skill", "6"],
    ["--experiment", "doom", "--env.doom_skill", "0"],
    ["--experiment", "doom", "--no-such-flag", "1"],
    [],  # no experiment and no run to take it from
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, args):
    run_dir = tmp_path / "run"
    assert run_main(["collect", "--run-dir", str(run_dir), *args]) == 2
    assert not run_dir.exists()
    err = capsys.readouterr().err.strip()
    assert err and (len(err.splitlines()) == 1 or "usage:" in err)


def test_run_dir_of_another_experiment_is_refused(tmp_path, capsys):
    run_dir = tmp_path / "run"
    cli.save_run_config(make_config("doom", "tiny"), run_dir)
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    assert run_main(["collect", "--experiment", "carracing", "--run-dir", str(run_dir)]) == 2
    assert "holds a doom run" in capsys.readouterr().err
    assert run_main(["collect", "--run-dir", str(run_dir), "--vae.z_size", "16"]) == 2  # shape change
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before


def test_run_dir_that_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    assert run_main(["collect", "--experiment", "doom", "--run-dir", str(target)]) == 2
    assert target.read_text() == "x"


def test_subprocess_error_is_one_line(tmp_path):
    run_dir = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "envs", "collect", "--experiment", "doom", "--episodes", "-3",
                             "--run-dir", str(run_dir)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and not run_dir.exists()
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error: collect.episodes")


def test_presets_and_overrides():
    tiny = make_config("doom", "tiny", {"collect.episodes": "7"})
    assert tiny.collect.episodes == 7 and tiny.collect.min_frames == 20 and tiny.env.max_steps == 300
    paper = make_config("doom", "paper")
    assert (paper.collect.episodes, paper.collect.max_frames, paper.collect.min_frames) == (10000, 2100, 100)
    car = make_config("carracing", "tiny")
    assert car.collect.max_frames == 120 and car.env.env_id == "worldmodels/CarRacing64-v0"
    with pytest.raises(ConfigError):
        make_config("doom", "tiny", {"collect.nope": 1})
    with pytest.raises(ConfigError):
        make_config("doom", "tiny", {"nosection.x": 1})


def test_existing_run_supplies_experiment_and_values(tmp_path):
    run_dir = tmp_path / "run"
    cli.save_run_config(make_config("doom", "tiny", {"collect.episodes": "5"}), run_dir)
    args = [a for a in ["collect", "--run-dir", str(run_dir)]]
    from envs.__main__ import build_parser
    cfg, resolved = cli.resolve(build_parser().parse_args(args))
    assert cfg.experiment == "doom" and cfg.preset == "tiny" and cfg.collect.episodes == 5
    assert resolved == run_dir
    assert json.loads((run_dir / "config.json").read_text())["experiment"] == "doom"
