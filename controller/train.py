"""CMA-ES training of C, in the real environment or in M's dream (ORIGINAL-SPEC-DETAILED section 8.3).

One generation, as the authors' `train.py:299-380`:
    candidates = es.ask(); seeds = P/2 seeds used twice; every candidate plays num_rollouts episodes with
    θ rounded to 4 decimals; fitness = mean return; es.tell(authors_cost); log a history row; every eval_every
    generations score the CMA mean (rounded) on eval_rollouts episodes with fixed selection seeds and keep the best
    as best.json.

Fitness comes from a *backend* (:mod:`controller.backends`): the batched dream, the process pool (real env), or
Ray. The loop below knows nothing about them.

Files in the output folder (``<run>/controller`` or ``<run>/controller-<tag>``), all written atomically:
    history.csv, eval_history.csv (columns: HISTORY_COLUMNS, EVAL_COLUMNS; meaning as
    ../shared/reference/README.md), best.json, es_state.pkl (CMA + numpy global RNG, seed RNG, generation,
    best, elapsed wall time), config.json, tb/ (TensorBoard: es/fitness_*, es/sigma, eval/score).
es_state.pkl is written LAST each generation and is the commit point: on resume, CSV rows after its generation
(a kill between the two writes) are dropped and that generation is run again with the same CMA state and seeds.
"""
from __future__ import annotations

import csv
import hashlib
import io
import math
import pickle
import time
from pathlib import Path
from typing import Callable

import numpy as np

from common import atomic
from common.config import Config, ConfigError
from common.run_layout import ControllerLayout
from common.seeds import selection_seeds
from controller.es import CMAES, SeedStream, round_params
from controller.evaluate import read_params
from controller.shape import controller_shape

HISTORY_COLUMNS = ("generation", "wall_seconds", "fitness_mean", "fitness_min", "fitness_max", "fitness_std",
                   "cma_std_mean", "episode_length_mean", "candidate_mean_length_max", "sigma")
EVAL_COLUMNS = ("generation", "wall_seconds", "improvement", "eval_score", "prev_best_score", "best_score")
# The value of a setting (settings_of) in a state written before the setting existed.
SETTINGS_BEFORE = {"shared_tracks": False, "init_from": None, "dream_models": None, "negative_streak": 0,
                   "z": "sample", "restart_at": 0, "fitness": "mean"}
# The restart's CMA draws from its own seed, es.seed + this (not those of a run with seed es.seed + 1).
RESTART_SEED_OFFSET = 1_000


def eval_seeds(cfg: Config) -> list[int]:
    """Fixed seeds of every evaluation of the CMA mean: the first eval_rollouts of the selection range
    (common/seeds.py; the authors: 0..63 x 16 episodes)."""
    return selection_seeds(cfg.es.eval_rollouts)


def candidate_fitness(returns: np.ndarray, how: str) -> np.ndarray:
    """returns [P, R] (each candidate's rollouts) -> fitness [P]: their mean (the authors) or min (es.fitness)."""
    return returns.min(axis=1) if how == "min" else returns.mean(axis=1)


def _read_rows(path: Path, max_generation: int) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return [row for row in csv.DictReader(fh) if int(row["generation"]) <= max_generation]


