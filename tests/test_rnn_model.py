"""M's model: parameter counts, the TF1 cell, mixture NLL, temperature sampling, restart, death threshold."""
import math

import numpy as np
import pytest
import tensorflow as tf

from rnn.model import (FORGET_BIAS, MDNOutput, MDNRNN, count_params, death_from_logit, mdn_nll, sample_mdn)


def test_parameter_counts_match_the_authors():
    assert count_params(MDNRNN(32, 3, 256, 5, predict_death=False)) == 422_368
    assert count_params(MDNRNN(64, 1, 512, 5, predict_death=True)) == 1_678_785


def test_initialisers_are_glorot_uniform_for_kernel_and_bias():
    m = MDNRNN(4, 1, 64, 5, predict_death=True, seed=3)
    bias = m.lstm_bias.numpy()
    limit = math.sqrt(3.0 / bias.size)  # glorot-uniform on a 1-D shape: fan_in = fan_out = n
    assert np.all(np.abs(bias) <= limit) and np.std(bias) > 0.3 * limit
    kernel = m.lstm_kernel.numpy()
    assert np.all(np.abs(kernel) <= math.sqrt(6.0 / sum(kernel.shape)))


def _numpy_tf1_step(kernel, bias, x, h, c):
    gates = np.concatenate([x, h], -1) @ kernel + bias
    i, j, f, o = np.split(gates, 4, axis=-1)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    c = c * sig(f + 1.0) + sig(i) * np.tanh(j)
    return np.tanh(c) * sig(o), c


def test_gate_order_is_i_j_f_o_by_hand():
    """Kernel zero, one bias per gate block: the TF1 cell's blocks are i, j, f, o. The expected numbers are worked
    out by hand from that order (c' = c sigmoid(f + 1) + sigmoid(i) tanh(j), h' = tanh(c') sigmoid(o)); every
    other order of the four blocks gives another c' or h', so this test fails for any other order."""
    import itertools

    m = MDNRNN(1, 1, 1, 5, predict_death=False, seed=0)
    m.lstm_kernel.assign(np.zeros_like(m.lstm_kernel.numpy()))
    blocks = {"i": 2.0, "j": -1.0, "f": -3.0, "o": 0.5}
    m.lstm_bias.assign(np.array([blocks[g] for g in "ijfo"], np.float32))
    c0 = np.array([[0.7]], np.float32)
    _, h1, c1 = m.step(np.zeros((1, 1), "f"), np.zeros((1, 1), "f"), None, np.zeros((1, 1), "f"), c0)
    # sigmoid(-2) = 0.11920292, sigmoid(2) = 0.88079708, tanh(-1) = -0.76159416, sigmoid(0.5) = 0.62245933:
    # c' = 0.7 * 0.11920292 - 0.88079708 * 0.76159416 = -0.58736786; h' = tanh(c') * 0.62245933 = -0.32865847
    np.testing.assert_allclose(float(c1[0, 0]), -0.5873678618, atol=1e-6)
    np.testing.assert_allclose(float(h1[0, 0]), -0.3286584684, atol=1e-6)
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    for order in itertools.permutations("ijfo"):
        if order == tuple("ijfo"):
            continue
        b = dict(zip(order, (blocks[g] for g in "ijfo")))  # what each gate would read under that order
        c_other = 0.7 * sig(b["f"] + 1) + sig(b["i"]) * math.tanh(b["j"])
        h_other = math.tanh(c_other) * sig(b["o"])
        assert abs(c_other + 0.5873669552) > 1e-3 or abs(h_other + 0.3286558493) > 1e-3, order


