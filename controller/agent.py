"""The World Models agent in the real environment: V encodes the frame, C acts on [z, h] / [z, c, h], M steps
(authors' `carracing/model.py:87-116`, `doomrnn/doomreal.py:64-137`; ORIGINAL-SPEC-DETAILED sections 6-7).

Per step, for both games:
    z_t = sample from V's posterior of frame_t (std exp(logvar/2));  x_t = [z_t, h_t] or [z_t, c_t, h_t];
    a_t = C(x_t);  M consumes (z_t, a_t[, restart_t]) -> (h_{t+1}, c_{t+1});  the env steps with a_t.
CarRacing feeds M the action as sent to the game (gas/brake mapped); Doom feeds the raw tanh output (the env
applies the thirds rule). V + C + M of one step run as one ``tf.function``. Randomness: z's noise is a stateless
seed [episode seed, step], so an episode is a function of (params, seed).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from common.config import Config, ConfigError
from common.threads import set_tf_threads
from controller.model import act, controller_shape, observation
from envs.actions import to_env_action


def make_env(cfg: Config, render_mode: str | None = None):
    """The registered 64x64 env of the experiment, capped at cfg.env.max_steps."""
    import gymnasium

    try:
        import envs  # noqa: F401 - registers worldmodels/* ids
    except ImportError as err:
        raise ConfigError(f"cannot import envs ({err})") from None
    try:
        return gymnasium.make(cfg.env.env_id, max_episode_steps=cfg.env.max_steps, render_mode=render_mode,
                              **envs.env_kwargs(cfg))
    except gymnasium.error.Error as err:
        raise ConfigError(f"cannot make {cfg.env.env_id!r}: {err}") from None


def has_models(run_dir: str | Path) -> bool:
    """Whether the run holds V and M in a form :func:`vae.export.load_v` / :func:`rnn.export.load_m` read."""
    from rnn.export import has_rnn
    from vae.export import has_vae

    return has_vae(run_dir) and has_rnn(run_dir)


class Agent:
    """V + M + C in the real env. Built once per worker; ``episode(params, seed)`` plays one episode.

    Args:
        run_dir: the run folder holding V and M (Keras files, or only the SavedModels).
        cfg: the resolved config.
        threads: TensorFlow threads (workers use 1 so N workers use N cores).
        with_env: make the env for :meth:`episode`; ``envs collect`` steps its own env through :meth:`policy`.
    """

    def __init__(self, run_dir: str | Path, cfg: Config, threads: int | None = 1, with_env: bool = True):
        import tensorflow as tf

        if threads:
            set_tf_threads(threads)
        from rnn.export import load_m
        from vae.export import load_v
        from vae.model import sample_z

        self.cfg, self.shape = cfg, controller_shape(cfg)
        # Keras files, or the SavedModels of a committed folder; the video decodes with the same V.
        self.vae = vae = load_v(run_dir)
        rnn = load_m(run_dir)
        self.env = make_env(cfg) if with_env else None
        car = cfg.experiment == "carracing"
        shape = self.shape

        def step(frame, h, c, restart, params, seed, forced, use_forced):
            x = tf.cast(frame, tf.float32)[None] / 255.0
            mu, logvar = vae.encode(x)
            z = sample_z(mu, logvar, seed)
            a = act(params, observation(z, c, h, shape), shape)
            a = to_env_action(a, cfg.experiment, tf.clip_by_value)  # M saw the action as sent to the game
            a = tf.where(use_forced, forced[None], a)  # exploration: M must see the action actually taken
            _, h, c = rnn.step(z, a, None if car else restart, h, c)
            return a[0], h, c, z[0]

        self._step = tf.function(step, reduce_retracing=True)
        self._tf = tf

    def policy(self, params, seed: int, on_step=None):
        """The acting function of one episode, ``action = act(frame, forced=None)``, M's state kept inside.

        ``forced`` (an env action) replaces C's action for that step, and M consumes it (exploration in
        ``envs collect``). ``on_step(frame uint8 [64,64,3], z [Nz])`` is called before each action (video).
        """
        tf = self._tf
        params = tf.constant(np.asarray(params, np.float32))
        unforced = (tf.zeros([self.cfg.env.action_size], tf.float32), tf.constant(False))
        forcing = tf.constant(True)
        state = dict(h=tf.zeros([1, self.cfg.rnn.hidden_size], tf.float32), restart=tf.ones([1], tf.float32),
                     steps=0)
        state["c"] = state["h"]

        def act(frame, forced=None):
            key = tf.constant([int(seed) % (2**31 - 1), state["steps"]], tf.int32)
            extra = unforced if forced is None else (tf.constant(np.asarray(forced, np.float32)), forcing)
            action, state["h"], state["c"], z = self._step(tf.constant(frame), state["h"], state["c"],
                                                           state["restart"], params, key, *extra)
            if on_step is not None:
                on_step(frame, z.numpy())
            state["restart"] = tf.zeros([1], tf.float32)
            state["steps"] += 1
            return action.numpy()

        return act

    def episode(self, params, seed: int, on_step=None, max_steps: int | None = None) -> tuple[float, int]:
        """Play one episode with ``reset(seed=seed)``; returns (return, length in steps). See :meth:`policy`.
        ``max_steps`` stops it earlier (a video's frame limit; scoring always plays to the env's own end)."""
        act = self.policy(params, seed, on_step)
        frame, _ = self.env.reset(seed=int(seed))
        total, steps = 0.0, 0
        while True:
            frame, reward, terminated, truncated, _ = self.env.step(act(frame))
            total += float(reward)
            steps += 1
            if terminated or truncated or (max_steps is not None and steps >= max_steps):
                return total, steps

    def rollouts(self, task) -> tuple[list[float], list[int]]:
        """Worker entry: task = (params [N], seeds [R]) -> (returns [R], lengths [R])."""
        params, seeds = task
        results = [self.episode(params, s) for s in seeds]
        return [r for r, _ in results], [n for _, n in results]


def agent_factory(run_dir: str, cfg_dict: dict):
    """Picklable factory for :class:`controller.workers.WorkerPool`: builds the Agent inside the worker."""
    from common.config import config_from_dict

    return Agent(run_dir, config_from_dict(cfg_dict)).rollouts
