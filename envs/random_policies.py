"""The authors' random policies for the data-collection step (spec §2; detailed §1.3 and §1.5), in NumPy.

Each policy is built per episode from the episode seed only (``np.random.default_rng(seed)``) and called once
per step with the frame seen before the action: ``action = policy(obs)``.

- Doom (:class:`DoomRepeatPolicy`): ``repeat`` ~ 1..10; at frame f, if f % repeat == 0, a new action
  ~ U[-1, 1) and a new repeat ~ 1..10 are drawn. The divisibility test uses the *new* repeat against the
  absolute frame index, so holds last 1..repeat frames (mean ~3.7).
- CarRacing (:class:`CarRacingRandomAgent`): the agent itself with random weights. Per episode a scale
  s ~ U[0, 1) * 0.01; C's weights and biases are standard Cauchy * s; V's encoder and M's LSTM weights and
  biases are standard Cauchy * s / 10000, because the authors' ``ConvVAE.set_model_params`` and
  ``MDNRNN.set_model_params`` divide by 10000 (their JSON files store weights * 10000 as integers;
  ``carracing/vae/vae.py``, ``carracing/rnn/rnn.py``), while ``Model.set_model_params`` (C) does not. Per step:
  z = mu + exp(logvar / 2) * eps from the random encoder, action = C(z, h) with the gas/brake mapping, then the
  LSTM consumes [z, action]. M's MDN head is not built: it never influences the action.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from envs.actions import to_env_action

ENCODER_FILTERS = (32, 64, 128, 256)
KERNEL, STRIDE = 4, 2
VM_DIVISOR = 10000.0  # the authors' set_model_params of V and M divide every weight by 10000


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * v))  # no overflow for large |v|


class DoomRepeatPolicy:
    """Uniform action in [-1, 1) held by the authors' repeat rule (``doomrnn/extract.py``)."""

    def __init__(self, seed: int, max_hold: int = 10):
        self.rng = np.random.default_rng(seed)
        self.max_hold = int(max_hold)  # the authors' 10; larger values reach the walls (README "Results")
        self.repeat = int(self.rng.integers(1, self.max_hold + 1))
        self.frame = 0
        self.action = np.zeros(1, np.float32)
        self.new_hold = False  # whether the last call started a hold

    def __call__(self, obs=None) -> np.ndarray:
        self.new_hold = self.frame % self.repeat == 0
        if self.new_hold:
            self.action = np.array([self.rng.random() * 2.0 - 1.0], np.float32)
            self.repeat = int(self.rng.integers(1, self.max_hold + 1))
        self.frame += 1
        return self.action.copy()


class ExploringPolicy:
    """The paper's iterative training (section 5, step 2): collect with the trained agent, plus exploration.

    ``act(obs, forced)`` is the agent's acting function (the agent's ``policy(params, seed)``). The holds of
    :class:`DoomRepeatPolicy` (same seed) cut the episode into segments; each segment, with probability
    ``explore``, takes that policy's held random action instead of C's (M still consumes the action taken).
    """

    def __init__(self, act, seed: int, explore: float, max_hold: int = 10):
        self.act, self.explore = act, float(explore)
        self.holds = DoomRepeatPolicy(seed, max_hold)
        self.rng = np.random.default_rng([seed, 1])  # apart from the hold schedule's stream
        self.exploring = False

    def __call__(self, obs) -> np.ndarray:
        random_action = self.holds(obs)
        if self.holds.new_hold:
            self.exploring = bool(self.rng.random() < self.explore)
        return np.asarray(self.act(obs, random_action if self.exploring else None), np.float32)


