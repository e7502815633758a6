"""M: the MDN-RNN, as the authors' code (../shared/reference/ORIGINAL-SPEC-DETAILED.md §4-5).

Cell: the TF1 ``LayerNormBasicLSTMCell(layer_norm=False)`` the authors used, written out: one kernel
[in + Nh, 4 Nh] applied to concat(input, h_prev), a bias [4 Nh], gate blocks in the order i, j, f, o
(j = candidate), the forget bias +1.0 added at run time (not stored):

    c' = c * sigmoid(f + 1) + sigmoid(i) * tanh(j),   h' = tanh(c') * sigmoid(o)

Kernel and bias are both glorot-uniform initialised, as ``tf.get_variable``'s default (a 1-D bias of length n
gets U(+-sqrt(3/n))); so are the MDN head's ``output_w`` / ``output_b``.

Inputs: CarRacing [z, a] (35 wide); Doom [z, a, restart] (66 wide). ``restart = 1`` zeroes c and h *before*
the step consumes the input (authors' manual unroll, doomrnn.py:327-351). CarRacing has no restart input; a
restart flag passed to a CarRacing model still zeroes the state (a new episode starts from the zero state, as
in the authors' training), it is just not fed to the cell.

Head: Dense on h' to Nz*3K (+1 for Doom, the death logit first). For latent dim d and component k:
logit at 15d + k, mean at 15d + 5 + k, log-std at 15d + 10 + k (Doom: all shifted by 1). Mixture weights are
per dimension: log-softmax over the K logits of each dim.

Parameter counts: CarRacing (Nz 32, A 3, Nh 256) 422,368; Doom (Nz 64, A 1, Nh 512) 1,678,785.

Numerical guard (deviation, values only): log-std is clamped to [-LOGSTD_LIMIT, LOGSTD_LIMIT] = [-20, 20] in
:func:`mdn_nll` and :func:`sample_mdn` so that the loss and samples stay finite at extreme outputs; std = e^20
or e^-20 is far outside anything a trained or freshly initialised M produces, where the authors' formula
would give inf or NaN instead.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

FORGET_BIAS = 1.0
LOGSTD_LIMIT = 20.0
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


class MDNOutput(NamedTuple):
    """M's prediction of the next z. ``logmix`` is log-softmax normalised per dimension and untempered."""

    logmix: tf.Tensor          # [..., Nz, K]
    mean: tf.Tensor            # [..., Nz, K]
    logstd: tf.Tensor          # [..., Nz, K]
    death_logit: tf.Tensor | None  # [...] (None when predict_death is False)


def mdn_nll(logmix, mean, logstd, target) -> tf.Tensor:
    """Per-dimension negative log-likelihood [..., Nz] of ``target`` [..., Nz] under the per-dim mixtures.

    -log sum_k exp(logmix_k + log N(y; mean_k, exp(logstd_k))), computed with logsumexp.
    """
    logstd = tf.clip_by_value(logstd, -LOGSTD_LIMIT, LOGSTD_LIMIT)
    y = tf.expand_dims(tf.convert_to_tensor(target, dtype=mean.dtype), -1)
    scaled = (y - mean) * tf.exp(-logstd)
    log_normal = -0.5 * tf.square(scaled) - logstd - _LOG_SQRT_2PI
    return -tf.reduce_logsumexp(logmix + log_normal, axis=-1)


def _broadcast_temperature(temperature, logmix) -> tf.Tensor:
    """A scalar τ, or one τ per leading row: shape logmix.shape[:-2] (or a prefix of it) -> [..., 1, 1]."""
    tau = tf.cast(tf.convert_to_tensor(temperature), logmix.dtype)
    if tau.shape.rank == 0:
        return tau
    extra = logmix.shape.rank - tau.shape.rank
    return tf.reshape(tau, tf.concat([tf.shape(tau), tf.ones([extra], tf.int32)], 0))


