"""What one browser tab of ``python -m controller play`` plays: M's dream decoded by V (as the paper's demos), or
the real game beside V's reconstruction, with C acting unless the player overrides it.

A dream session steps exactly as :class:`envs.dream.DoomDreamEnv` does, so what the page shows is the dream C was
trained and scored in: ``reset(seed)`` seeds a Gymnasium generator, picks one stored initial (mu, logvar) row and
draws z_0 = mu + exp(logvar / 2) * eps from it; every step draws a stateless seed [2] from the same generator and
calls :func:`rnn.model.dream_step` (restart = 1 on the first step and after a death). Unlike the env, τ is an
argument of each step (the page's slider changes the dream as it runs), and an M without a death head (CarRacing)
is played too: that dream never ends by death, only at ``cfg.env.max_steps``.

:class:`Models` holds V, M, C and the initial z once for the whole server; every session holds only its state.
TensorFlow calls go through one lock (the sessions of several tabs take turns; a step is a few milliseconds).
"""
from __future__ import annotations

import base64
import io
import secrets
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from common.config import Config, ConfigError
from common.run_layout import RunLayout
from controller.video import decode_frames, to_uint8

DOOM_ACTIONS = {"left": -1.0, "stay": 0.0, "right": 1.0}  # fed to M as is; the real game's thirds rule agrees
MAX_SEED = 2**31 - 1
MAX_SESSIONS = 16  # tabs beyond this evict the least recently used session (a real one holds a game process)


