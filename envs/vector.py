"""Many episodes stepped together, one call per step for all of them: what a worker plays at once.

``EpisodeBatch(cfg, seeds)`` plays one episode per seed, ``reset(seed=s)`` semantics, 64x64x3 uint8 frames:

- backend ``gymnasium``: one registered env per seed (any experiment; the reference CarRacing-v3);
- backend ``envpool`` (CarRacing): envpool's C++ CarRacing-v3, one pool per batch with ``env_seed`` = the seeds,
  ``num_threads`` 1 (a worker uses one core), 96x96 frames cropped and resized as :mod:`envs.carracing` does, and
  the same episode rule (``lap_complete_percent``, ``max_episode_steps`` from the config). envpool's tracks for a
  seed are not gymnasium's (another RNG), so scores agree in distribution, not per seed.

Each env plays exactly one episode. After its end its row is masked: reward 0, ``done`` stays True, its frame
repeats the last one. (envpool resets a finished env by itself; those extra steps cost time and change nothing.)
``full_episode`` (collection) ignores the env's own termination as the authors' extract step did; envpool cannot
keep stepping a car past its end, so there an episode that terminates early (off the playfield) is kept at its
length, with ``done`` at its last step. ``negative_streak`` N > 0 (CMA-ES training rollouts only,
``es.negative_streak``) ends an episode after more than N steps in a row of negative reward, as the attention agent
of Tang et al. 2020 did; its return is what it earned until then.
"""
from __future__ import annotations

import numpy as np

from common.config import Config, ConfigError
from envs.carracing import CROP_ROWS
from envs.frames import crop_resize


def import_envpool():
    try:
        import envpool
    except ImportError as err:
        raise ConfigError(f"env.backend envpool needs envpool: pip install envpool ({err})") from None
    return envpool


class EpisodeBatch:
    """``len(seeds)`` episodes of the experiment's real env; see the module docstring.

    Args:
        cfg: the resolved config (env.max_steps, env.lap_complete_percent, the experiment).
        seeds: one episode seed per row.
        backend: "gymnasium" or "envpool" (None: cfg.env.backend).
        full_episode: ignore the env's termination (collection); only the step cap ends an episode.
        negative_streak: end an episode after more than this many steps in a row of negative reward (0: never).
    """

    def __init__(self, cfg: Config, seeds, backend: str | None = None, full_episode: bool = False,
                 negative_streak: int = 0):
        self.seeds = [int(s) for s in seeds]
        self.backend = backend or cfg.env.backend
        self.full_episode = full_episode
        self.negative_streak = int(negative_streak)
        self.max_steps = cfg.env.max_steps
        n = len(self.seeds)
        self.done = np.zeros(n, bool)
        self.terminated = np.zeros(n, bool)  # ended by the game (all tiles, off the playfield), not by a cap
        self.steps = np.zeros(n, np.int64)
        self.streak = np.zeros(n, np.int64)  # steps in a row of negative reward, up to the last one
        self._frames = None
        if self.backend == "envpool":
            if cfg.experiment != "carracing":
                raise ConfigError(f"env.backend envpool ships CarRacing, not {cfg.experiment}")
            envpool = import_envpool()
            self._pool = envpool.make("CarRacing-v3", env_type="gymnasium", num_envs=n, batch_size=n, num_threads=1,
                                      env_seed=self.seeds, max_episode_steps=cfg.env.max_steps,
                                      lap_complete_percent=cfg.env.lap_complete_percent)
            self._envs = None
        elif self.backend == "gymnasium":
            from envs import make_env

            kwargs = {"full_episode": True} if full_episode and cfg.experiment == "carracing" else {}
            self._envs = [make_env(cfg, **kwargs) for _ in range(n)]
            self._pool = None
        else:
            raise ConfigError(f"unknown env backend {self.backend!r}; choose gymnasium or envpool")

    def __len__(self) -> int:
        return len(self.seeds)

    @property
    def envs(self) -> list:
        """The gymnasium backend's envs, one per row (benches read their state); empty for envpool."""
        return list(self._envs or ())

    @staticmethod
    def _crop(frames) -> np.ndarray:
        return np.stack([crop_resize(f, CROP_ROWS) for f in frames])

    def reset(self) -> np.ndarray:
        """Start every episode; returns frames [B, 64, 64, 3] uint8."""
        self.done[:] = False
        self.terminated[:] = False
        self.steps[:] = 0
        self.streak[:] = 0
        if self._pool is not None:
            frames, _ = self._pool.reset()
            self._frames = self._crop(frames)
        else:
            self._frames = np.stack([env.reset(seed=s)[0] for env, s in zip(self._envs, self.seeds)])
        return self._frames.copy()

    def step(self, actions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step every running episode with its row of ``actions`` [B, A]; returns (frames [B, 64, 64, 3] uint8,
        rewards [B] float64, 0 for episodes already over, done [B] bool, True from an episode's last step on)."""
        actions = np.asarray(actions, np.float32)
        running = ~self.done
        rewards = np.zeros(len(self), np.float64)
        ended, terminal = np.zeros(len(self), bool), np.zeros(len(self), bool)
        if self._pool is not None:
            frames, reward, terminated, truncated, _ = self._pool.step(actions)
            if running.any():
                self._frames[running] = self._crop(frames[running])
            rewards[running] = reward[running]
            ended[running] = (terminated | truncated)[running]
            terminal[running] = terminated[running]
        else:
            for i in np.flatnonzero(running):
                frame, reward, terminated, truncated, _ = self._envs[i].step(actions[i])
                self._frames[i], rewards[i] = frame, reward
                ended[i], terminal[i] = terminated or truncated, terminated
        self.terminated |= terminal & running
        self.steps[running] += 1
        if self.full_episode:
            ended |= self.steps >= self.max_steps
        if self.negative_streak:
            self.streak = np.where(rewards < 0, self.streak + 1, 0)
            ended |= self.streak > self.negative_streak
        self.done |= ended & running
        return self._frames.copy(), rewards, self.done.copy()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        for env in self._envs or ():
            env.close()
        self._envs = None