def sample_mdn(out: MDNOutput, temperature, seed, alg: str = "auto_select") -> tf.Tensor:
    """Sample z [..., Nz] as the authors (§5): per dimension, softmax(logmix / τ) picks one component by
    inverse CDF with one uniform number, then z = mean + exp(logstd) * sqrt(τ) * eps.

    ``temperature``: scalar, or one value per leading row (shape out.mean.shape[:-2] or a prefix of it).
    ``seed``: stateless seed, int32 tensor [2]; the same seed gives the same sample.
    ``alg``: the stateless generator of the uniform and normal numbers. "threefry" runs only inside XLA, where it
    is the fastest (bench/dream_step_profile.py: the batched dream's sampling); other algorithms give other,
    equally distributed numbers for the same seed.
    """
    logmix, mean, logstd = out.logmix, out.mean, out.logstd
    tau = _broadcast_temperature(temperature, logmix)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int32)
    seeds = tf.random.experimental.stateless_split(seed, num=2)
    probs = tf.nn.softmax(logmix / tau, axis=-1)
    cdf = tf.cumsum(probs, axis=-1)
    shape = tf.shape(mean)[:-1]
    u = tf.random.stateless_uniform(shape, seed=seeds[0], dtype=mean.dtype, alg=alg)
    k = tf.shape(mean)[-1]
    # Index of the first component whose CDF reaches u; rounding past the end -> last component (car code).
    idx = tf.minimum(tf.reduce_sum(tf.cast(cdf < u[..., None], tf.int32), axis=-1), k - 1)
    onehot = tf.one_hot(idx, k, dtype=mean.dtype)
    chosen_mean = tf.reduce_sum(mean * onehot, axis=-1)
    chosen_logstd = tf.reduce_sum(tf.clip_by_value(logstd, -LOGSTD_LIMIT, LOGSTD_LIMIT) * onehot, axis=-1)
    eps = tf.random.stateless_normal(shape, seed=seeds[1], dtype=mean.dtype, alg=alg)
    return chosen_mean + tf.exp(chosen_logstd) * tf.sqrt(tau[..., 0] if tau.shape.rank else tau) * eps


def death_from_logit(death_logit, threshold: float = 0.0) -> tf.Tensor:
    """done = death logit > ``threshold`` (thresholded, never sampled; τ not applied). The authors' 0 is predicted
    probability > 0.5; a lower threshold is a warier dream (``es.death_logit``)."""
    return tf.convert_to_tensor(death_logit) > threshold


def dream_step(rnn, z, action, restart, h, c, temperature, seed, alg: str = "auto_select",
               death_logit: float = 0.0):
    """One step of M's dream (DoomRNN): M consumes (z, action, restart), the next z is sampled at τ
    (:func:`sample_mdn`) and death is thresholded (:func:`death_from_logit`, τ not applied).

    The one dream step of the project: the dream env, the batched dream, the dream video and the dream viewer all
    call it. ``rnn`` is an :class:`MDNRNN` or anything with its ``step`` (``rnn.export.ServedRNN``). Returns
    (z_next [B, Nz], h, c, dead [B] bool); ``dead`` is all False for an M without a death head. ``alg``: the
    random generator of :func:`sample_mdn`; ``death_logit``: the threshold of :func:`death_from_logit`.
    """
    out, h, c = rnn.step(z, action, restart, h, c)
    z_next = sample_mdn(out, temperature, seed, alg)
    if out.death_logit is None:
        dead = tf.zeros(tf.shape(z_next)[:1], tf.bool)
    else:
        dead = tf.reshape(death_from_logit(out.death_logit, death_logit), tf.shape(z_next)[:1])
    return z_next, h, c, dead


def _gate_activations(gates):
    """(sigmoid(i), tanh(j), sigmoid(f + FORGET_BIAS), sigmoid(o)) of gates [..., 4Nh] in the order i, j, f, o."""
    i, j, f, o = tf.split(gates, 4, axis=-1)
    return tf.sigmoid(i), tf.tanh(j), tf.sigmoid(f + FORGET_BIAS), tf.sigmoid(o)


