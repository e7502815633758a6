"""The final agent among the run's candidate Cs (controller/choose.py): the best on the validation seeds."""
from __future__ import annotations

import json
import os

import pytest

from common import atomic
from common.config import ConfigError, make_config
from common.run_layout import RunLayout
from controller import choose
from controller.evaluate import result_path
from reports.reproduce import CHOSEN, Stage


def _candidate(run, tag, temperature, mean, episodes=100):
    files = RunLayout(run).controller(tag)
    files.dir.mkdir(parents=True, exist_ok=True)
    atomic.write_json(files.best, {"params": [0.0], "temperature": temperature, "generation": 10})
    path = result_path(files.dir, False, None, split="validation")
    atomic.write_json(path, {"mean": mean, "std": 10.0, "episodes": episodes, "scores": [mean] * episodes})
    return path


@pytest.fixture
def run(tmp_path):
    cfg = make_config("doom", "tiny", {"evaluate.temperatures": "1.00,1.30"})
    atomic.write_text(RunLayout(tmp_path).config, cfg.to_json() + "\n")
    return cfg, tmp_path


def test_the_best_on_validation_is_chosen_and_the_choice_is_written(run):
    cfg, run_dir = run
    _candidate(run_dir, None, 1.15, 666.5)
    _candidate(run_dir, "tau1.00", 1.0, 690.0)
    _candidate(run_dir, "tau1.30", 1.3, 756.8)
    assert not choose.is_current(cfg, run_dir)
    choice = choose.choose(cfg, run_dir)
    assert (choice["tag"], choice["folder"], choice["temperature"]) == ("tau1.30", "controller-tau1.30", 1.3)
    assert [c["mean"] for c in choice["candidates"]] == [666.5, 690.0, 756.8]
    assert json.loads(RunLayout(run_dir).choice.read_text()) == choice
    assert choose.is_current(cfg, run_dir)
    # The final agent's test stages then run on that C, at the τ it was trained at.
    stage = Stage("evaluate", "controller", "evaluate", tag=CHOSEN).resolved(run_dir)
    assert stage.tag == "tau1.30" and dict(stage.settings) == {"es.temperature": "1.3"}
    assert Stage("evaluate", "controller", "evaluate").resolved(run_dir).tag is None


def test_a_tie_keeps_the_runs_own_c_and_a_new_score_makes_the_choice_stale(run):
    cfg, run_dir = run
    _candidate(run_dir, None, 1.15, 700.0)
    _candidate(run_dir, "tau1.00", 1.0, 700.0)
    _candidate(run_dir, "tau1.30", 1.3, 650.0)
    assert choose.choose(cfg, run_dir)["tag"] is None
    assert Stage("evaluate", "controller", "evaluate", tag=CHOSEN).resolved(run_dir).tag is None
    path = _candidate(run_dir, "tau1.30", 1.3, 800.0)  # re-scored after the choice
    stamp = RunLayout(run_dir).choice.stat().st_mtime
    os.utime(path, (stamp + 5, stamp + 5))
    assert not choose.is_current(cfg, run_dir)
    assert choose.choose(cfg, run_dir)["tag"] == "tau1.30"
    # Another τ table names other candidates: the old choice is not current for it.
    other = make_config("doom", "tiny", {"evaluate.temperatures": "1.30"})
    assert not choose.is_current(other, run_dir)


def test_a_candidate_not_scored_on_validation_is_refused_and_nothing_is_written(run):
    cfg, run_dir = run
    _candidate(run_dir, None, 1.15, 700.0)
    _candidate(run_dir, "tau1.00", 1.0, 690.0)
    with pytest.raises(ConfigError, match="controller-tau1.30"):
        choose.choose(cfg, run_dir)
    assert not RunLayout(run_dir).choice.exists()
