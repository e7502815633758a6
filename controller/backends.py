"""Where fitness comes from: the batched dream, the real env in a process pool, Ray (controller.ray_backend),
or a synthetic quadratic (tests, smoke runs). Every backend has

    rollouts(params [P, N] float32 (rounded), seeds [P] int) -> (returns [P, R], lengths [P, R])
    evaluate(params [N] float32, seeds list[int]) -> (returns [E], lengths [E])
    close()
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

from common.config import Config, ConfigError
from common.run_layout import RunLayout
from controller.es import episode_seeds
from controller.shape import controller_shape


class DreamBackend:
    """Fitness in M's dream: one ``BatchedDream.rollout`` call per generation (helper DREAM's controller.dream).

    The whole generation shares one seed (the first of the generation's seeds); the batched dream derives every
    row's noise from it, so the authors' "candidates i and i+P/2 share a seed" pairing does not apply here.

    With ``es.dream_models`` (an ensemble dream) every M of the list and this run's own play their even share of
    each candidate's rollouts (:func:`split_rollouts`), each with its own seed, and fitness averages them all.
    """

    def __init__(self, cfg: Config, run_dir: Path, temperature: float):
        from controller.dream import BatchedDream
        from envs.episodes import load_initial_z
        from rnn.export import load_m

        if not cfg.rnn.predict_death:
            raise ConfigError("the dream needs an M with a death head (Doom); CarRacing trains in the real env")
        mu, logvar = load_initial_z(RunLayout(run_dir).initial_z)
        self.cfg = cfg
        self.dreams = [BatchedDream(load_m(folder), mu, logvar, controller_shape(cfg), temperature,
                                    cfg.env.max_steps, death_logit=cfg.es.death_logit)
                       for folder in dream_model_folders(cfg, run_dir)]

    def _play(self, params, num_rollouts: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        results = [dream.rollout(params, count, seed + k)
                   for k, (dream, count) in enumerate(zip(self.dreams, split_rollouts(num_rollouts, len(self.dreams))))
                   if count]
        return (np.concatenate([r.returns for r in results], axis=1),
                np.concatenate([r.lengths for r in results], axis=1))

    def rollouts(self, params, seeds):
        return self._play(np.asarray(params, np.float32), self.cfg.es.num_rollouts, int(seeds[0]))

    def evaluate(self, params, seeds):
        returns, lengths = self._play(np.asarray(params, np.float32)[None], len(seeds), int(seeds[0]))
        return returns[0], lengths[0]

    def close(self):
        pass


def split_rollouts(num_rollouts: int, num_models: int) -> list[int]:
    """Each M's share of ``num_rollouts``: as even as can be, the first Ms take the remainder."""
    return [num_rollouts // num_models + (k < num_rollouts % num_models) for k in range(num_models)]


def dream_model_folders(cfg: Config, run_dir: Path) -> list[Path]:
    """The run folders whose M plays the dream: ``run_dir`` first, then ``es.dream_models``. Every one must hold
    the V file of ``run_dir`` (byte for byte): an M trained on another V reads other latents (ConfigError)."""
    folders = [Path(run_dir)] + [Path(f) for f in cfg.es.dream_models.split(",") if f.strip()]
    if len(folders) == 1:
        return folders
    digests = []
    for folder in folders:
        path = RunLayout(folder).vae_model
        if not path.is_file():
            raise ConfigError(f"es.dream_models: {path} does not exist; each ensemble M's run needs the V it "
                              f"was trained on")
        digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
    others = [str(f) for f, d in zip(folders, digests) if d != digests[0]]
    if others:
        raise ConfigError(f"es.dream_models: {', '.join(others)} hold another V than {run_dir}; an ensemble's Ms "
                          f"must read the same latents")
    return folders


def episode_tasks(params, seeds, chunk: int, negative_streak: int = 0) -> list[tuple[np.ndarray, list[int], int]]:
    """One row per episode, cut into tasks of at most ``chunk`` rows (what one worker plays at once, batched).

    Args:
        params: [E, N] the controller of each episode.
        seeds: [E] the episode seeds.
        negative_streak: the training-only episode cut (es.negative_streak; 0: whole episodes).
    Returns:
        tasks (params [k, N], seeds [k], negative_streak), k <= chunk, in row order.
    """
    params, seeds = np.asarray(params, np.float32), [int(s) for s in seeds]
    return [(params[i:i + chunk], seeds[i:i + chunk], int(negative_streak)) for i in range(0, len(seeds), chunk)]


class TaskBackend:
    """Real-env fitness through ``map(tasks) -> [(returns [k], lengths [k])]`` (the pool or Ray): every
    candidate's num_rollouts episodes become rows, env.vector_envs rows per task."""

    cfg: Config

    def map(self, tasks):  # pragma: no cover - defined by the executors
        raise NotImplementedError

    def episodes(self, params, seeds, negative_streak: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """One episode per row: params [E, N] with seeds [E] -> (returns [E], lengths [E]) float64, in row order
        (what rollouts and evaluate play; the benches play their own rows through it). Only CMA-ES's training
        rollouts pass ``negative_streak`` (es.negative_streak); evaluations play whole episodes."""
        results = self.map(episode_tasks(params, seeds, self.cfg.env.vector_envs, negative_streak))
        return (np.concatenate([r for r, _ in results]).astype(np.float64),
                np.concatenate([n for _, n in results]).astype(np.float64))

    def rollouts(self, params, seeds):
        rollouts = self.cfg.es.num_rollouts
        params = np.asarray(params, np.float32)
        rows = np.repeat(params, rollouts, axis=0)
        row_seeds = [s for seed in seeds for s in episode_seeds(seed, rollouts)]
        returns, lengths = self.episodes(rows, row_seeds, self.cfg.es.negative_streak)
        return returns.reshape(len(params), rollouts), lengths.reshape(len(params), rollouts)

    def evaluate(self, params, seeds):
        return self.episodes(np.repeat(np.asarray(params, np.float32)[None], len(seeds), axis=0), seeds)


class PoolBackend(TaskBackend):
    """Fitness in the real env through :class:`controller.workers.WorkerPool`."""

    def __init__(self, cfg: Config, factory, workers: int | None = None):
        from controller.workers import WorkerPool

        self.cfg = cfg
        self.pool = WorkerPool(factory, workers or cfg.es.workers, cfg.es.rollout_timeout, cfg.es.max_retries)

    def map(self, tasks):
        return self.pool.map(tasks)

    def close(self):
        self.pool.close()


def real_factory(cfg: Config, run_dir: Path):
    from controller.agent import agent_factory, has_models

    if not has_models(run_dir):
        raise ConfigError(f"{run_dir} holds no V and M (vae/, rnn/ model.keras or saved_model): train V and M first")
    # An absolute path: Ray's workers (and any worker) may start in another working directory.
    return functools.partial(agent_factory, str(Path(run_dir).resolve()), cfg.to_dict())


class SyntheticBackend:
    """Test hook (env WORLDMODELS_TEST_FITNESS=quadratic): fitness -sum((θ - 0.5)²), in process, no V or M."""

    def __init__(self, cfg: Config):
        self.cfg = cfg

    @staticmethod
    def fitness(params) -> np.ndarray:
        """[P] -sum((θ - 0.5)²) of ``params`` [P, N]."""
        return -np.sum((np.asarray(params, np.float64) - 0.5) ** 2, axis=1)

    def rollouts(self, params, seeds):
        f = self.fitness(params)
        return np.repeat(f[:, None], self.cfg.es.num_rollouts, 1), np.ones((len(f), self.cfg.es.num_rollouts))

    def evaluate(self, params, seeds):
        f = self.fitness(np.asarray(params)[None])[0]
        return np.full(self.cfg.es.num_rollouts, f), np.ones(self.cfg.es.num_rollouts)

    def close(self):
        pass