def lstm_sequence(x, keep, h0, c0, kernel, bias):
    """The TF1 LSTM cell (:meth:`MDNRNN._cell`) over a time-major sequence, with a hand-written gradient.

    Args:
        x: [T, B, in] inputs; keep: [T, B, 1] (0 zeroes h and c before step t consumes its input) or None;
        h0, c0: [B, Nh]; kernel: [in + Nh, 4Nh] (input rows, then h rows); bias: [4Nh].
    Returns:
        (h of every step [T, B, Nh], h_T, c_T).

    The forward pass is the cell's maths step by step. The gradient is the same maths as autodiff's, arranged
    for speed: the backward loop carries only dh and dc (one [B, 4Nh] x [4Nh, Nh] matmul per step) and keeps
    each step's gate gradients; the kernel's and bias's gradients are then one matmul over all T * B rows, where
    TensorFlow's loop gradient did a small matmul and a [in + Nh, 4Nh] accumulation per step, and a slow sum over
    [T, B, 4Nh] for the bias (bench/rnn_throughput.py; tests/test_rnn_model.py checks it against autodiff).
    """
    masked = keep is not None
    keep = tf.zeros([0, 1, 1], tf.float32) if keep is None else keep  # custom_gradient takes tensors only

    @tf.custom_gradient
    def run(x, keep, h0, c0, kernel, bias):
        steps, nh, inputs = tf.shape(x)[0], h0.shape[-1], x.shape[-1]
        x_proj = tf.reshape(tf.matmul(tf.reshape(x, [-1, inputs]), kernel[:inputs]) + bias,
                            tf.concat([tf.shape(x)[:2], [-1]], 0))
        recurrent = kernel[inputs:]

        def array(width, values=None):
            ta = tf.TensorArray(tf.float32, size=steps, element_shape=tf.TensorShape([None, width]))
            return ta.unstack(values) if values is not None else ta

        xs, ks = array(x_proj.shape[-1], x_proj), array(1, keep) if masked else None
        max_steps = x.shape[0] or steps  # a static trip count where the shape gives one (XLA needs it)

        def forward(t, h, c, hs, h_in, c_in, tanh_c, acts):
            if masked:
                k = ks.read(t)
                h, c = h * k, c * k
            gates = _gate_activations(xs.read(t) + tf.matmul(h, recurrent))  # kept apart: no concat, no split
            si, tj, sf, so = gates
            c_new = c * sf + si * tj
            tc = tf.tanh(c_new)
            h_new = tc * so
            return (t + 1, h_new, c_new, hs.write(t, h_new), h_in.write(t, h), c_in.write(t, c), tanh_c.write(t, tc),
                    tuple(a.write(t, g) for a, g in zip(acts, gates)))

        _, h, c, hs, h_in, c_in, tanh_c, acts = tf.while_loop(
            lambda t, *_: t < steps, forward,
            (tf.constant(0), h0, c0, array(nh), array(nh), array(nh), array(nh), tuple(array(nh) for _ in range(4))),
            maximum_iterations=max_steps)
        hs = hs.stack()

        def grad(d_hs, d_h, d_c):
            d_hs = array(nh, tf.zeros_like(hs) if d_hs is None else d_hs)
            ks_back = array(1, keep) if masked else None  # a TensorArray is read once per index

            def backward(t, dh, dc, d_gates):  # t = steps - 1 down to 0
                dh = dh + d_hs.read(t)
                si, tj, sf, so = (a.read(t) for a in acts)
                tc = tanh_c.read(t)
                dc = dc + dh * so * (1.0 - tc * tc)
                dg = tf.concat([dc * tj * si * (1.0 - si), dc * si * (1.0 - tj * tj),
                                dc * c_in.read(t) * sf * (1.0 - sf), dh * tc * so * (1.0 - so)], -1)
                dh, dc = tf.matmul(dg, recurrent, transpose_b=True), dc * sf
                if masked:
                    k = ks_back.read(t)
                    dh, dc = dh * k, dc * k
                return t - 1, dh, dc, d_gates.write(t, dg)

            d_h = tf.zeros_like(h) if d_h is None else d_h
            d_c = tf.zeros_like(c) if d_c is None else d_c
            _, dh0, dc0, d_gates = tf.while_loop(lambda t, *_: t >= 0, backward,
                                                 (steps - 1, d_h, d_c, array(4 * nh)),
                                                 maximum_iterations=max_steps)
            dg = tf.reshape(d_gates.stack(), [-1, 4 * nh])                      # [T*B, 4Nh]
            rows = tf.concat([tf.reshape(x, [-1, inputs]), tf.reshape(h_in.stack(), [-1, nh])], -1)
            d_kernel = tf.matmul(rows, dg, transpose_a=True)                    # [in + Nh, 4Nh]
            d_bias = tf.reshape(tf.matmul(tf.ones([1, tf.shape(dg)[0]]), dg), [-1])
            d_x = tf.reshape(tf.matmul(dg, kernel[:inputs], transpose_b=True), tf.shape(x))
            return d_x, tf.zeros_like(keep), dh0, dc0, d_kernel, d_bias

        return (hs, h, c), grad

    return run(x, keep, h0, c0, kernel, bias)


