"""V, the ConvVAE of World Models (paper appendix A.1; authors' `carracing/vae/vae.py`, `doomrnn/doomrnn.py`).

Architecture (ORIGINAL-SPEC-DETAILED section 2.1), channels-last, valid padding, glorot-uniform kernels, zero
biases (the TF1 `tf.layers` defaults):

    encoder: x [B,64,64,3] -> conv 32,64,128,256 (4x4, stride 2, relu) -> flatten 1024 -> mu, logvar [B,Nz]
    decoder: z [B,Nz] -> dense 1024 (linear) -> [B,1,1,1024] -> deconv 128 k5, 64 k5, 32 k6 (relu),
             3 k6 (sigmoid), stride 2 -> [B,64,64,3]

4,348,547 parameters with Nz 32 and 4,446,915 with Nz 64. The loss is the authors': per-image sum of squared
errors plus the per-image KL floored at ``kl_tolerance * Nz``, both averaged over the batch; Adam lr 1e-4, eps 1e-8.

This module holds the model and its maths only (no files, paths or environment): loading and saving live in
:mod:`vae.export`, the training step's compile settings in :mod:`vae.train`.
"""
from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

FRAME_SHAPE = (64, 64, 3)


def sample_z(mu, logvar, seed):
    """Draw z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) (authors' `vae.py`: std is exp(logvar/2)).

    Args:
        mu, logvar: [..., Nz] posterior mean and log-variance.
        seed: a ``keras.random.SeedGenerator`` or int (keras seeding), or a stateless seed tensor int32 [2]
            (``tf.random.stateless_normal``); the same seed gives the same z.
    Returns:
        z [..., Nz], same dtype as mu.
    """
    if isinstance(seed, (int, keras.random.SeedGenerator)):
        eps = keras.random.normal(ops.shape(mu), dtype=mu.dtype, seed=seed)
    else:
        eps = tf.random.stateless_normal(tf.shape(mu), seed=tf.cast(seed, tf.int32), dtype=mu.dtype)
    return mu + ops.exp(logvar / 2.0) * eps


def kl_loss(mu, logvar, kl_tolerance):
    """Authors' KL term: per image -0.5 * sum_j (1 + logvar - mu^2 - exp(logvar)), floored at kl_tolerance * Nz,
    then the batch mean. The floor is on the per-image total (images below it give no KL gradient).

    Args:
        mu, logvar: [B, Nz].
        kl_tolerance: 0.5 in both of the authors' tasks.
    Returns:
        scalar.
    """
    z_size = ops.shape(mu)[-1]
    kl = -0.5 * ops.sum(1.0 + logvar - ops.square(mu) - ops.exp(logvar), axis=-1)
    kl = ops.maximum(kl, kl_tolerance * ops.cast(z_size, kl.dtype))
    return ops.mean(kl)


def reconstruction_loss(x, y):
    """Authors' reconstruction term: per image the SUM of squared errors over 64x64x3 values, then batch mean.

    Args:
        x: [B, 64, 64, 3] targets in [0, 1]; y: reconstructions of the same shape.
    Returns:
        scalar.
    """
    return ops.mean(ops.sum(ops.square(x - y), axis=(1, 2, 3)))


def build_encoder(z_size: int) -> keras.Model:
    """x [B,64,64,3] float in [0,1] -> (mu [B,Nz], logvar [B,Nz])."""
    x = keras.Input(FRAME_SHAPE, name="frames")
    h = x
    for i, filters in enumerate((32, 64, 128, 256), start=1):
        h = layers.Conv2D(filters, 4, strides=2, padding="valid", activation="relu", name=f"enc_conv{i}")(h)
    h = layers.Flatten(name="flatten")(h)  # 2*2*256 = 1024, row-major h, w, c as TF1's reshape
    mu = layers.Dense(z_size, name="enc_fc_mu")(h)
    logvar = layers.Dense(z_size, name="enc_fc_log_var")(h)
    return keras.Model(x, [mu, logvar], name="encoder")