def test_step_is_the_tf1_cell_and_head_layout():
    rng = np.random.default_rng(0)
    m = MDNRNN(3, 1, 8, 5, predict_death=True, seed=0)
    z, a = rng.normal(size=(2, 3)).astype("f"), rng.normal(size=(2, 1)).astype("f")
    h, c = rng.normal(size=(2, 8)).astype("f"), rng.normal(size=(2, 8)).astype("f")
    out, h1, c1 = m.step(z, a, np.zeros(2, "f"), h, c)
    x = np.concatenate([z, a, np.zeros((2, 1), "f")], -1)
    h_np, c_np = _numpy_tf1_step(m.lstm_kernel.numpy(), m.lstm_bias.numpy(), x, h, c)
    np.testing.assert_allclose(h1, h_np, atol=1e-5)
    np.testing.assert_allclose(c1, c_np, atol=1e-5)
    for got, want in zip(m.lstm_step(z, a, np.zeros(2, "f"), h, c), (h_np, c_np)):  # the LSTM alone, as in step
        np.testing.assert_allclose(got, want, atol=1e-5)
    raw = h_np @ m.output_w.numpy() + m.output_b.numpy()
    np.testing.assert_allclose(out.death_logit, raw[:, 0], atol=1e-5)
    body = raw[:, 1:]
    for d in range(3):
        logits = body[:, 15 * d:15 * d + 5]
        logmix = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        np.testing.assert_allclose(out.logmix[:, d], logmix, atol=1e-5)
        np.testing.assert_allclose(out.mean[:, d], body[:, 15 * d + 5:15 * d + 10], atol=1e-5)
        np.testing.assert_allclose(out.logstd[:, d], body[:, 15 * d + 10:15 * d + 15], atol=1e-5)
    assert FORGET_BIAS == 1.0


def test_unroll_equals_stepping_and_restart_zeroes_the_state():
    rng = np.random.default_rng(1)
    m = MDNRNN(4, 1, 16, 5, predict_death=True, seed=1)
    B, T = 3, 7
    z, a = rng.normal(size=(B, T, 4)).astype("f"), rng.normal(size=(B, T, 1)).astype("f")
    r = np.zeros((B, T), "f")
    r[0, 3] = r[2, 0] = 1
    h0, c0 = rng.normal(size=(B, 16)).astype("f"), rng.normal(size=(B, 16)).astype("f")
    out, h, c = m.unroll(z, a, r, h0, c0)
    hh, cc = h0, c0
    for t in range(T):
        o, hh, cc = m.step(z[:, t], a[:, t], r[:, t], hh, cc)
        np.testing.assert_allclose(out.mean[:, t], o.mean, atol=1e-5)
    np.testing.assert_allclose(h, hh, atol=1e-5)
    # restart = 1 gives the same result as a zero state, whatever the state was
    _, h_r, c_r = m.step(z[:, 0], a[:, 0], np.ones(B, "f"), h0, c0)
    zeros = np.zeros((B, 16), "f")
    _, h_z, c_z = m.step(z[:, 0], a[:, 0], np.ones(B, "f"), zeros, zeros)
    np.testing.assert_allclose(h_r, h_z, atol=1e-6)
    np.testing.assert_allclose(c_r, c_z, atol=1e-6)


@pytest.mark.parametrize("predict_death", [True, False])
def test_hand_written_lstm_gradient_equals_autodiff_of_the_stepped_cell(predict_death):
    """lstm_sequence's gradient (the backward loop and the one-matmul kernel gradient) against TensorFlow's
    autodiff through M.step, step by step: kernel, bias, the initial state and the inputs, with restarts
    mid-sequence and gradients arriving at every h and at the final h and c."""
    rng = np.random.default_rng(4)
    m = MDNRNN(6, 1, 8, 5, predict_death=predict_death, seed=2)
    B, T = 3, 7
    z, a = tf.constant(rng.normal(size=(B, T, 6)), tf.float32), tf.constant(rng.normal(size=(B, T, 1)), tf.float32)
    r = np.zeros((B, T), "f")
    r[0, 2] = r[1, 5] = r[2, 0] = 1
    h0, c0 = (tf.constant(rng.normal(size=(B, 8)), tf.float32) for _ in range(2))
    w_all, w_h = tf.constant(rng.normal(size=(B, T, 8)), tf.float32), tf.constant(rng.normal(size=(B, 8)), tf.float32)

    def loss(hs, h, c):
        return tf.reduce_sum(hs * w_all) + tf.reduce_sum(h * w_h) + tf.reduce_sum(tf.square(c))

    def stepped():
        h, c, hs = h0, c0, []
        for t in range(T):
            _, h, c = m.step(z[:, t], a[:, t], r[:, t], h, c)
            hs.append(h)
        return loss(tf.stack(hs, 1), h, c)

    def ours():
        return loss(*m.hidden(z, a, r, h0, c0))

    grads = []
    for fn in (ours, stepped, tf.function(ours)):
        with tf.GradientTape() as tape:
            tape.watch([h0, c0, z])
            value = fn()
        grads.append((value, tape.gradient(value, [m.lstm_kernel, m.lstm_bias, h0, c0, z])))
    (ours, g_ours), (reference, g_ref), (compiled, g_compiled) = grads
    np.testing.assert_allclose(ours, reference, rtol=1e-6)
    for mine, theirs, graph in zip(g_ours, g_ref, g_compiled):
        assert float(tf.reduce_max(tf.abs(theirs))) > 0
        np.testing.assert_allclose(mine, theirs, atol=1e-5)
        np.testing.assert_allclose(graph, theirs, atol=1e-5)
    hs_time_major, _, _ = m.hidden(z, a, r, h0, c0, time_major=True)
    np.testing.assert_allclose(np.transpose(hs_time_major, (1, 0, 2)), m.hidden(z, a, r, h0, c0)[0], atol=0)


