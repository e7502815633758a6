"""The World Models agent in the real environment: V encodes the frame, C acts on [z, h] / [z, c, h], M steps
(authors' `carracing/model.py:87-116`, `doomrnn/doomreal.py:64-137`; ORIGINAL-SPEC-DETAILED sections 6-7).

Per step, for both games:
    z_t = sample from V's posterior of frame_t (std exp(logvar/2)); its mean with controller.z mean;
    x_t = [z_t, h_t] or [z_t, c_t, h_t];
    a_t = C(x_t);  M consumes (z_t, a_t[, restart_t]) -> (h_{t+1}, c_{t+1});  the env steps with a_t.
CarRacing feeds M the action as sent to the game (gas/brake mapped); Doom feeds the raw tanh output (the env
applies the thirds rule). V + C + M of one step run as one ``tf.function`` over a batch of episodes (rows); the
workers play env.vector_envs episodes at once (:meth:`Agent.play`). Randomness: each row's z noise is a stateless
seed [episode seed, step], so an episode is a function of (params, seed), whichever rows share its batch.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from common.config import Config
from common.threads import set_tf_threads
from controller.model import act, controller_shape, observation
from envs import make_env
from envs.actions import to_env_action


def has_models(run_dir: str | Path) -> bool:
    """Whether the run holds V and M in a form :func:`vae.export.load_v` / :func:`rnn.export.load_m` read."""
    from rnn.export import has_rnn
    from vae.export import has_vae

    return has_vae(run_dir) and has_rnn(run_dir)


class Agent:
    """V + M + C in the real env. Built once per worker; ``play(params, seeds)`` plays a batch of episodes,
    ``episode(params, seed)`` one (video), ``policy(params, seed)`` acts for an env stepped elsewhere.

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
        z_mean = cfg.controller.z == "mean"  # controller.z: V's mean instead of a sample, for C and M alike

        def step(frames, h, c, restart, params, keys, forced, use_forced):
            # Rows are episodes: frames [B, 64, 64, 3] uint8, params [B, N], keys [B, 2] (one noise seed per row,
            # so an episode's z does not depend on which rows share its batch), forced [B, A], use_forced [B].
            mu, logvar = vae.encode(tf.cast(frames, tf.float32) / 255.0)
            z = mu if z_mean else tf.map_fn(lambda row: sample_z(row[0], row[1], row[2]), (mu, logvar, keys),
                                            fn_output_signature=tf.float32)
            a = act(params, observation(z, c, h, shape), shape)
            a = to_env_action(a, cfg.experiment, tf.clip_by_value)  # M saw the action as sent to the game
            a = tf.where(use_forced[:, None], forced, a)  # exploration: M must see the action actually taken
            _, h, c = rnn.step(z, a, None if car else restart, h, c)
            return a, h, c, z

        self._step = tf.function(step, reduce_retracing=True, autograph=False)
        self._tf = tf

    def _start(self, params, seeds) -> dict:
        """M's state and the constant inputs of episodes ``seeds`` played by ``params`` rows [B, N]."""
        tf, n = self._tf, len(seeds)
        h = tf.zeros([n, self.cfg.rnn.hidden_size], tf.float32)
        return dict(h=h, c=h, restart=tf.ones([n], tf.float32), steps=0,
                    params=tf.constant(np.asarray(params, np.float32).reshape(n, -1)),
                    seeds=np.array([int(s) % (2**31 - 1) for s in seeds], np.int64),
                    forced=tf.zeros([n, self.cfg.env.action_size], tf.float32), use_forced=tf.zeros([n], tf.bool))

    def _act(self, state: dict, frames, forced=None):
        """One step of every row: the actions [B, A] (numpy) and z [B, Nz]; M's state advances in ``state``."""
        tf = self._tf
        keys = tf.constant(np.stack([state["seeds"], np.full_like(state["seeds"], state["steps"])], 1), tf.int32)
        extra = (state["forced"], state["use_forced"]) if forced is None else (
            tf.constant(np.asarray(forced, np.float32).reshape(1, -1)), tf.ones([1], tf.bool))
        actions, state["h"], state["c"], z = self._step(tf.constant(frames), state["h"], state["c"],
                                                        state["restart"], state["params"], keys, *extra)
        state["restart"] = tf.zeros_like(state["restart"])
        state["steps"] += 1
        return actions.numpy(), z.numpy()

    def policy(self, params, seed: int, on_step=None):
        """The acting function of one episode, ``action = act(frame, forced=None)``, M's state kept inside.

        ``forced`` (an env action) replaces C's action for that step, and M consumes it (exploration in
        ``envs collect``). ``on_step(frame uint8 [64,64,3], z [Nz])`` is called before each action (video).
        """
        state = self._start(np.asarray(params, np.float32)[None], [seed])

        def act(frame, forced=None):
            actions, z = self._act(state, np.asarray(frame)[None], forced)
            if on_step is not None:
                on_step(frame, z[0])
            return actions[0]

        return act

    def play(self, params, seeds, backend: str | None = None, negative_streak: int = 0, on_step=None
             ) -> tuple[np.ndarray, np.ndarray]:
        """Episodes ``seeds`` [B] played at once by the controllers ``params`` [B, N] (one row each) in an
        :class:`envs.vector.EpisodeBatch` of ``backend`` (default env.backend); returns (returns [B], lengths [B]).
        V, M and C run once per step for all rows. ``negative_streak``: see EpisodeBatch (training rollouts).
        ``on_step(batch, stepped)`` is called after every step with the rows it stepped ([B] bool; benches read the
        envs' state there)."""
        from envs.vector import EpisodeBatch

        batch = EpisodeBatch(self.cfg, seeds, backend, negative_streak=negative_streak)
        try:
            state = self._start(params, seeds)
            frames = batch.reset()
            total = np.zeros(len(batch), np.float64)
            while not batch.done.all():
                actions, _ = self._act(state, frames)
                stepped = None if on_step is None else ~batch.done  # only a bench's hook reads it
                frames, rewards, _ = batch.step(actions)
                total += rewards
                if on_step is not None:
                    on_step(batch, stepped)
            return total, batch.steps.copy()
        finally:
            batch.close()

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
        """Worker entry: task = (params [k, N], seeds [k], negative_streak), one row per episode -> (returns [k],
        lengths [k])."""
        params, seeds, negative_streak = task
        returns, lengths = self.play(params, seeds, negative_streak=negative_streak)
        return [float(r) for r in returns], [int(n) for n in lengths]


def agent_factory(run_dir: str, cfg_dict: dict):
    """Picklable factory for :class:`controller.workers.WorkerPool`: builds the Agent inside the worker."""
    from common.config import config_from_dict

    return Agent(run_dir, config_from_dict(cfg_dict), with_env=False).rollouts