def png_data_url(frame: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class Models:
    """V, M, C's parameters and the initial z of one run, loaded once and shared by every session.

    Raises ConfigError (before any port is bound) when the run lacks V, M or its initial z, or their sizes
    disagree with the run's config. A run without ``controller[-TAG]/best.json`` still plays: the player acts
    and "auto" stays put.
    """

    def __init__(self, cfg: Config, run_dir: str | Path, tag: str | None = None):
        import tensorflow as tf

        from controller.evaluate import read_params
        from controller.shape import controller_shape
        from envs.episodes import load_initial_z
        from rnn.export import has_rnn, load_m
        from vae.export import has_vae, load_v

        layout = RunLayout(run_dir)
        if not layout.root.is_dir():
            raise ConfigError(f"--run-dir {layout.root} does not exist")
        missing = [name for name, ok in (("V", has_vae(layout.root)), ("M", has_rnn(layout.root))) if not ok]
        if missing:
            raise ConfigError(f"{layout.root} holds no {' and no '.join(missing)} (vae/, rnn/ model.keras or "
                              f"saved_model): train them first, or pass a finished run such as reports/results/doom")
        if not layout.initial_z.is_file():
            raise ConfigError(f"{layout.initial_z} not found: rebuild it with `python -m vae encode "
                              f"--initial-z-only --run-dir {layout.root}`")
        self.cfg, self.layout = cfg, layout
        self.shape = controller_shape(cfg)
        best = layout.controller(tag).best
        if tag is not None and not best.exists():
            raise ConfigError(f"{best} not found: choose a --tag among the run's controller-TAG folders")
        self.params = read_params(best, self.shape.num_params)[0] if best.exists() else None
        self.controller_file = best if self.params is not None else None
        self.vae, self.rnn = load_v(layout.root), load_m(layout.root)
        mu, logvar = load_initial_z(layout.initial_z)
        sizes = {"V's z": int(self.vae.z_size), "M's z": int(self.rnn.z_size), "initial z": mu.shape[1],
                 "config vae.z_size": cfg.vae.z_size}
        if len(set(sizes.values())) != 1 or int(self.rnn.hidden_size) != cfg.rnn.hidden_size \
                or int(self.rnn.action_size) != cfg.env.action_size:
            raise ConfigError(f"{layout.root}: sizes disagree ({sizes}, M hidden {self.rnn.hidden_size} vs "
                              f"rnn.hidden_size {cfg.rnn.hidden_size}, M action {self.rnn.action_size} vs "
                              f"env.action_size {cfg.env.action_size})")
        self.mu, self.std = mu, np.exp(logvar / 2.0).astype(np.float32)  # std = exp(logvar / 2), as the env
        self.z_size, self.hidden_size = int(self.rnn.z_size), int(self.rnn.hidden_size)
        self.action_size = int(self.rnn.action_size)
        self.has_death = bool(getattr(self.rnn, "predict_death", False))
        self.lock = threading.Lock()
        self._tf = tf
        self._step_fn = tf.function(self._dream_step, jit_compile=True, autograph=False)  # as DoomDreamEnv's step
        self._agent = None

    def _dream_step(self, z, action, restart, h, c, temperature, seed):
        from rnn.model import dream_step

        tf = self._tf
        z_next, h_next, c_next, dead = dream_step(self.rnn, z, action, restart, h, c, temperature, seed)
        if self.has_death:  # the probability behind `dead` (M's state update again: a few kFLOP, shown only)
            out, _, _ = self.rnn.step(z, action, restart, h, c)
            probability = tf.sigmoid(tf.reshape(out.death_logit, [-1]))
        else:
            probability = tf.zeros([1], tf.float32)
        return z_next, h_next, c_next, dead, probability

    # ------------------------------------------------------------------ called under self.lock
    def step(self, z, action, restart: float, h, c, temperature: float, seed):
        tf = self._tf
        out = self._step_fn(tf.constant(z[None]), tf.constant(np.asarray(action, np.float32)[None]),
                            tf.constant([restart], tf.float32), tf.constant(h[None]), tf.constant(c[None]),
                            tf.constant(temperature, tf.float32), tf.constant(seed, tf.int32))
        z, h, c, dead, probability = (t.numpy()[0] for t in out)
        return z, h, c, bool(dead), float(probability)

    def controller_action(self, z, c, h) -> np.ndarray:
        """C's action for the dream observation (Doom [z, c, h]) as M consumes it (CarRacing: gas and brake
        mapped as sent to the game, what M was trained on); zeros (stay / coast) when the run has no C."""
        from controller.model import act, observation
        from envs.actions import to_env_action

        if self.params is None:
            return np.zeros(self.action_size, np.float32)
        x = observation(z[None], c[None], h[None], self.shape)
        return to_env_action(np.asarray(act(self.params, x, self.shape))[0], self.cfg.experiment)

    def decode(self, z) -> np.ndarray:
        return decode_frames(self.vae, np.asarray(z, np.float32)[None])[0]

    def reconstruct(self, frame: np.ndarray) -> np.ndarray:
        """V's reconstruction of a real frame: decode(mu) of its encoding."""
        mu, _ = self.vae.encode(self._tf.constant(frame[None], self._tf.float32) / 255.0)
        return to_uint8(self.vae.decode(mu))[0]

    def agent(self):
        """The real-env agent (V + M + C as ``controller evaluate`` plays), made on the first real session."""
        if self._agent is None:
            from controller.agent import Agent

            self._agent = Agent(self.layout.root, self.cfg, threads=None, with_env=False)
        return self._agent


def new_seed() -> int:
    return secrets.randbelow(MAX_SEED)


class DreamSession:
    """One tab's dream: DoomDreamEnv's state and random stream, τ per step, C or the player acting."""

    mode = "dream"

    def __init__(self, models: Models, temperature: float, seed: int | None = None):
        self.models = models
        self.temperature = float(temperature)
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        from gymnasium.utils import seeding

        m = self.models
        self.seed = new_seed() if seed is None else int(seed)
        self.rng, _ = seeding.np_random(self.seed)  # what gymnasium.Env.reset(seed=...) makes
        pick = self.rng.integers(len(m.mu))
        eps = self.rng.standard_normal(m.z_size).astype(np.float32)
        self.z = (m.mu[pick] + m.std[pick] * eps).astype(np.float32)
        self.h = np.zeros(m.hidden_size, np.float32)
        self.c = np.zeros(m.hidden_size, np.float32)
        self.restart, self.steps = 1.0, 0
        self.done, self.end = False, None
        self.death_probability: float | None = None
        self.action: np.ndarray | None = None
        self.by_player = False
        with m.lock:
            self.frame = m.decode(self.z)

    def step(self, action: np.ndarray | None, temperature: float | None = None) -> None:
        """One dream step with ``action`` (None: C acts); nothing happens once the dream has ended."""
        if self.done:
            return
        m = self.models
        if temperature is not None:
            self.temperature = float(temperature)
        with m.lock:
            a = m.controller_action(self.z, self.c, self.h) if action is None else np.asarray(action, np.float32)
            seed = self.rng.integers(0, MAX_SEED, size=2).astype(np.int32)
            self.z, self.h, self.c, dead, self.death_probability = m.step(
                self.z, a, self.restart, self.h, self.c, self.temperature, seed)
            self.frame = m.decode(self.z)
        self.restart = 1.0 if dead else 0.0  # as doomrnn.py: after a predicted death the next input restarts
        self.steps += 1
        self.action, self.by_player = a, action is not None
        if dead or self.steps >= m.cfg.env.max_steps:
            self.done, self.end = True, "death" if dead else "time limit"

    def state(self) -> dict:
        return {"mode": self.mode, "frame": png_data_url(self.frame), "step": self.steps, "seed": self.seed,
                "done": self.done, "end": self.end, "temperature": self.temperature,
                "death_probability": self.death_probability if self.models.has_death else None,
                "action": None if self.action is None else [float(x) for x in self.action],
                "by": None if self.action is None else ("player" if self.by_player else "C")}

    def close(self) -> None:
        pass


class RealSession:
    """One tab's real game: the agent of ``controller evaluate`` (V encodes, C acts, M updates its state) in
    ``envs.make_env(cfg)``; the page shows the real frame beside V's reconstruction of it."""

    mode = "real"

    def __init__(self, models: Models, seed: int | None = None):
        from envs import make_env

        self.models = models
        self.temperature = None
        with models.lock:
            self._agent = models.agent()
        self.env = make_env(models.cfg)
        self.reset(seed)

    def _show(self) -> None:
        with self.models.lock:
            self.frame = np.concatenate([self.obs, self.models.reconstruct(self.obs)], axis=1)

    def reset(self, seed: int | None = None) -> None:
        m = self.models
        self.seed = new_seed() if seed is None else int(seed)
        params = m.params if m.params is not None else np.zeros(m.shape.num_params, np.float32)
        self._act = self._agent.policy(params, self.seed)
        self.obs, _ = self.env.reset(seed=self.seed)
        self.steps, self.score, self.done, self.end = 0, 0.0, False, None
        self.action: np.ndarray | None = None
        self.by_player = False
        self._show()

    def step(self, action: np.ndarray | None, temperature: float | None = None) -> None:
        """One game step; ``action`` (an env action) replaces C's, and M consumes it. τ plays no part here."""
        if self.done:
            return
        with self.models.lock:
            a = self._act(self.obs, action)
        self.obs, reward, terminated, truncated, _ = self.env.step(a)
        self.steps += 1
        self.score += float(reward)
        self.action, self.by_player = np.asarray(a, np.float32), action is not None
        if terminated or truncated:
            self.done, self.end = True, "death" if terminated else "time limit"
        self._show()

    def state(self) -> dict:
        return {"mode": self.mode, "frame": png_data_url(self.frame), "step": self.steps, "seed": self.seed,
                "done": self.done, "end": self.end, "temperature": None, "death_probability": None,
                "score": self.score, "action": None if self.action is None else [float(x) for x in self.action],
                "by": None if self.action is None else ("player" if self.by_player else "C")}

    def close(self) -> None:
        self.env.close()


class Sessions:
    """Session id -> session, one per browser tab; the least recently used goes beyond MAX_SESSIONS."""

    def __init__(self, limit: int = MAX_SESSIONS):
        self.limit = limit
        self._items: OrderedDict[str, DreamSession | RealSession] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, session: DreamSession | RealSession) -> str:
        key = secrets.token_hex(8)
        evicted = []
        with self._lock:
            self._items[key] = session
            while len(self._items) > self.limit:
                evicted.append(self._items.popitem(last=False)[1])
        for old in evicted:
            old.close()
        return key

    def get(self, key) -> DreamSession | RealSession | None:
        with self._lock:
            session = self._items.get(key) if isinstance(key, str) else None
            if session is not None:
                self._items.move_to_end(key)
            return session

    def close(self) -> None:
        with self._lock:
            items, self._items = list(self._items.values()), OrderedDict()
        for session in items:
            session.close()