def test_nll_equals_hand_computed_mixture_density():
    logits = np.array([[0.3, -1.0, 2.0], [1.0, 1.0, 1.0]])
    logmix = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    mean = np.array([[0.0, 1.0, -2.0], [0.5, -0.5, 3.0]])
    logstd = np.array([[0.0, -1.0, 0.5], [-0.3, 0.2, 0.0]])
    y = np.array([0.7, -0.1])
    expected = []
    for d in range(2):
        density = sum(math.exp(logmix[d, k]) / (math.sqrt(2 * math.pi) * math.exp(logstd[d, k]))
                      * math.exp(-0.5 * ((y[d] - mean[d, k]) / math.exp(logstd[d, k])) ** 2) for k in range(3))
        expected.append(-math.log(density))
    got = mdn_nll(tf.constant(logmix, tf.float32), tf.constant(mean, tf.float32), tf.constant(logstd, tf.float32),
                  tf.constant(y, tf.float32))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_nll_and_samples_finite_at_extreme_values():
    logits = tf.constant([[[1e4, -1e4, 0.0], [-3e4, 3e4, 1e4]]])
    logmix = logits - tf.reduce_logsumexp(logits, -1, keepdims=True)
    mean = tf.constant([[[1e3, -1e3, 0.0], [0.0, 0.0, 0.0]]])
    for logstd in (tf.fill([1, 2, 3], -1e3), tf.fill([1, 2, 3], 1e3), tf.constant([[[-80., 80, 0], [0, 0, 0]]])):
        nll = mdn_nll(logmix, mean, logstd, tf.constant([[5.0, -7.0]]))
        assert np.all(np.isfinite(nll)), nll
        grad_var = tf.Variable(logstd)
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(mdn_nll(logmix, mean, grad_var, tf.constant([[5.0, -7.0]])))
        assert np.all(np.isfinite(tape.gradient(loss, grad_var)))
        z = sample_mdn(MDNOutput(logmix, mean, logstd, None), 1.0, tf.constant([1, 2]))
        assert np.all(np.isfinite(z))


def _mixture(nz=1, k=3, logits=(0.2, -0.5, 1.0), means=(-3.0, 0.5, 4.0), logstds=(-0.5, 0.0, -1.0)):
    logits = np.tile(np.array(logits, "f"), (nz, 1))
    logmix = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return MDNOutput(tf.constant(logmix), tf.constant(np.tile(np.array(means, "f"), (nz, 1))),
                     tf.constant(np.tile(np.array(logstds, "f"), (nz, 1))), None)


def _batched(out: MDNOutput, n: int) -> MDNOutput:
    return MDNOutput(*(tf.broadcast_to(t, [n, *t.shape]) for t in out[:3]), None)


def test_temperature_near_zero_collapses_to_the_top_component_mean():
    out = _mixture(nz=2)
    z = sample_mdn(_batched(out, 1000), 1e-6, tf.constant([3, 4]))
    np.testing.assert_allclose(z, 4.0, atol=1e-2)  # component 2 has the largest logit, mean 4


def test_monte_carlo_mean_and_variance_at_tau_one():
    out = _mixture()
    n = 400_000
    z = sample_mdn(_batched(out, n), 1.0, tf.constant([5, 6])).numpy()[:, 0]
    pi = np.exp(out.logmix.numpy()[0])
    mu, sd = out.mean.numpy()[0], np.exp(out.logstd.numpy()[0])
    mean = np.sum(pi * mu)
    var = np.sum(pi * (sd ** 2 + mu ** 2)) - mean ** 2
    assert abs(z.mean() - mean) < 4 * math.sqrt(var / n)
    assert abs(z.var() / var - 1) < 0.02