def _write_rows(path: Path, columns, rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic.write_text(path, buffer.getvalue())


def initial_mean(cfg: Config, num_params: int) -> np.ndarray | None:
    """The first CMA mean: the params of ``es.init_from`` (ConfigError if unreadable or of another shape), or None
    for the authors' zeros."""
    if not cfg.es.init_from:
        return None
    return read_params(Path(cfg.es.init_from), num_params)[0].astype(np.float64)


def settings_of(cfg: Config, num_params: int, mean0: np.ndarray | None) -> dict:
    """The settings a resumed run must share with its stored state (else exit 2). The start mean ``mean0``
    (:func:`initial_mean`) counts by its content (a digest), so the same best.json reached by another path resumes."""
    init_from = None if mean0 is None else hashlib.sha256(mean0.tobytes()).hexdigest()[:16]
    return {"num_params": num_params, "population_size": cfg.es.population_size, "num_rollouts": cfg.es.num_rollouts,
            "sigma_init": cfg.es.sigma_init, "weight_decay": cfg.es.weight_decay, "seed": cfg.es.seed,
            "dream": cfg.es.dream, "temperature": cfg.es.temperature if cfg.es.dream else None,
            "inputs": cfg.controller.inputs, "shared_tracks": cfg.es.shared_tracks,
            "init_from": init_from, "dream_models": cfg.es.dream_models or None,  # validate: only with es.dream
            "negative_streak": cfg.es.negative_streak, "z": cfg.controller.z, "restart_at": cfg.es.restart_at,
            "fitness": cfg.es.fitness}


def restart(cfg: Config, state: dict, es: CMAES) -> CMAES:
    """es.restart_at: a new CMA-ES whose first mean is the kept C (``state["best"]``, the best evaluation so far)
    and whose σ0 is the σ the search has reached; its covariance starts afresh. What candidates 6 and 7 of
    reports/results/carracing-chosen did by hand with es.init_from and es.sigma_init."""
    fresh = CMAES(es.num_params, es.sigma, es.population_size, cfg.es.weight_decay,
                  seed=cfg.es.seed + RESTART_SEED_OFFSET, mean_init=state["best"])
    print(f"[controller] restart after generation {state['generation']}: a new CMA-ES at the kept C (score "
          f"{float(state['best_score']):.1f}), sigma0 {es.sigma:.4f}", flush=True)
    return fresh


def load_state(out: Path) -> dict | None:
    path = ControllerLayout(out).es_state
    if not path.exists():
        return None
    try:
        return pickle.loads(path.read_bytes())
    except (pickle.UnpicklingError, EOFError) as err:
        raise ConfigError(f"{path} is damaged ({err}); delete it to restart training from generation 0") from None


def is_complete(cfg: Config, out: Path) -> bool:
    state = load_state(out)
    return state is not None and state["generation"] >= cfg.es.generations


def _tb_writer(out: Path):
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - TF is a hard dependency of the project
        return None
    return tf.summary.create_file_writer(str(ControllerLayout(out).tensorboard))


def _scalars(writer, step: int, values: dict) -> None:
    if writer is None:
        return
    import tensorflow as tf

    with writer.as_default():
        for name, value in values.items():
            tf.summary.scalar(name, value, step=step)
    writer.flush()


def train(cfg: Config, out: Path, backend, generations: int | None = None,
          on_generation: Callable[[int], None] | None = None) -> dict:
    """Run (or resume) CMA-ES until ``cfg.es.generations`` (or ``generations`` more, for tests).

    Args:
        cfg: the resolved config.
        out: the output folder (created).
        backend: has ``rollouts(params [P, N] float32, seeds [P] int) -> (returns [P, R], lengths [P, R])`` and
            ``evaluate(params [N] float32, seeds list[int]) -> (returns [E], lengths [E])``.
        generations: stop after this many generations in this call (None: run to the end).
        on_generation: called with the generation number after its state is committed (tests).
    Returns:
        the final state dict.
    """
    num_params = controller_shape(cfg).num_params
    mean0 = initial_mean(cfg, num_params)  # a bad es.init_from file stops here, before anything is written
    settings = settings_of(cfg, num_params, mean0)
    out.mkdir(parents=True, exist_ok=True)
    atomic.remove_temp_files(out)
    files = ControllerLayout(out)
    state = load_state(out)
    if state is None:
        es = CMAES(num_params, cfg.es.sigma_init, cfg.es.population_size, cfg.es.weight_decay, seed=cfg.es.seed,
                   mean_init=mean0)
        start_text = f", mean0 from {cfg.es.init_from}" if cfg.es.init_from else ""
        print(f"[controller] CMA-ES: N={num_params}, popsize {es.population_size}, sigma0 {cfg.es.sigma_init}, "
              f"covariance {es.covariance_model}{start_text}", flush=True)
        state = {"generation": 0, "elapsed": 0.0, "seeds": SeedStream(cfg.es.seed).state(), "settings": settings,
                 "best": None, "best_score": None, "cma": es.state()}
    else:
        stored = {**SETTINGS_BEFORE, **state["settings"]}
        changed = {k: (stored.get(k), v) for k, v in settings.items() if stored.get(k) != v}
        if changed:
            raise ConfigError(f"{out} holds a CMA-ES run with other settings {changed} (stored, requested); use "
                              f"another --tag or --run-dir, or delete {files.es_state}")
        es = CMAES.from_state(state["cma"])
        print(f"[controller] resuming at generation {state['generation'] + 1} from {files.es_state}", flush=True)
    seeds = SeedStream.from_state(state["seeds"])
    history = _read_rows(files.history, state["generation"])
    evals = _read_rows(files.eval_history, state["generation"])
    writer = _tb_writer(out)
    start, elapsed0 = time.monotonic(), state["elapsed"]
    last = cfg.es.generations if generations is None else min(cfg.es.generations, state["generation"] + generations)
    while state["generation"] < last:
        g = state["generation"] + 1
        t0 = time.monotonic()
        if g == cfg.es.restart_at + 1 and cfg.es.restart_at:  # again on a resume from generation restart_at's state
            es = restart(cfg, state, es)
        candidates = es.ask()
        gen_seeds = seeds.generation_seeds(es.population_size, cfg.es.shared_tracks)
        returns, lengths = backend.rollouts(round_params(candidates), gen_seeds)
        returns, lengths = np.asarray(returns, np.float64), np.asarray(lengths, np.float64)
        fitness = candidate_fitness(returns, cfg.es.fitness)
        summary = es.tell(candidates, fitness)
        wall = elapsed0 + time.monotonic() - start
        history.append({"generation": g, "wall_seconds": int(wall), "fitness_mean": summary.fitness_mean,
                        "fitness_min": summary.fitness_min, "fitness_max": summary.fitness_max,
                        "fitness_std": summary.fitness_std, "cma_std_mean": summary.cma_std_mean,
                        "episode_length_mean": float(lengths.mean()),
                        "candidate_mean_length_max": int(math.floor(lengths.mean(axis=1).max())),
                        "sigma": summary.sigma})
        _write_rows(files.history, HISTORY_COLUMNS, history)
        if state["best_score"] is None:  # as the authors: "best" starts at generation 1's mean fitness
            state["best_score"] = summary.fitness_mean
        eval_text = ""
        if g % cfg.es.eval_every == 0 or g in (cfg.es.generations, cfg.es.restart_at):  # the restart needs a kept C
            mean = round_params(es.mean)
            eval_returns, _ = backend.evaluate(mean, eval_seeds(cfg))
            score = float(np.mean(eval_returns))
            prev = float(state["best_score"])
            first = state["best"] is None
            if first or score > prev:  # the authors keep the first evaluation and every improvement
                state["best"], state["best_score"] = mean, score
                atomic.write_json(files.best, {
                    "params": [float(v) for v in mean], "score": score, "generation": g, "dream": cfg.es.dream,
                    "temperature": cfg.es.temperature if cfg.es.dream else None, "inputs": cfg.controller.inputs})
            wall = elapsed0 + time.monotonic() - start
            evals.append({"generation": g, "wall_seconds": int(wall), "improvement": score - prev,
                          "eval_score": score, "prev_best_score": prev, "best_score": float(state["best_score"])})
            _write_rows(files.eval_history, EVAL_COLUMNS, evals)
            _scalars(writer, g, {"eval/score": score})
            eval_text = f" eval {score:.1f} best {float(state['best_score']):.1f}"
        state.update(generation=g, elapsed=elapsed0 + time.monotonic() - start, seeds=seeds.state(), cma=es.state())
        atomic.write_bytes(files.es_state, pickle.dumps(state))  # the commit point of generation g
        _scalars(writer, g, {"es/fitness_mean": summary.fitness_mean, "es/fitness_max": summary.fitness_max,
                             "es/fitness_min": summary.fitness_min, "es/fitness_std": summary.fitness_std,
                             "es/sigma": summary.sigma})
        print(f"[controller] gen {g}/{cfg.es.generations} fitness mean {summary.fitness_mean:.2f} "
              f"max {summary.fitness_max:.2f} min {summary.fitness_min:.2f} std {summary.fitness_std:.2f} "
              f"sigma {summary.sigma:.4f}{eval_text} ({time.monotonic() - t0:.1f} s)", flush=True)
        if on_generation is not None:
            on_generation(g)
    return state
