"""The four seed ranges (common/seeds.py) never meet, and every command that draws seeds stays inside its own."""
import subprocess
import sys

import numpy as np
import pytest

from common import seeds
from common.config import ConfigError, make_config
from controller.es import SeedStream
from controller.evaluate import evaluation_seeds
from controller.train import eval_seeds


def test_ranges_are_disjoint_and_cover_int32():
    ordered = sorted(seeds.RANGES, key=lambda r: r.low)
    assert ordered[0].low == 0 and ordered[-1].high == 2**31 - 1
    for a, b in zip(ordered, ordered[1:]):
        assert a.high == b.low  # adjacent, no overlap, no gap


@pytest.mark.parametrize("experiment", ["carracing", "doom"])
def test_each_role_draws_from_its_range(experiment):
    cfg = make_config(experiment, "paper")
    assert all(s in seeds.SELECTION for s in eval_seeds(cfg)) and len(eval_seeds(cfg)) == cfg.es.eval_rollouts
    assert all(s in seeds.TEST for s in evaluation_seeds(cfg))
    stream = SeedStream(cfg.es.seed)
    drawn = np.concatenate([stream.generation_seeds(64) for _ in range(50)])
    assert all(s in seeds.TRAINING and s + cfg.es.num_rollouts - 1 in seeds.TRAINING for s in drawn)
    last = cfg.collect.seed + cfg.collect.episodes - 1
    assert cfg.collect.seed in seeds.COLLECTION and last in seeds.COLLECTION
    # The selection seeds are not the collection tracks any more (the authors' 0..1023 were both).
    assert not set(eval_seeds(cfg)) & set(range(cfg.collect.seed, last + 1))


@pytest.mark.parametrize("first", [0, 9_999, 100_000_000, 2**30 + 5])
def test_evaluate_refuses_seeds_outside_the_test_range(first):
    with pytest.raises(ConfigError, match="test range"):
        evaluation_seeds(make_config("carracing", "tiny", {"evaluate.seed": first}))


def test_evaluate_command_refuses_a_collection_seed(tmp_path):
    result = subprocess.run([sys.executable, "-m", "controller", "evaluate", "--experiment", "carracing", "--preset",
                             "tiny", "--run-dir", str(tmp_path), "--seed", "5"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "test range" in result.stderr and not any(tmp_path.iterdir())


def test_collection_refuses_seeds_past_its_range(tmp_path):
    from envs.collect import collect

    cfg = make_config("carracing", "tiny", {"collect.seed": 9_999_999})
    with pytest.raises(ConfigError, match="collection range"):
        collect(cfg, tmp_path)
    assert not any(tmp_path.iterdir())  # nothing written


def test_validation_seeds_are_fixed_and_apart_from_the_cma_selection_and_test_seeds():
    cfg = make_config("doom", "small", {"evaluate.split": "validation"})
    chosen = evaluation_seeds(cfg)
    assert chosen == list(range(500_000_000, 500_000_100))  # fixed: every candidate meets the same games
    assert all(s in seeds.SELECTION for s in chosen)
    assert not set(chosen) & set(eval_seeds(make_config("doom", "paper")))  # CMA-ES's own selection seeds
    assert not set(chosen) & set(evaluation_seeds(make_config("doom", "small")))
    # The Doom experiment's final agent is scored on a test range no earlier Doom agent met (10M, 20M, 30M..).
    assert evaluation_seeds(make_config("doom", "small"))[0] == 40_000_000


def test_validation_scores_have_their_own_file(tmp_path):
    from common.cli import save_run_config
    from controller.evaluate import evaluation_file

    cfg = make_config("doom", "tiny")
    save_run_config(cfg, tmp_path)  # the run's own test seeds name the plain file
    assert evaluation_file(cfg, tmp_path / "controller", False).name == "evaluation_real.json"
    validation = make_config("doom", "tiny", {"evaluate.split": "validation"})
    assert evaluation_file(validation, tmp_path / "controller", False).name == "evaluation_real_validation.json"
    assert evaluation_file(validation, tmp_path / "controller", True).name == \
        "evaluation_dream_tau1.15_validation.json"
    # A re-score from another first seed never overwrites the run's own score file.
    other = make_config("doom", "tiny", {"evaluate.seed": 50_000_000})
    assert evaluation_file(other, tmp_path / "controller", False).name == "evaluation_real_seed50000000.json"


@pytest.mark.parametrize("overrides, message", [
    ({"evaluate.split": "holdout"}, "evaluate.split"),
    ({"evaluate.temperatures": "1.0,warm"}, "comma-separated"),
    ({"evaluate.temperatures": "0"}, "τ > 0"),
])
def test_bad_evaluation_settings_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_config("doom", "tiny", overrides)