def test_temperature_divides_logits_and_multiplies_std_by_sqrt_tau():
    n, tau = 200_000, 2.5
    # component frequencies follow softmax(logits / tau): well separated means, tiny std
    out = _mixture(logstds=(-9.0, -9.0, -9.0))
    z = sample_mdn(_batched(out, n), tau, tf.constant([7, 8])).numpy()[:, 0]
    freq = np.array([np.mean(np.abs(z - m) < 0.1) for m in (-3.0, 0.5, 4.0)])
    logits = np.array([0.2, -0.5, 1.0])
    want = np.exp(logits / tau) / np.exp(logits / tau).sum()
    np.testing.assert_allclose(freq, want, atol=0.006)
    # one shape of component: the variance is exp(logstd)^2 * tau (not tau^2, not exp(logstd * tau))
    out = _mixture(means=(1.0, 1.0, 1.0), logstds=(0.3, 0.3, 0.3))
    z = sample_mdn(_batched(out, n), tau, tf.constant([9, 10])).numpy()[:, 0]
    assert abs(z.var() / (math.exp(0.6) * tau) - 1) < 0.02
    # per-row temperature: a [B] tau applies row by row
    z = sample_mdn(_batched(out, 4), tf.constant([1e-8, 1e-8, 1.0, 1.0]), tf.constant([1, 1])).numpy()
    np.testing.assert_allclose(z[:2], 1.0, atol=1e-3)


def test_each_dimension_picks_its_own_component():
    # equal weights, means 0/10/20 and tiny std: the component of each dim is read off its sample
    n, nz = 20_000, 2
    out = _mixture(nz=nz, logits=(0.0, 0.0, 0.0), means=(0.0, 10.0, 20.0), logstds=(-9.0, -9.0, -9.0))
    z = sample_mdn(_batched(out, n), 1.0, tf.constant([11, 12])).numpy()
    comp = np.rint(z / 10).astype(int)
    same = np.mean(comp[:, 0] == comp[:, 1])
    assert abs(same - 1 / 3) < 0.02  # independent per-dim choices agree 1/3 of the time, shared ones always
    # different weights per dim: each dim follows its own
    logits = np.array([[5.0, -5.0, -5.0], [-5.0, -5.0, 5.0]], "f")
    out2 = MDNOutput(tf.constant(logits - np.log(np.exp(logits).sum(-1, keepdims=True))), out.mean, out.logstd, None)
    z = sample_mdn(_batched(out2, 100), 1e-6, tf.constant([0, 1])).numpy()
    np.testing.assert_allclose(z[:, 0], 0.0, atol=1e-3)
    np.testing.assert_allclose(z[:, 1], 20.0, atol=1e-3)


def test_sampling_is_reproducible_from_the_seed():
    out = _batched(_mixture(nz=4), 8)
    a = sample_mdn(out, 1.0, tf.constant([1, 2]))
    b = sample_mdn(out, 1.0, tf.constant([1, 2]))
    c = sample_mdn(out, 1.0, tf.constant([1, 3]))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_death_threshold_is_logit_above_zero():
    np.testing.assert_array_equal(death_from_logit(tf.constant([-1.0, -1e-6, 0.0, 1e-6, 3.0])),
                                  [False, False, False, True, True])
    # es.death_logit moves the threshold: -1 is probability > 1 / (1 + e) = 0.27.
    np.testing.assert_array_equal(death_from_logit(tf.constant([-1.5, -1.0, -0.5, 0.5]), -1.0),
                                  [False, False, True, True])


@pytest.mark.parametrize("predict_death", [False, True])
def test_keras_file_round_trip(tmp_path, predict_death):
    import keras
    m = MDNRNN(4, 2, 8, 5, predict_death=predict_death, seed=2)
    m.save(tmp_path / "m.keras")
    m2 = keras.models.load_model(tmp_path / "m.keras")
    z, a = np.ones((2, 3, 4), "f"), np.ones((2, 3, 2), "f")
    np.testing.assert_allclose(m.unroll(z, a)[0].mean, m2.unroll(z, a)[0].mean, atol=1e-6)