@keras.saving.register_keras_serializable(package="worldmodels")
class Conv2DTransposeOn1x1(layers.Conv2DTranspose):
    """A transposed convolution whose input is 1x1 (V's dec_deconv1: [B,1,1,1024] -> [B,5,5,128]), computed as the
    one matmul it is: out[b,i,j,o] = sum_c x[b,c] kernel[i,j,o,c] + bias[o]. Same kernel, bias, shapes and
    serialized form as ``Conv2DTranspose``; oneDNN's deconvolution kernels spent about half of V's train step on
    this layer (its gradients included), a matmul a small fraction of that (bench/vae_throughput.py)."""

    def call(self, inputs):
        if tuple(inputs.shape[1:3]) != (1, 1) or self.padding != "valid" or self.data_format != "channels_last":
            return super().call(inputs)
        kh, kw, out_channels, in_channels = self.kernel.shape
        kernel = ops.reshape(self.kernel, (kh * kw * out_channels, in_channels))  # rows (i, j, o), no copy
        # transpose_b: the kernel is never copied, nor is its gradient (dy^T x has the kernel's own layout)
        y = tf.matmul(ops.reshape(inputs, (-1, in_channels)), kernel, transpose_b=True)
        y = ops.reshape(y, (-1, kh, kw, out_channels))
        if self.use_bias:
            y = y + self.bias
        return self.activation(y) if self.activation is not None else y


def build_decoder(z_size: int) -> keras.Model:
    """z [B,Nz] -> frames [B,64,64,3] in [0,1]."""
    z = keras.Input((z_size,), name="z")
    h = layers.Dense(1024, name="dec_fc")(z)  # linear, as the authors' dec_fc
    h = layers.Reshape((1, 1, 1024), name="dec_reshape")(h)
    for i, (filters, kernel) in enumerate(((128, 5), (64, 5), (32, 6)), start=1):
        deconv = Conv2DTransposeOn1x1 if i == 1 else layers.Conv2DTranspose
        h = deconv(filters, kernel, strides=2, padding="valid", activation="relu", name=f"dec_deconv{i}")(h)
    y = layers.Conv2DTranspose(3, 6, strides=2, padding="valid", activation="sigmoid", name="dec_deconv4")(h)
    return keras.Model(z, y, name="decoder")


def make_optimizer(learning_rate: float = 1e-4) -> keras.optimizers.Optimizer:
    """Adam with TF1's defaults (epsilon 1e-8; Keras' default is 1e-7), constant lr, no clipping."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-8)


@keras.saving.register_keras_serializable(package="worldmodels")
class ConvVAE(keras.Model):
    """The ConvVAE (keras-io VAE style: functional encoder/decoder, custom ``train_step``, Mean trackers).

    Args:
        z_size: latent size Nz (32 CarRacing, 64 Doom).
        kl_tolerance: KL floor per image is ``kl_tolerance * z_size``.
        seed: seed of the SeedGenerator that draws eps during training.
    """

    def __init__(self, z_size: int = 32, kl_tolerance: float = 0.5, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.z_size = int(z_size)
        self.kl_tolerance = float(kl_tolerance)
        self.seed = int(seed)
        self.encoder = build_encoder(self.z_size)
        self.decoder = build_decoder(self.z_size)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True  # encoder and decoder are functional models, built on construction

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def encode(self, x):
        """x [B,64,64,3] in [0,1] -> (mu, logvar), each [B,Nz]."""
        mu, logvar = self.encoder(x)
        return mu, logvar

    def decode(self, z):
        """z [B,Nz] -> frames [B,64,64,3] in [0,1]."""
        return self.decoder(z)

    def call(self, x, training=False):
        """Reconstruction of x: sampled z when training, the mean mu otherwise."""
        mu, logvar = self.encoder(x, training=training)
        z = sample_z(mu, logvar, self.seed_generator) if training else mu
        return self.decoder(z, training=training)

    def compute_losses(self, x, seed):
        """(total, reconstruction, kl) of one batch with z drawn from ``seed`` (see :func:`sample_z`)."""
        mu, logvar = self.encoder(x, training=True)
        y = self.decoder(sample_z(mu, logvar, seed), training=True)
        reconstruction = reconstruction_loss(x, y)
        kl = kl_loss(mu, logvar, self.kl_tolerance)
        return reconstruction + kl, reconstruction, kl

    def train_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            total, reconstruction, kl = self.compute_losses(x, self.seed_generator)
        grads = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.loss_tracker.update_state(total)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        total, reconstruction, kl = self.compute_losses(x, self.seed_generator)
        self.loss_tracker.update_state(total)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def get_config(self):
        return {**super().get_config(), "z_size": self.z_size, "kl_tolerance": self.kl_tolerance,
                "seed": self.seed}


def build_vae(cfg) -> ConvVAE:
    """The ConvVAE of a :class:`common.config.Config` (uncompiled). Its initial weights depend on the seed only:
    every layer's initializer is seeded from ``cfg.vae.seed`` by Keras' global seed, set by the caller."""
    return ConvVAE(cfg.vae.z_size, cfg.vae.kl_tolerance, cfg.vae.seed)
