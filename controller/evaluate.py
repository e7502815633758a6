"""Final scoring of C (ORIGINAL-SPEC-DETAILED section 8.4): N episodes with explicit seeds cfg.evaluate.seed + i
(10,000,000+ by default; the test range of common/seeds.py, refused elsewhere), in the real env in parallel through the
worker pool, or in the dream through BatchedDream. Writes evaluation_real.json / evaluation_dream_tau{τ:.2f}.json.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np

from common import atomic
from common.cli import read_config
from common.config import Config, ConfigError, EvalConfig
from common.run_layout import ControllerLayout, RunLayout
from common.seeds import test_seeds, validation_seeds
from controller.shape import controller_shape


def read_params(path: Path, num_params: int | None) -> tuple[np.ndarray, int | None]:
    """Parameters from our best.json ({"params": [...]}) or the authors' [params, score]; (params, generation).
    ConfigError naming the file and what is wrong with it. ``num_params`` None accepts any flat length."""
    if not Path(path).exists():
        raise ConfigError(f"{path} not found: train the controller first (python -m controller train) or pass "
                          f"--params FILE")
    try:
        data = json.loads(Path(path).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path} is not JSON ({err})") from None
    if isinstance(data, dict):
        if "params" not in data:
            raise ConfigError(f"{path} has no \"params\" field")
        params, generation = data["params"], data.get("generation")
    elif isinstance(data, list) and data:
        params, generation = data[0], None
    else:
        raise ConfigError(f"{path}: expected {{\"params\": [...]}} or the authors' [params, score]")
    try:
        params = np.asarray(params, np.float32)
    except (TypeError, ValueError):
        raise ConfigError(f"{path}: \"params\" must be a list of numbers, got {str(params)[:40]!r}") from None
    if params.ndim != 1 or (num_params is not None and params.size != num_params):
        need = "a flat list" if num_params is None else f"a list of {num_params}"
        raise ConfigError(f"{path}: \"params\" holds {params.size} numbers of shape {params.shape}; this "
                          f"controller needs {need}")
    if not np.all(np.isfinite(params)):
        raise ConfigError(f"{path}: \"params\" holds non-finite numbers")
    return params, generation


def evaluation_seeds(cfg: Config) -> list[int]:
    """The test seeds evaluate.seed .. + episodes - 1 (ConfigError unless all lie in the test range), or, for
    evaluate.split validation, the fixed validation seeds (common/seeds.py)."""
    if cfg.evaluate.split == "validation":
        return validation_seeds(cfg.evaluate.episodes)
    return test_seeds(cfg.evaluate.seed, cfg.evaluate.episodes)


def result_path(out: Path, dream: bool, temperature: float | None, seed: int = EvalConfig.seed,
                backend: str = EvalConfig.backend, split: str = EvalConfig.split,
                run_seed: int = EvalConfig.seed) -> Path:
    """The evaluation file in the controller folder ``out``; first seed ``run_seed`` gets the plain name (what the
    report reads), another one its own file."""
    return ControllerLayout(out).evaluation(dream, temperature, seed, run_seed, backend, split)


def evaluation_file(cfg: Config, out: Path, dream: bool) -> Path:
    """The evaluation file of the config's scoring (its τ, split, first seed and env) in the controller folder
    ``out``. The run's own test seeds (evaluate.seed of its config.json) write evaluation_real.json; a re-score
    from another first seed (``--seed S``) gets ..._seed{S}.json and never overwrites the run's score."""
    from common.cli import read_run_config

    stored = read_run_config(out.parent)
    return result_path(out, dream, cfg.es.temperature if dream else None, cfg.evaluate.seed, cfg.evaluate.backend,
                       cfg.evaluate.split, stored.evaluate.seed if stored is not None else cfg.evaluate.seed)


def scoring_config(cfg: Config) -> Config:
    """The config the scoring workers play with: the real env of evaluate.backend (gymnasium, the reference,
    unless asked otherwise), whatever env.backend trained."""
    return dataclasses.replace(cfg, env=dataclasses.replace(cfg.env, backend=cfg.evaluate.backend))


def z_of(cfg: Config, dream: bool) -> str | None:
    """What an evaluation records of controller.z: the real game's z (sample or mean); the dream's z is M's."""
    return None if dream else cfg.controller.z


def as_trained(cfg: Config, out: Path, z_given: bool) -> Config:
    """``cfg`` with the controller.z that the C in folder ``out`` was trained with (its config.json), unless the
    command gave --controller.z: a C trained on V's mean is not scored on samples, nor the other way, by accident.
    A folder without config.json, or one from before controller.z (its C sampled), keeps what it has."""
    trained = None if z_given else read_config(ControllerLayout(out).config)
    if trained is None:
        return cfg
    return dataclasses.replace(cfg, controller=dataclasses.replace(cfg.controller, z=trained.controller.z))


def params_digest(params: np.ndarray) -> str:
    """What an evaluation file records of the controller it scored (float32 bytes, SHA-256)."""
    return hashlib.sha256(np.asarray(params, np.float32).tobytes()).hexdigest()


def current_result(cfg: Config, out: Path, params: np.ndarray, dream: bool) -> dict | None:
    """The saved evaluation of exactly this controller, these seeds and this τ or controller.z, or None when it
    must be played (no file, another controller, other seeds or episode count, another τ or z, or a file from
    before digests; a file from before controller.z played sampled z)."""
    temperature = cfg.es.temperature if dream else None
    try:
        result = json.loads(evaluation_file(cfg, out, dream).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    seeds, z = evaluation_seeds(cfg), result.get("z", None if dream else "sample")
    if (result.get("params_sha256") == params_digest(params) and result.get("seeds") == seeds
            and result.get("temperature") == temperature and z == z_of(cfg, dream)):
        return result
    return None


def is_current(cfg: Config, run_dir: Path, dream: bool, tag: str | None = None) -> bool:
    """Whether the run's controller (``best.json``) already has its evaluation (see :func:`current_result`)."""
    files = RunLayout(run_dir).controller(tag)
    try:
        params, _ = read_params(files.best, controller_shape(cfg).num_params)
        return current_result(cfg, files.dir, params, dream) is not None
    except ConfigError:  # the stage itself reports it
        return False


def evaluate(cfg: Config, out: Path, backend, params: np.ndarray, generation: int | None, params_file: Path,
             dream: bool, temperature: float | None) -> dict:
    """Score ``params`` (read from ``params_file`` by :func:`read_params`); save and return the evaluation."""
    seeds = evaluation_seeds(cfg)
    returns, lengths = backend.evaluate(params, seeds)
    scores = [float(v) for v in np.asarray(returns)]
    result = {"mode": "dream" if dream else "real", "temperature": temperature if dream else None,
              "backend": None if dream else cfg.evaluate.backend,
              "episodes": len(seeds), "seeds": seeds, "scores": scores,
              "lengths": [int(v) for v in np.asarray(lengths)], "mean": float(np.mean(scores)),
              "std": float(np.std(scores)), "generation": generation, "params_file": str(params_file),
              "params_sha256": params_digest(params), "z": z_of(cfg, dream)}
    atomic.write_json(evaluation_file(cfg, out, dream), result)
    return result
