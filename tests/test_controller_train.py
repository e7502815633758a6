"""`python -m controller train`: resume after kill -9 with the same CMA state, fast exit, bad input (exit 2)."""
import csv
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from common.config import ConfigError, make_config
from controller.backends import SyntheticBackend
from controller.es import CMAES, round_params
from controller.train import HISTORY_COLUMNS, candidate_fitness, restart, train

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "WORLDMODELS_TEST_FITNESS": "quadratic", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
ARGS = ["--experiment", "doom", "--preset", "tiny", "--controller.inputs", "z"]


def _cmd(run_dir, *extra):
    return [sys.executable, "-m", "controller", "train", *ARGS, "--run-dir", str(run_dir), *extra]


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_train_in_process_writes_contract_files(tmp_path):
    cfg = make_config("doom", "tiny", {"controller.inputs": "z", "es.generations": 4, "es.eval_every": 2})
    state = train(cfg, tmp_path, SyntheticBackend(cfg))
    assert state["generation"] == 4
    with open(tmp_path / "history.csv") as fh:
        assert fh.readline().strip() == ",".join(HISTORY_COLUMNS)
    evals = _rows(tmp_path / "eval_history.csv")
    assert [int(r["generation"]) for r in evals] == [2, 4]
    # first evaluation compares with generation 1's mean fitness (the authors' "prev")
    first_mean = float(_rows(tmp_path / "history.csv")[0]["fitness_mean"])
    assert float(evals[0]["prev_best_score"]) == pytest.approx(first_mean)


class RolloutLog(SyntheticBackend):
    """The synthetic fitness, remembering each generation's candidates and their seeds."""

    def __init__(self, cfg):
        super().__init__(cfg)
        self.params, self.seeds = [], []

    def rollouts(self, params, seeds):
        self.params.append(np.array(params))
        self.seeds.append([int(s) for s in seeds])
        return super().rollouts(params, seeds)


def test_shared_tracks_give_every_candidate_the_generations_seed(tmp_path):
    cfg = make_config("doom", "tiny", {"controller.inputs": "z", "es.generations": 2, "es.shared_tracks": True})
    backend = RolloutLog(cfg)
    train(cfg, tmp_path / "shared", backend)
    assert [len(set(g)) for g in backend.seeds] == [1, 1] and backend.seeds[0][0] != backend.seeds[1][0]
    authors = RolloutLog(make_config("doom", "tiny", {"controller.inputs": "z", "es.generations": 1}))
    train(authors.cfg, tmp_path / "authors", authors)
    half = len(authors.seeds[0]) // 2
    assert authors.seeds[0][:half] == authors.seeds[0][half:] and len(set(authors.seeds[0])) == half


def test_resume_refuses_another_track_rule_and_reads_older_states(tmp_path):
    cfg = make_config("doom", "tiny", {"controller.inputs": "z", "es.generations": 1})
    train(cfg, tmp_path, SyntheticBackend(cfg))
    more = make_config("doom", "tiny", {"controller.inputs": "z", "es.generations": 2, "es.shared_tracks": True})
    with pytest.raises(ConfigError, match="shared_tracks"):
        train(more, tmp_path, SyntheticBackend(more))
    # a state written before es.shared_tracks existed resumes as the authors' rule
    state = pickle.loads((tmp_path / "es_state.pkl").read_bytes())
    del state["settings"]["shared_tracks"]
    (tmp_path / "es_state.pkl").write_bytes(pickle.dumps(state))
    longer = make_config("doom", "tiny", {"controller.inputs": "z", "es.generations": 2})
    assert train(longer, tmp_path, SyntheticBackend(longer))["generation"] == 2


def test_resume_refuses_another_dream_ensemble(tmp_path):
    """es.dream_models is part of what a resumed dream run must share."""
    cfg = make_config("doom", "tiny", {"controller.inputs": "z", "es.generations": 1, "es.dream": True})
    train(cfg, tmp_path, SyntheticBackend(cfg))
    ensemble = make_config("doom", "tiny", {"controller.inputs": "z", "es.generations": 2, "es.dream": True,
                                            "es.dream_models": "runs/other"})
    with pytest.raises(ConfigError, match="dream_models"):
        train(ensemble, tmp_path, SyntheticBackend(ensemble))


def test_resume_refuses_another_negative_streak_and_the_dream_refuses_it(tmp_path):
    """es.negative_streak changes the fitness CMA-ES ranks by, so a resumed run must share it; the dream has no
    real-env rollouts to cut."""
    cfg = make_config("carracing", "tiny", {"controller.inputs": "z", "es.generations": 1})
    train(cfg, tmp_path, SyntheticBackend(cfg))
    cut = make_config("carracing", "tiny", {"controller.inputs": "z", "es.generations": 2, "es.negative_streak": 20})
    with pytest.raises(ConfigError, match="negative_streak"):
        train(cut, tmp_path, SyntheticBackend(cut))
    with pytest.raises(ConfigError, match="negative_streak"):
        make_config("doom", "tiny", {"es.dream": True, "es.negative_streak": 20})


