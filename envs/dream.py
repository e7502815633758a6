"""DoomDreamEnv (``worldmodels/DoomDream-v0``): M, the MDN-RNN, as a Gymnasium environment (the authors' DoomRNN).

ORIGINAL-SPEC §6 and ORIGINAL-SPEC-DETAILED §5-6 (``doomrnn/doomrnn.py:518-657``). This is the one module that
reaches forward in the import order: it imports ``rnn`` (and ``vae`` for rendering) inside methods, and
``envs/__init__.py`` registers it by string, so ``import envs`` stays light.
"""
from __future__ import annotations

import os
from pathlib import Path

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from common.config import ConfigError
from envs.episodes import load_initial_z


def _load_keras(path: str | os.PathLike, what: str, fix: str):
    import keras

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} not found at {path}: {fix}")
    return keras.models.load_model(path, compile=False)


class DoomDreamEnv(gym.Env):
    """The Doom TakeCover dream: M predicts the next latent frame and whether the agent dies.

    ## Description
    The authors' DoomRNN environment (Ha & Schmidhuber 2018, §4.4 and appendix): the controller is trained
    entirely inside M's hallucination. Each step M consumes ``[z_t, a_t, restart_t]``, its MDN head gives a
    per-dimension mixture over ``z_{t+1}`` that is sampled at temperature τ, and its death head says whether
    the episode ends.

    ## Action Space
    ``Box(-1, 1, (1,), float32)``: the controller's continuous output, fed to M as is (the real game applies
    the thirds rule; M was trained on the continuous value).

    ## Observation Space
    ``Box(-inf, inf, (Nz + 2 Nh,), float32)`` = ``[z, c, h]`` in THAT order (1088 = 64 + 512 + 512 for the paper
    model): the sampled latent z_t, then the LSTM cell state c and output h *after* consuming (z_{t-1}, a_{t-1},
    restart), i.e. the state that produced z_t's distribution. At reset c = h = 0. (The authors declared bounds
    ±50; nothing clips to them, so the space is unbounded.)

    ## Rewards
    +1 for every step, including the terminal one; an episode's return equals its length.

    ## Starting State
    One of the stored initial (mu, logvar) rows (first frames of the first 1000 recorded episodes, from
    ``<run>/series/initial_z.npz``) is chosen uniformly with ``self.np_random`` and
    z_0 = mu + exp(logvar / 2) * eps; c = h = 0; the first step has restart = 1.

    ## Episode End
    Terminated when M's death logit is > 0 (probability > 0.5; thresholded, never sampled, τ not applied).
    Truncated after 2100 steps by the ``TimeLimit`` of ``gymnasium.make("worldmodels/DoomDream-v0")``.

    ## Arguments
    ``rnn_path`` (``<run>/rnn/model.keras``), ``initial_z_path`` (``<run>/series/initial_z.npz``), ``vae_path``
    (``<run>/vae/model.keras``, needed only for ``render_mode="rgb_array"``), ``temperature`` τ (paper 1.15,
    authors' code 1.25), ``render_mode`` (None or ``"rgb_array"``: V decodes z into a 64x64x3 uint8 frame).
    Randomness: every TF sampling call gets a stateless seed drawn from ``self.np_random``, so
    ``reset(seed=s)`` followed by the same actions repeats exactly.

    ## Version History
    * v0: initial version (authors' DoomRNN semantics; observation [z, c, h]).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 35}

    def __init__(self, rnn_path: str | None = None, initial_z_path: str | None = None, vae_path: str | None = None,
                 temperature: float = 1.15, render_mode: str | None = None):
        if rnn_path is None or initial_z_path is None:
            raise ConfigError("DoomDreamEnv needs rnn_path=<run>/rnn/model.keras and "
                              "initial_z_path=<run>/series/initial_z.npz")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ConfigError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if render_mode == "rgb_array" and vae_path is None:
            raise ConfigError("render_mode='rgb_array' decodes z with V: pass vae_path=<run>/vae/model.keras")
        if not float(temperature) > 0:
            raise ConfigError(f"temperature must be > 0, got {temperature}")
        rnn = _load_keras(rnn_path, "M", "train it with `python -m rnn train`")
        mu, logvar = load_initial_z(initial_z_path)
        vae = _load_keras(vae_path, "V", "train it with `python -m vae train`") if vae_path else None
        self._setup(rnn, mu, logvar, vae, float(temperature), render_mode)

    @classmethod
    def from_models(cls, rnn, initial_mu, initial_logvar, vae=None, temperature: float = 1.15,
                    render_mode: str | None = None) -> "DoomDreamEnv":
        """An env around in-memory models (tests, benches, video); not re-creatable through ``env.spec``."""
        env = cls.__new__(cls)
        env._setup(rnn, np.asarray(initial_mu, np.float32), np.asarray(initial_logvar, np.float32), vae,
                   float(temperature), render_mode)
        return env

    def _setup(self, rnn, mu, logvar, vae, temperature, render_mode):
        import tensorflow as tf

        from rnn.model import dream_step

        if not getattr(rnn, "predict_death", False):
            raise ConfigError("DoomDreamEnv needs a Doom M with a death head (rnn.predict_death=True)")
        if mu.shape[1] != rnn.z_size:
            raise ConfigError(f"initial z has size {mu.shape[1]} but M expects z_size {rnn.z_size}")
        self.rnn, self.vae = rnn, vae
        self.temperature = temperature  # read at every step: a viewer may change it between steps
        self.render_mode = render_mode
        self._mu, self._std = mu, np.exp(logvar / 2.0).astype(np.float32)  # std = exp(logvar / 2)
        self.z_size, self.hidden_size = int(rnn.z_size), int(rnn.hidden_size)
        self.observation_space = spaces.Box(-np.inf, np.inf, (self.z_size + 2 * self.hidden_size,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (int(rnn.action_size),), np.float32)
        self._step_fn = tf.function(lambda *args: dream_step(rnn, *args), jit_compile=True, autograph=False)
        self._z = self._h = self._c = None
        self._restart = 1.0

    # ------------------------------------------------------------------ gymnasium API
    def _obs(self) -> np.ndarray:
        return np.concatenate([self._z, self._c, self._h]).astype(np.float32)  # [z, c, h]: the authors' order

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        pick = self.np_random.integers(len(self._mu))
        eps = self.np_random.standard_normal(self.z_size).astype(np.float32)
        self._z = (self._mu[pick] + self._std[pick] * eps).astype(np.float32)
        self._h = np.zeros(self.hidden_size, np.float32)
        self._c = np.zeros(self.hidden_size, np.float32)
        self._restart = 1.0
        return self._obs(), {}

    def step(self, action):
        if self._z is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        a = np.asarray(action, dtype=np.float32).reshape(-1)
        if a.shape != self.action_space.shape or not np.all(np.isfinite(a)):
            raise gym.error.InvalidAction(f"action must be {self.action_space}, got {action!r}")
        seed = self.np_random.integers(0, 2**31 - 1, size=2).astype(np.int32)
        z, h, c, dead = self._step_fn(self._z[None], a[None], np.array([self._restart], np.float32),
                                      self._h[None], self._c[None], np.float32(self.temperature), seed)
        self._z, self._h, self._c = z.numpy()[0], h.numpy()[0], c.numpy()[0]
        terminated = bool(dead.numpy()[0])
        # As doomrnn.py: after a predicted death the next input carries restart = 1.
        self._restart = 1.0 if terminated else 0.0
        return self._obs(), 1.0, terminated, False, {}

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without render_mode; make the env with render_mode='rgb_array'")
            return None
        z = np.zeros(self.z_size, np.float32) if self._z is None else self._z
        frame = np.asarray(self.vae.decode(z[None]))[0]
        return np.clip(np.round(frame * 255.0), 0, 255).astype(np.uint8)

    def close(self):
        pass
