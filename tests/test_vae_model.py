"""V's architecture and maths against the authors' numbers and hand computations."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from common.config import make_config
from vae.model import Conv2DTransposeOn1x1, ConvVAE, kl_loss, make_optimizer, reconstruction_loss, sample_z


@pytest.mark.parametrize("experiment, z_size, expected", [("carracing", 32, 4_348_547), ("doom", 64, 4_446_915)])
def test_parameter_counts_match_the_paper(experiment, z_size, expected):
    cfg = make_config(experiment)
    assert cfg.vae.z_size == z_size
    model = ConvVAE(cfg.vae.z_size)
    assert model.count_params() == expected
    # shapes of the authors' table (ORIGINAL-SPEC-DETAILED 2.1)
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.encoder.layers + model.decoder.layers}
    assert shapes["enc_conv4"] == (2, 2, 256) and shapes["dec_deconv1"] == (5, 5, 128)
    assert shapes["dec_deconv3"] == (30, 30, 32) and shapes["dec_deconv4"] == (64, 64, 3)
    assert model.decoder.get_layer("dec_fc").activation.__name__ == "linear"


def test_summary_last_line_is_total(capsys):
    from vae.__main__ import build_parser, run

    argv = ["summary", "--experiment", "doom", "--run-dir", "/nonexistent/never-written"]
    assert run(build_parser(argv).parse_args(argv)) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "Total params: 4,446,915"


def test_kl_floor_against_hand_computation():
    # image 0: mu=0, logvar=0 -> KL 0, floored at 0.5*2 = 1
    # image 1: mu=(2, 0), logvar=(0, log 4): -0.5*[(1+0-4-1) + (1+log4-0-4)] = 2 + 1.5 - 0.5 log 4 = 2.80685
    mu = np.array([[0.0, 0.0], [2.0, 0.0]], np.float32)
    logvar = np.array([[0.0, 0.0], [0.0, np.log(4.0)]], np.float32)
    kl1 = 2.0 + 1.5 - 0.5 * np.log(4.0)
    expected = (1.0 + kl1) / 2.0
    assert float(kl_loss(mu, logvar, 0.5)) == pytest.approx(expected, rel=1e-6)
    # without a floor: mean of (0, kl1)
    assert float(kl_loss(mu, logvar, 0.0)) == pytest.approx(kl1 / 2.0, rel=1e-6)
    # floor is per image on the sum over dims, not per dim: a floor of 4 dominates both images
    assert float(kl_loss(mu, logvar, 2.0)) == pytest.approx(4.0, rel=1e-6)


def test_kl_floor_gives_no_gradient_below_it():
    mu = tf.Variable(np.full((3, 4), 0.1, np.float32))
    logvar = tf.Variable(np.zeros((3, 4), np.float32))
    with tf.GradientTape() as tape:
        loss = kl_loss(mu, logvar, 0.5)
    g_mu, g_logvar = tape.gradient(loss, [mu, logvar])
    assert float(loss) == pytest.approx(2.0)
    assert np.all(np.asarray(g_mu) == 0) and np.all(np.asarray(g_logvar) == 0)


def test_reconstruction_is_per_image_sum_then_batch_mean():
    x = np.zeros((2, 64, 64, 3), np.float32)
    y = np.zeros((2, 64, 64, 3), np.float32)
    y[0] = 0.5  # 12288 values * 0.25
    y[1, 0, 0, 0] = 1.0
    assert float(reconstruction_loss(x, y)) == pytest.approx((12288 * 0.25 + 1.0) / 2.0)


def test_sample_z_std_is_exp_half_logvar():
    mu = np.zeros((20000, 3), np.float32) + np.array([1.0, -2.0, 0.0], np.float32)
    logvar = np.zeros((20000, 3), np.float32) + np.array([np.log(4.0), 0.0, np.log(0.01)], np.float32)
    z = np.asarray(sample_z(tf.constant(mu), tf.constant(logvar), tf.constant([1, 2])))
    np.testing.assert_allclose(z.std(axis=0), [2.0, 1.0, 0.1], rtol=0.03)  # exp(logvar/2), not exp(logvar)
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0, 0.0], atol=0.05)
    # deterministic: same stateless seed, same z; eps recovered exactly from z
    z2 = np.asarray(sample_z(tf.constant(mu), tf.constant(logvar), tf.constant([1, 2])))
    np.testing.assert_array_equal(z, z2)
    eps = tf.random.stateless_normal(mu.shape, seed=[1, 2])
    np.testing.assert_allclose(z, mu + np.exp(logvar / 2) * np.asarray(eps), rtol=1e-5, atol=1e-6)


def test_adam_is_tf1s():
    opt = make_optimizer()
    assert opt.epsilon == 1e-8 and float(opt.learning_rate) == pytest.approx(1e-4)


def test_keras_file_round_trip(tmp_path):
    import keras

    model = ConvVAE(4, seed=3)
    x = np.random.default_rng(0).random((2, 64, 64, 3), dtype=np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded, ConvVAE) and loaded.z_size == 4
    np.testing.assert_array_equal(np.asarray(loaded.encode(x)[0]), np.asarray(model.encode(x)[0]))


def test_first_deconvolution_as_a_matmul_equals_keras_conv2d_transpose():
    """dec_deconv1 ([B,1,1,1024] -> [B,5,5,128]) runs as one matmul; with the same kernel and bias it gives
    Keras' Conv2DTranspose's output and gradients (kernel, bias, input), and is saved as one."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(4, 1, 1, 16)), tf.float32)
    ours = Conv2DTransposeOn1x1(8, 5, strides=2, padding="valid", activation="relu")
    keras_layer = keras.layers.Conv2DTranspose(8, 5, strides=2, padding="valid", activation="relu")
    ours.build(x.shape), keras_layer.build(x.shape)
    ours.bias.assign(rng.normal(size=8).astype("f"))
    keras_layer.set_weights(ours.get_weights())
    target = tf.constant(rng.normal(size=(4, 5, 5, 8)), tf.float32)
    results = []
    for layer in (ours, keras_layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(tf.square(y - target))
        results.append((y, tape.gradient(loss, [layer.kernel, layer.bias, x])))
    (y_ours, g_ours), (y_keras, g_keras) = results
    assert y_ours.shape == (4, 5, 5, 8)
    np.testing.assert_allclose(y_ours, y_keras, atol=1e-5)
    for mine, theirs in zip(g_ours, g_keras):
        np.testing.assert_allclose(mine, theirs, atol=1e-4)
    assert ConvVAE(32).decoder.get_layer("dec_deconv1").kernel.shape == (5, 5, 128, 1024)