def conv2d_valid(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, stride: int = STRIDE) -> np.ndarray:
    """TF 'VALID' conv of one image x [H, W, C] with kernel [k, k, C, F] (HWIO) and bias [F] -> [H', W', F]."""
    k = kernel.shape[0]
    win = sliding_window_view(x, (k, k), axis=(0, 1))[::stride, ::stride]  # [H', W', C, k, k]
    ho, wo = win.shape[:2]
    cols = win.transpose(0, 1, 3, 4, 2).reshape(ho * wo, -1)  # rows (kh, kw, c) as the HWIO kernel
    return (cols @ kernel.reshape(-1, kernel.shape[-1]) + bias).reshape(ho, wo, -1)


class CarRacingRandomAgent:
    """Random V encoder + random LSTM + random linear controller on [z, h] (``carracing/extract.py``)."""

    def __init__(self, seed: int, z_size: int = 32, hidden_size: int = 256, action_size: int = 3):
        rng = np.random.default_rng(seed)
        self.scale = float(rng.random() * 0.01)

        def cauchy(*shape, divisor=1.0):
            return (rng.standard_cauchy(shape) * self.scale / divisor).astype(np.float32)

        vm = dict(divisor=VM_DIVISOR)

        self.convs = []
        channels = 3
        for filters in ENCODER_FILTERS:
            self.convs.append((cauchy(KERNEL, KERNEL, channels, filters, **vm), cauchy(filters, **vm)))
            channels = filters
        flat = 2 * 2 * ENCODER_FILTERS[-1]
        self.w_mu, self.b_mu = cauchy(flat, z_size, **vm), cauchy(z_size, **vm)
        self.w_logvar, self.b_logvar = cauchy(flat, z_size, **vm), cauchy(z_size, **vm)
        # Authors' TF1 cell: one kernel [in + Nh, 4 Nh], gate blocks i, j, f, o, forget bias +1.0 at run time.
        self.lstm_kernel = cauchy(z_size + action_size + hidden_size, 4 * hidden_size, **vm)
        self.lstm_bias = cauchy(4 * hidden_size, **vm)
        # Controller packing (spec §7.1): params[0:3] = b, params[3:] = W (z+h, 3) row-major.
        params = cauchy(action_size + (z_size + hidden_size) * action_size)
        self.c_bias = params[:action_size]
        self.c_weight = params[action_size:].reshape(z_size + hidden_size, action_size)
        self.rng = rng  # z sampling noise, after all weights were drawn
        self.hidden_size = hidden_size
        self.h = np.zeros(hidden_size, np.float32)
        self.c = np.zeros(hidden_size, np.float32)

    def encode(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = obs.astype(np.float32) / 255.0
        for kernel, bias in self.convs:
            x = np.maximum(conv2d_valid(x, kernel, bias), 0.0)
        x = x.reshape(-1)  # TF flatten order h, w, c
        return x @ self.w_mu + self.b_mu, x @ self.w_logvar + self.b_logvar

    def lstm_step(self, inputs: np.ndarray) -> None:
        gates = np.concatenate([inputs, self.h]) @ self.lstm_kernel + self.lstm_bias
        i, j, f, o = np.split(gates, 4)
        self.c = self.c * _sigmoid(f + 1.0) + _sigmoid(i) * np.tanh(j)
        self.h = np.tanh(self.c) * _sigmoid(o)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        mu, logvar = self.encode(obs)
        z = mu + np.exp(logvar / 2.0) * self.rng.standard_normal(mu.shape).astype(np.float32)
        a = np.tanh(np.concatenate([z, self.h]) @ self.c_weight + self.c_bias)
        action = to_env_action(a, "carracing").astype(np.float32)
        self.lstm_step(np.concatenate([z, action]).astype(np.float32))
        return action


def make_random_policy(experiment: str, seed: int, max_hold: int = 10):
    """The authors' data-collection policy of ``experiment`` for the episode collected with ``seed``."""
    if experiment == "doom":
        return DoomRepeatPolicy(seed, max_hold)
    if experiment == "carracing":
        return CarRacingRandomAgent(seed)
    raise ValueError(f"no random policy for experiment {experiment!r}")