@keras.saving.register_keras_serializable(package="worldmodels")
class MDNRNN(keras.Model):
    """The authors' MDN-RNN. Weights: ``lstm_kernel`` [in+Nh, 4Nh] (rows: z, a, [restart], then h; column
    blocks i, j, f, o), ``lstm_bias`` [4Nh], ``output_w`` [Nh, out], ``output_b`` [out]."""

    def __init__(self, z_size: int, action_size: int, hidden_size: int, num_mixtures: int = 5,
                 predict_death: bool = False, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.z_size, self.action_size = int(z_size), int(action_size)
        self.hidden_size, self.num_mixtures = int(hidden_size), int(num_mixtures)
        self.predict_death = bool(predict_death)
        self.seed = seed
        self.input_size = self.z_size + self.action_size + (1 if self.predict_death else 0)
        self.output_size = self.z_size * 3 * self.num_mixtures + (1 if self.predict_death else 0)
        s = [None] * 4 if seed is None else [int(seed) + i for i in range(4)]
        glorot = keras.initializers.GlorotUniform
        nh = self.hidden_size
        self.lstm_kernel = self.add_weight(name="lstm_kernel", shape=(self.input_size + nh, 4 * nh),
                                           initializer=glorot(seed=s[0]))
        self.lstm_bias = self.add_weight(name="lstm_bias", shape=(4 * nh,), initializer=glorot(seed=s[1]))
        self.output_w = self.add_weight(name="output_w", shape=(nh, self.output_size),
                                        initializer=glorot(seed=s[2]))
        self.output_b = self.add_weight(name="output_b", shape=(self.output_size,), initializer=glorot(seed=s[3]))
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update(z_size=self.z_size, action_size=self.action_size, hidden_size=self.hidden_size,
                      num_mixtures=self.num_mixtures, predict_death=self.predict_death, seed=self.seed)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # ------------------------------------------------------------------ pieces
    def initial_state(self, batch_size) -> tuple[tf.Tensor, tf.Tensor]:
        """Zero (h, c), each [B, Nh]."""
        zeros = tf.zeros([batch_size, self.hidden_size], tf.float32)
        return zeros, zeros

    def _inputs(self, z, action, restart):
        parts = [tf.cast(z, tf.float32), tf.cast(action, tf.float32)]
        if self.predict_death:
            if restart is None:
                restart = tf.zeros(tf.shape(z)[:-1], tf.float32)
            parts.append(tf.cast(restart, tf.float32)[..., None])
        return tf.concat(parts, axis=-1)

    def _cell(self, x_proj, h, c, recurrent_kernel):
        """One TF1 LSTM step given x_proj = x @ kernel[:in] + bias and kernel[in:] (gates i, j, f, o)."""
        si, tj, sf, so = _gate_activations(x_proj + tf.matmul(h, recurrent_kernel))
        c = c * sf + si * tj
        h = tf.tanh(c) * so
        return h, c

    def head(self, h) -> MDNOutput:
        """MDN head on h [..., Nh] -> MDNOutput over [..., Nz, K]: :meth:`head_matmul`, then :meth:`mdn_split`."""
        return self.mdn_split(self.head_matmul(h))

    def head_matmul(self, h):
        """The head's dense layer: h [..., Nh] -> [..., Nz*3K (+1)]."""
        out = tf.tensordot(h, self.output_w, axes=1) if h.shape.rank > 2 else tf.matmul(h, self.output_w)
        return out + self.output_b

    def mdn_split(self, out) -> MDNOutput:
        """The head's dense output [..., Nz*3K (+1)] -> MDNOutput over [..., Nz, K] (log-softmax per dimension)."""
        # tf.split, not slices: a split's gradient is one concat, a slice's a zero-padded copy of the whole input
        death = None
        if self.predict_death:
            death, out = tf.split(out, [1, self.output_size - 1], axis=-1)
            death = tf.squeeze(death, -1)
        k = self.num_mixtures
        out = tf.reshape(out, tf.concat([tf.shape(out)[:-1], [self.z_size, 3 * k]], 0))
        logits, mean, logstd = tf.split(out, 3, axis=-1)
        logmix = logits - tf.reduce_logsumexp(logits, axis=-1, keepdims=True)
        return MDNOutput(logmix, mean, logstd, death)

    # ------------------------------------------------------------------ public API
    def step(self, z, action, restart, h, c):
        """One step: (z [B,Nz], action [B,A], restart [B] float or None, h, c [B,Nh]) -> (MDNOutput, h, c):
        :meth:`lstm_step`, then the head on the new h."""
        h, c = self.lstm_step(z, action, restart, h, c)
        return self.head(h), h, c

    def lstm_step(self, z, action, restart, h, c):
        """The LSTM alone, one step (arguments as :meth:`step`) -> (h, c).

        restart = 1 zeroes h and c before the input is consumed (and, Doom, is fed as the restart input).
        """
        h, c = tf.convert_to_tensor(h, tf.float32), tf.convert_to_tensor(c, tf.float32)
        if restart is not None:
            keep = 1.0 - tf.cast(restart, tf.float32)[:, None]
            h, c = h * keep, c * keep
        x = self._inputs(z, action, restart)
        x_proj = tf.matmul(x, self.lstm_kernel[:self.input_size]) + self.lstm_bias
        return self._cell(x_proj, h, c, self.lstm_kernel[self.input_size:])

    def unroll(self, z_seq, action_seq, restart_seq=None, h0=None, c0=None):
        """Run over a sequence: z_seq [B,T,Nz], action_seq [B,T,A], restart_seq [B,T] or None, h0, c0 [B,Nh]
        (None: zeros) -> (MDNOutput over [B,T,...], h_T, c_T): :meth:`hidden`, then the head on every h."""
        h_all, h, c = self.hidden(z_seq, action_seq, restart_seq, h0, c0)
        return self.head(h_all), h, c

    def hidden(self, z_seq, action_seq, restart_seq=None, h0=None, c0=None, time_major=False):
        """The LSTM alone over a sequence (arguments as :meth:`unroll`) -> (every h [B,T,Nh], h_T, c_T), through
        :func:`lstm_sequence` (the input projection of all steps is one matmul; the gradient is hand-written).
        ``time_major``: every h as [T,B,Nh], as the recurrence makes it (training's losses take it so: transposing
        [T,B,Nh] and its gradient cost more than transposing the targets)."""
        z_seq = tf.convert_to_tensor(z_seq, tf.float32)
        batch = tf.shape(z_seq)[0]
        if h0 is None or c0 is None:
            zeros = tf.zeros([batch, self.hidden_size], tf.float32)
            h0 = zeros if h0 is None else h0
            c0 = zeros if c0 is None else c0
        h0, c0 = tf.convert_to_tensor(h0, tf.float32), tf.convert_to_tensor(c0, tf.float32)
        x = tf.transpose(self._inputs(z_seq, action_seq, restart_seq), [1, 0, 2])  # [T,B,in]
        keep = None
        if restart_seq is not None:
            keep = tf.transpose(1.0 - tf.cast(restart_seq, tf.float32))[..., None]  # [T,B,1]
        hs, h, c = lstm_sequence(x, keep, h0, c0, tf.convert_to_tensor(self.lstm_kernel),
                                 tf.convert_to_tensor(self.lstm_bias))
        return (hs if time_major else tf.transpose(hs, [1, 0, 2])), h, c

    def call(self, z_seq, action_seq, restart_seq=None, h0=None, c0=None):
        return self.unroll(z_seq, action_seq, restart_seq, h0, c0)


def build_mdnrnn(cfg) -> MDNRNN:
    """M with the config's shapes, initialised from cfg.rnn.seed."""
    return MDNRNN(cfg.vae.z_size, cfg.env.action_size, cfg.rnn.hidden_size, cfg.rnn.num_mixtures,
                  cfg.rnn.predict_death, seed=cfg.rnn.seed)


def count_params(model: MDNRNN) -> int:
    return int(sum(np.prod(w.shape) for w in model.weights))
