"""The authors' trained CarRacing M (reports/reference/carracing_rnn.json) loads into MDNRNN and behaves."""
import numpy as np
import pytest
import tensorflow as tf

from rnn.authors_weights import load_authors_carracing_rnn, read_authors_arrays
from rnn.model import count_params, mdn_nll, sample_mdn



@pytest.fixture(scope="module")
def authors_m():
    return load_authors_carracing_rnn()


def test_loads_with_exact_parameter_count(authors_m):
    assert count_params(authors_m) == 422_368
    assert sum(a.size for a in read_authors_arrays()) == 422_368


def test_one_step_matches_numpy_tf1_cell(authors_m):
    output_w, output_b, kernel, bias = read_authors_arrays()
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2, 32)).astype("f")
    a = np.array([[0.1, 1.0, 0.0], [-0.5, 0.0, 0.3]], "f")
    h, c = rng.normal(scale=0.3, size=(2, 256)).astype("f"), rng.normal(scale=0.3, size=(2, 256)).astype("f")
    gates = np.concatenate([z, a, h], -1).astype(np.float64) @ kernel + bias
    i, j, f, o = np.split(gates, 4, -1)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    c_np = c * sig(f + 1.0) + sig(i) * np.tanh(j)
    h_np = np.tanh(c_np) * sig(o)
    out, h1, c1 = authors_m.step(z, a, None, h, c)
    np.testing.assert_allclose(h1, h_np, atol=1e-4)
    np.testing.assert_allclose(c1, c_np, atol=1e-4)
    raw = (h_np @ output_w + output_b).reshape(2, 32, 15)
    np.testing.assert_allclose(out.mean, raw[..., 5:10], atol=1e-4)
    np.testing.assert_allclose(out.logstd, raw[..., 10:15], atol=1e-4)


def test_self_consistent_rollout_has_sensible_likelihood(authors_m):
    """Dream 60 steps at τ = 1 (gas on), then teacher-force that sequence: the NLL per dim is finite and far
    below that of the same frames in shuffled order (the model predicts its own dynamics)."""
    steps, batch = 60, 4
    h, c = authors_m.initial_state(batch)
    z = tf.zeros([batch, 32])
    action = tf.constant([[0.0, 1.0, 0.0]] * batch)
    zs = [z]
    for t in range(steps):
        out, h, c = authors_m.step(z, action, None, h, c)
        z = sample_mdn(out, 1.0, tf.constant([0, t]))
        zs.append(z)
    seq = tf.stack(zs, 1)                                             # [B, T+1, 32]
    actions = tf.broadcast_to(action[:, None], [batch, steps, 3])
    out, _, _ = authors_m.unroll(seq[:, :-1], actions)
    nll = float(tf.reduce_mean(mdn_nll(out.logmix, out.mean, out.logstd, seq[:, 1:])))
    perm = np.random.default_rng(0).permutation(steps) + 1
    shuffled = float(tf.reduce_mean(mdn_nll(out.logmix, out.mean, out.logstd, tf.gather(seq, perm, axis=1))))
    assert np.isfinite(nll) and np.all(np.isfinite(seq))
    assert nll < 1.5 and shuffled > nll + 0.5, (nll, shuffled)
    assert float(tf.reduce_max(tf.abs(seq))) < 20
