"""Final scoring of C (ORIGINAL-SPEC-DETAILED section 8.4): N episodes with explicit seeds cfg.evaluate.seed + i
(10,000,000+ by default: never a training, selection or collection seed), in the real env in parallel through the
worker pool, or in the dream through BatchedDream. Writes evaluation_real.json / evaluation_dream_tau{τ:.2f}.json.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from common import atomic
from common.config import Config, ConfigError, EvalConfig
from controller.es import TRAIN_SEED_LOW
from controller.model import controller_shape


def read_params(path: Path, num_params: int) -> tuple[np.ndarray, int | None]:
    """Parameters from our best.json ({"params": ...}) or the authors' [params, score]; (params, generation)."""
    if not Path(path).exists():
        raise ConfigError(f"{path} not found: train the controller first (python -m controller train) or pass "
                          f"--params FILE")
    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path} is not JSON ({err})") from None
    params, generation = (data["params"], data.get("generation")) if isinstance(data, dict) else (data[0], None)
    params = np.asarray(params, np.float32)
    if params.shape != (num_params,):
        raise ConfigError(f"{path} holds {params.size} parameters; this controller needs {num_params}")
    return params, generation


def evaluation_seeds(cfg: Config) -> list[int]:
    seeds = [cfg.evaluate.seed + i for i in range(cfg.evaluate.episodes)]
    if seeds[0] < cfg.es.eval_rollouts or seeds[-1] >= TRAIN_SEED_LOW:
        raise ConfigError(f"evaluate.seed {cfg.evaluate.seed}: evaluation seeds must lie in "
                          f"[{cfg.es.eval_rollouts}, {TRAIN_SEED_LOW}) to stay apart from selection and training")
    return seeds


def result_name(dream: bool, temperature: float | None, seed: int = EvalConfig.seed) -> str:
    """evaluation_real.json / evaluation_dream_tau{τ}.json for the default seeds (what the report reads); another
    first seed gets its own file (..._seed{S}.json), so re-scoring never overwrites the reported score."""
    stem = f"evaluation_dream_tau{temperature:.2f}" if dream else "evaluation_real"
    return f"{stem}.json" if seed == EvalConfig.seed else f"{stem}_seed{seed}.json"


def evaluate(cfg: Config, out: Path, backend, params_file: Path, dream: bool, temperature: float | None) -> dict:
    """Score the controller in ``params_file``; save and return the CONTRACTS evaluation JSON."""
    params, generation = read_params(params_file, controller_shape(cfg).num_params)
    seeds = evaluation_seeds(cfg)
    returns, lengths = backend.evaluate(params, seeds)
    scores = [float(v) for v in np.asarray(returns)]
    result = {"mode": "dream" if dream else "real", "temperature": temperature if dream else None,
              "episodes": len(seeds), "seeds": seeds, "scores": scores,
              "lengths": [int(v) for v in np.asarray(lengths)], "mean": float(np.mean(scores)),
              "std": float(np.std(scores)), "generation": generation, "params_file": str(params_file)}
    atomic.write_json(out / result_name(dream, temperature, cfg.evaluate.seed), result)
    return result
