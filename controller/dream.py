"""Batched dream evaluation: a whole CMA-ES generation of DoomRNN rollouts as one compiled TensorFlow call.

The fitness function of dream training (ORIGINAL-SPEC §6, DETAILED §5-6). Every rollout of every candidate runs
in one batch that steps in lockstep: reset draws a start z from the stored initial (mu, logvar) rows, then each
step C acts on [z, c, h], M consumes (z, a, restart) and ``rnn.model.dream_step`` draws the next z with temperature
τ; a rollout ends when M's death logit is > 0 (thresholded, τ not applied; ``death_logit`` moves the threshold) or
after ``max_steps`` steps. Reward is 1 per step including the terminal one, so a rollout's return equals its length.
These are the semantics of :class:`envs.dream.DoomDreamEnv`, with the same ``dream_step``, so the two agree in
distribution (tests).

Speed: the loop runs inside one XLA-compiled ``tf.function``. Rollouts that died stop costing compute: every
``segment_steps`` steps the alive rows are gathered to the front and the next segment runs on the smallest
"bucket" (``batch``, ``3/4 batch``, ``9/16 batch``, ... rows) that holds them, chosen with ``tf.switch_case`` so
every shape is static and nothing retraces (bench/dream_throughput.py measures the gain, and the gain of steps of
3/4 over halving: fewer dead rows ride along, for more branches to compile). The loops are explicit
``tf.while_loop`` calls, traced without autograph: converting the call tree (C, M, the MDN sampling) cost seconds
per process. Randomness is stateless and derived from ``seed`` and the step number, so a seed repeats exactly;
which noise a rollout gets depends on its position in the bucket, so a different compaction schedule gives
different (equally distributed) samples. Compiled by XLA, the numbers come from its ThreeFry generator, so the
same seed gives other (equally distributed) samples than the plain graph or the dream env.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from controller.model import ControllerShape, act, observation
from rnn.model import dream_step


class DreamResult(NamedTuple):
    """Outcome of one generation of dream rollouts."""

    returns: np.ndarray  # [population, num_rollouts] float32, reward 1 per step (equals lengths)
    lengths: np.ndarray  # [population, num_rollouts] int32, steps until death or max_steps


def bucket_sizes(batch: int, min_bucket: int = 16, ratio: float = 0.75) -> list[int]:
    """Row counts a segment may run at: batch, ceil(batch * ratio), ... down to ``min_bucket`` (largest first)."""
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"bucket ratio must be in (0, 1), got {ratio}")
    sizes = [batch]
    while sizes[-1] > min_bucket:
        sizes.append(max(min_bucket, math.ceil(sizes[-1] * ratio)))
    return sizes


class BatchedDream:
    """M as a batched, compiled dream: ``rollout(params, num_rollouts, seed)`` scores a whole population.

    Args:
        rnn: an ``rnn.model.MDNRNN`` with a death head (``predict_death=True``).
        initial_mu: [N, z_size] stored first-frame means (``<run>/series/initial_z.npz``).
        initial_logvar: [N, z_size] their log-variances.
        shape: the controller's ``ControllerShape`` (what C sees and how its params are packed).
        temperature: τ of ``sample_mdn`` (Doom paper 1.15, authors' code 1.25).
        max_steps: truncation; a rollout alive after this many steps stops with length ``max_steps`` (2100).
        segment_steps: steps between compactions of the alive set.
        compact: False runs every row until the last rollout ends (the reference for tests and the bench).
        min_bucket: the smallest bucket; below it compaction is not worth a branch.
        bucket_ratio: each bucket holds this fraction of the next larger one (:func:`bucket_sizes`).
        jit_compile: compile with XLA (about 2x faster on CPU than the plain graph at 1024 rows).
        death_logit: a rollout dies when M's death logit exceeds it (the authors' 0: probability > 0.5).
    """

    def __init__(self, rnn, initial_mu, initial_logvar, shape: ControllerShape, temperature: float,
                 max_steps: int = 2100, *, segment_steps: int = 16, compact: bool = True, min_bucket: int = 16,
                 bucket_ratio: float = 0.75, jit_compile: bool = True, death_logit: float = 0.0):
        if getattr(rnn, "predict_death", True) is False:
            raise ValueError("BatchedDream needs an M with a death head (rnn.predict_death=True, Doom)")
        mu = np.asarray(initial_mu, np.float32)
        logvar = np.asarray(initial_logvar, np.float32)
        if mu.ndim != 2 or mu.shape != logvar.shape or mu.shape[0] == 0:
            raise ValueError(f"initial_mu and initial_logvar must be equal non-empty [N, z_size] arrays, "
                             f"got {mu.shape} and {logvar.shape}")
        if temperature <= 0 or max_steps < 1 or segment_steps < 1 or not 0.0 < bucket_ratio < 1.0:
            raise ValueError(f"need temperature > 0, max_steps >= 1, segment_steps >= 1, 0 < bucket_ratio < 1; got "
                             f"{temperature}, {max_steps}, {segment_steps}, {bucket_ratio}")
        self.rnn = rnn
        self.shape = shape
        self.temperature = float(temperature)
        self.max_steps = int(max_steps)
        self.segment_steps = int(segment_steps)
        self.compact = bool(compact)
        self.min_bucket = int(min_bucket)
        self.bucket_ratio = float(bucket_ratio)
        self.death_logit = float(death_logit)
        self.z_size = mu.shape[1]
        self.hidden_size = int(rnn.hidden_size)
        self.action_size = int(rnn.action_size)
        self._mu = tf.constant(mu)
        self._std = tf.constant(np.exp(logvar / 2.0))  # z0 = mu + exp(logvar/2) * eps, as the dream env
        # XLA's ThreeFry draws the step's uniform and normal numbers faster than the default generator (README
        # "Throughput"); it exists only inside XLA.
        self._alg = "threefry" if jit_compile else "auto_select"
        self._run = tf.function(self._generation, jit_compile=jit_compile, reduce_retracing=False,
                                autograph=False)

    # ------------------------------------------------------------------ public
    def rollout(self, params, num_rollouts: int, seed: int) -> DreamResult:
        """Simulate ``num_rollouts`` dream episodes for each row of ``params`` in one compiled call.

        Args:
            params: [population, num_params] float32 controller parameters, one candidate per row.
            num_rollouts: episodes per candidate.
            seed: any int; the same (params, num_rollouts, seed) gives identical results.

        Returns:
            DreamResult with returns and lengths of shape [population, num_rollouts].
        """
        params = np.asarray(params, np.float32)
        if params.ndim != 2 or params.shape[1] != self.shape.num_params:
            raise ValueError(f"params must be [population, {self.shape.num_params}], got {params.shape}")
        if num_rollouts < 1:
            raise ValueError(f"num_rollouts must be >= 1, got {num_rollouts}")
        population = params.shape[0]
        # Row b = p * num_rollouts + r plays candidate p's r-th rollout.
        row_params = np.repeat(params, num_rollouts, axis=0)
        key = np.array([np.uint32(seed & 0xFFFFFFFF), np.uint32((seed >> 32) & 0x7FFFFFFF)], np.int64)
        lengths = self._run(tf.constant(row_params), tf.constant(key.astype(np.int32)))
        lengths = lengths.numpy().astype(np.int32).reshape(population, num_rollouts)
        return DreamResult(returns=lengths.astype(np.float32), lengths=lengths)

    # ------------------------------------------------------------------ compiled body
    def _segment(self, size: int, order, t, state, row_params, key):
        """Run up to ``segment_steps`` steps on the first ``size`` rows of ``order`` (alive rows come first)."""
        z_all, h_all, c_all, alive_all, length_all = state
        rows = order[:size]
        z, h, c = tf.gather(z_all, rows), tf.gather(h_all, rows), tf.gather(c_all, rows)
        alive, length = tf.gather(alive_all, rows), tf.gather(length_all, rows)
        params = tf.gather(row_params, rows)
        stop = tf.minimum(t + self.segment_steps, self.max_steps)
        temperature = tf.constant(self.temperature, tf.float32)

        def body(t, z, h, c, alive, length):
            action = act(params, observation(z, c, h, self.shape), self.shape)
            # restart = 1 only on each rollout's first step (all rollouts start together at t = 0).
            restart = tf.fill([size], tf.cast(tf.equal(t, 0), tf.float32))
            seed = tf.random.experimental.stateless_fold_in(key, t)
            z, h, c, died = dream_step(self.rnn, z, tf.cast(action, tf.float32), restart, h, c, temperature, seed,
                                       self._alg, self.death_logit)
            # Every step of a live rollout earns reward 1, the terminal one included; death is thresholded.
            length = length + tf.cast(alive, tf.int32)
            alive = alive & ~died & (t + 1 < self.max_steps)
            return t + 1, z, h, c, alive, length

        def cond(t, z, h, c, alive, length):
            return (t < stop) & tf.reduce_any(alive)

        t, z, h, c, alive, length = tf.while_loop(cond, body, (t, z, h, c, alive, length))
        index = rows[:, None]
        state = (tf.tensor_scatter_nd_update(z_all, index, z), tf.tensor_scatter_nd_update(h_all, index, h),
                 tf.tensor_scatter_nd_update(c_all, index, c), tf.tensor_scatter_nd_update(alive_all, index, alive),
                 tf.tensor_scatter_nd_update(length_all, index, length))
        return (t,) + state

    def _generation(self, row_params, key):
        """[batch, num_params] params and a [2] int32 key -> [batch] int32 lengths."""
        batch = row_params.shape[0]
        # Reset: one stored (mu, logvar) row per rollout, uniformly; z0 = mu + std * eps; c = h = 0.
        pick = tf.random.stateless_uniform([batch], tf.random.experimental.stateless_fold_in(key, self.max_steps),
                                           minval=0, maxval=self._mu.shape[0], dtype=tf.int32)
        eps = tf.random.stateless_normal([batch, self.z_size],
                                         tf.random.experimental.stateless_fold_in(key, self.max_steps + 1))
        z = tf.gather(self._mu, pick) + tf.gather(self._std, pick) * eps
        h = tf.zeros([batch, self.hidden_size])
        c = tf.zeros([batch, self.hidden_size])
        alive = tf.ones([batch], tf.bool)
        length = tf.zeros([batch], tf.int32)
        sizes = bucket_sizes(batch, self.min_bucket, self.bucket_ratio) if self.compact else [batch]
        sizes_t = tf.constant(sizes, tf.int32)
        branches_for = lambda order, t, state: [  # noqa: E731
            (lambda s=s: self._segment(s, order, t, state, row_params, key)) for s in sizes]

        def body(t, z, h, c, alive, length):
            # Alive rows first (stable), then the smallest bucket that holds them all.
            order = tf.argsort(tf.cast(~alive, tf.int32), stable=True)
            num_alive = tf.reduce_sum(tf.cast(alive, tf.int32))
            branch = tf.reduce_sum(tf.cast(sizes_t >= num_alive, tf.int32)) - 1
            return tf.switch_case(branch, branches_for(order, t, (z, h, c, alive, length)))

        def cond(t, z, h, c, alive, length):
            return (t < self.max_steps) & tf.reduce_any(alive)

        out = tf.while_loop(cond, body, (tf.constant(0), z, h, c, alive, length))
        return out[-1]