class SpreadRollouts(SyntheticBackend):
    """The synthetic fitness f played as rollouts f - 1, f + 1, f + 3, ...: their mean is f + R - 2, their min f - 1."""

    def rollouts(self, params, seeds):
        returns, lengths = super().rollouts(params, seeds)
        return returns + np.arange(-1.0, 2.0 * returns.shape[1] - 1, 2.0), lengths


def test_es_fitness_min_ranks_candidates_by_their_worst_rollout(tmp_path):
    returns = np.array([[900.0, 500.0], [800.0, 780.0]])
    assert candidate_fitness(returns, "mean").tolist() == [700.0, 790.0]
    assert candidate_fitness(returns, "min").tolist() == [500.0, 780.0]
    rows = {}
    for how in ("mean", "min"):
        cfg = make_config("carracing", "tiny", {"controller.inputs": "z", "es.generations": 1, "es.fitness": how})
        train(cfg, tmp_path / how, SpreadRollouts(cfg))
        rows[how] = float(_rows(tmp_path / how / "history.csv")[0]["fitness_mean"])
    # the same candidates (same CMA seed), 2 rollouts each: mean f + 0, min f - 1
    assert rows["mean"] - rows["min"] == pytest.approx(1.0)
    more = make_config("carracing", "tiny", {"controller.inputs": "z", "es.generations": 2})
    with pytest.raises(ConfigError, match="fitness"):  # a resumed run must rank as it began
        train(more, tmp_path / "min", SyntheticBackend(more))
    with pytest.raises(ConfigError, match="es.fitness must be one of mean, min"):
        make_config("carracing", "tiny", {"es.fitness": "median"})


def test_resume_refuses_another_controller_z(tmp_path):
    """controller.z changes what C reads in the real game, so a resumed run must share it."""
    cfg = make_config("carracing", "tiny", {"controller.inputs": "z", "es.generations": 1})
    train(cfg, tmp_path, SyntheticBackend(cfg))
    mean = make_config("carracing", "tiny", {"controller.inputs": "z", "es.generations": 2, "controller.z": "mean"})
    with pytest.raises(ConfigError, match="'z'"):
        train(mean, tmp_path, SyntheticBackend(mean))


def test_init_from_starts_the_mean_at_a_best_json_and_resume_checks_its_content(tmp_path):
    cfg = make_config("doom", "tiny", {"controller.inputs": "z", "es.generations": 1})
    train(cfg, tmp_path / "first", SyntheticBackend(cfg))
    best = tmp_path / "first" / "best.json"
    start = np.asarray(json.loads(best.read_text())["params"])
    tuned = make_config("doom", "tiny", {"controller.inputs": "z", "es.generations": 1, "es.init_from": str(best),
                                         "es.sigma_init": 1e-6})
    backend = RolloutLog(tuned)
    train(tuned, tmp_path / "tuned", backend)
    # with a tiny sigma every candidate of the first generation sits on the given mean (rounded to 4 decimals)
    np.testing.assert_allclose(backend.params[0], np.broadcast_to(round_params(start), backend.params[0].shape),
                               atol=1e-3)
    # the same file by another path resumes; another start mean is refused
    copy = tmp_path / "copy.json"
    copy.write_text(best.read_text())
    longer = make_config("doom", "tiny", {"controller.inputs": "z", "es.generations": 2, "es.init_from": str(copy),
                                          "es.sigma_init": 1e-6})
    assert train(longer, tmp_path / "tuned", RolloutLog(longer))["generation"] == 2
    other = make_config("doom", "tiny", {"controller.inputs": "z", "es.generations": 3})
    with pytest.raises(ConfigError, match="init_from"):
        train(other, tmp_path / "tuned", SyntheticBackend(other))


def test_restart_starts_a_fresh_cma_at_the_kept_c_with_the_reached_sigma():
    cfg = make_config("doom", "tiny", {"controller.inputs": "z", "es.restart_at": 2, "es.generations": 4})
    old = CMAES(5, 0.3, 8, seed=0)
    for _ in range(3):  # move σ and the covariance away from their start
        candidates = old.ask()
        old.tell(candidates, -np.sum((candidates - 1.0) ** 2, axis=1))
    kept = np.array([0.1, -0.2, 0.3, -0.4, 0.5])
    fresh = restart(cfg, {"generation": 2, "best": kept, "best_score": 7.0}, old)
    np.testing.assert_allclose(fresh.mean, kept)
    assert fresh.sigma == pytest.approx(old.sigma) and old.sigma != pytest.approx(0.3)
    np.testing.assert_allclose(fresh.stds, old.sigma, rtol=1e-4)  # identity covariance: every coordinate at σ
    assert fresh.population_size == 8


def test_restart_runs_once_after_its_generation_and_resumes_across_it(tmp_path, capsys):
    def cfg_of(restart_at):
        return make_config("doom", "tiny", {"controller.inputs": "z", "es.generations": 5, "es.eval_every": 4,
                                            "es.restart_at": restart_at})

    train(cfg_of(2), tmp_path / "whole", SyntheticBackend(cfg_of(2)))
    assert capsys.readouterr().out.count("restart after generation 2") == 1
    # the C kept at the restart is evaluated there, although eval_every would not
    assert [int(r["generation"]) for r in _rows(tmp_path / "whole" / "eval_history.csv")] == [2, 4, 5]
    # killed after the restart's generation: the resumed run restarts the same way and matches the whole one
    train(cfg_of(2), tmp_path / "resumed", SyntheticBackend(cfg_of(2)), generations=2)
    train(cfg_of(2), tmp_path / "resumed", SyntheticBackend(cfg_of(2)))
    def searched(folder):  # every column but the wall clock
        return [{k: v for k, v in row.items() if k != "wall_seconds"} for row in _rows(tmp_path / folder / "history.csv")]

    assert searched("resumed") == searched("whole")
    # it changes the search, and a resume must keep the stored restart_at
    train(cfg_of(0), tmp_path / "single", SyntheticBackend(cfg_of(0)))
    single, whole = (_rows(tmp_path / d / "history.csv") for d in ("single", "whole"))
    assert single[:2] == whole[:2] and single[2]["fitness_mean"] != whole[2]["fitness_mean"]
    with pytest.raises(ConfigError, match="restart_at"):
        train(cfg_of(3), tmp_path / "whole", SyntheticBackend(cfg_of(3)))


def test_init_from_refuses_a_missing_or_misshapen_file(tmp_path):
    missing = make_config("doom", "tiny", {"controller.inputs": "z", "es.init_from": str(tmp_path / "no.json")})
    with pytest.raises(ConfigError, match="not found"):
        train(missing, tmp_path / "a", SyntheticBackend(missing))
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"params": [0.1, 0.2]}))
    wrong = make_config("doom", "tiny", {"controller.inputs": "z", "es.init_from": str(short)})
    with pytest.raises(ConfigError, match="holds 2 numbers"):
        train(wrong, tmp_path / "b", SyntheticBackend(wrong))
    assert not (tmp_path / "b").exists()


@pytest.mark.slow
def test_resume_after_kill9_continues_with_same_cma_state(tmp_path):
    run = tmp_path / "run"
    out = run / "controller"
    proc = subprocess.Popen(_cmd(run, "--es.generations", "100000"), cwd=ROOT, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if (out / "es_state.pkl").exists():
            try:
                if pickle.loads((out / "es_state.pkl").read_bytes())["generation"] >= 5:
                    break
            except Exception:  # noqa: BLE001 - read during a rename
                pass
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    state = pickle.loads((out / "es_state.pkl").read_bytes())
    g = state["generation"]
    assert g >= 5
    # the next generation the stored state must produce
    expected = round_params(CMAES.from_state(state["cma"]).ask())
    expected_mean = float(np.mean(SyntheticBackend.fitness(expected)))
    done = subprocess.run(_cmd(run, "--es.generations", str(g + 1)), cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"resuming at generation {g + 1}" in done.stdout
    rows = _rows(out / "history.csv")
    assert [int(r["generation"]) for r in rows] == list(range(1, g + 2))  # no gap, no duplicate
    assert float(rows[-1]["fitness_mean"]) == pytest.approx(expected_mean, rel=1e-9)
    again = subprocess.run(_cmd(run, "--es.generations", str(g + 1)), cwd=ROOT, env=ENV, capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0 and "already complete" in again.stdout


@pytest.mark.parametrize("extra", [["--temperature", "-1"], ["--es.population_size", "1"], ["--tag", "a/b"],
                                   ["--dream", "--real"], ["--es.popsize", "3"]])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, extra):
    run = tmp_path / "run"
    done = subprocess.run(_cmd(run, *extra), cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert not run.exists()


@pytest.mark.slow
def test_missing_models_exit_2(tmp_path):
    env = {k: v for k, v in ENV.items() if k != "WORLDMODELS_TEST_FITNESS"}
    done = subprocess.run([sys.executable, "-m", "controller", "train", "--experiment", "carracing", "--preset",
                           "tiny", "--run-dir", str(tmp_path / "run")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "train V and M first" in done.stderr


def test_sigterm_records_the_stage_time_and_exits_143(tmp_path):
    """kill (SIGTERM) ends a command through its finally blocks: timings.json gets the part that ran."""
    import json

    run = tmp_path / "run"
    proc = subprocess.Popen(_cmd(run, "--es.generations", "100000"), cwd=ROOT, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not (run / "controller" / "es_state.pkl").exists():
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    entry = json.loads((run / "timings.json").read_text())["controller_train"]
    assert entry["parts"] == 1 and entry["wall_s"] > 0
