"""Does C score better in gymnasium's game once V's encoder has learnt gymnasium's frames?

CMA-ES trains C in envpool's CarRacing and the score is played in gymnasium's, whose frames V reconstructs worse
(bench/frame_gap.py). This script teaches a copy of a run's V gymnasium's frames without changing what a z means:
only the encoder trains, the decoder is frozen (a z still decodes to the same picture, so M and C read it as
before). Each step takes a batch of random-policy frames, half from each game: V's own loss (reconstruction + KL,
z sampled) on the gymnasium half, and on the envpool half the squared distance of (mu, logvar) to the original
encoder's, weighted by ``--keep``, so the codes M and C were trained on stay where they were. It writes the adapted
V's SavedModel to ``<to>/vae/saved_model`` and prints, on held-out tracks of both games, the reconstruction loss
(z = mu) of the original and the adapted encoder and how far the adapted one moved the codes.

    cp -r reports/results/carracing-sampled-z runs/cr-adapt
    python bench/v_adapt.py --run-dir reports/results/carracing-sampled-z --to runs/cr-adapt --out runs/cr-adapt/v_adapt.txt
    python -m controller evaluate --run-dir runs/cr-adapt --split validation   # then the same on an unadapted copy
    python bench/paired_scores.py <copy>/controller/evaluation_real_validation.json \\
        runs/cr-adapt/controller/evaluation_real_validation.json

Frames come from the collection seed range (common/seeds.py), past the run's own episodes: ``--seed``.. for
training, ``--seed + 100,000``.. held out.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HELD_OUT_OFFSET = 100_000


def keras_v(run_dir: Path):
    """The run's V as a Keras ConvVAE: its Keras file, or its SavedModel's variables (a published folder)."""
    import tensorflow as tf

    from common.run_layout import RunLayout
    from vae.export import load_vae
    from vae.model import ConvVAE

    layout = RunLayout(run_dir)
    if layout.vae_model.exists():
        return load_vae(run_dir)
    served = {v.name.split(":")[0]: v for v in tf.saved_model.load(str(layout.vae_saved_model)).variables}
    z_size = int(served["enc_fc_mu/bias"].shape[0])
    vae = ConvVAE(z_size)
    for layer in vae.encoder.layers + vae.decoder.layers:
        for weight in layer.weights:
            weight.assign(served[f"{layer.name}/{weight.name}"])
    return vae


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, required=True, help="the CarRacing run (or result folder) whose V")
    parser.add_argument("--to", type=Path, required=True, help="a copy of that run; its vae/saved_model is replaced")
    parser.add_argument("--tracks", type=int, default=32, help="random-policy tracks per game to train on")
    parser.add_argument("--held-out", type=int, default=8, help="random-policy tracks per game to measure on")
    parser.add_argument("--frames", type=int, default=400, help="steps per track (the first 50 are left out)")
    parser.add_argument("--seed", type=int, default=6_000_000, help="first track seed (collection range)")
    parser.add_argument("--steps", type=int, default=400, help="training steps of 50 + 50 frames")
    parser.add_argument("--keep", type=float, default=100.0, help="weight of the envpool codes' distance")
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--out", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.to.resolve() == args.run_dir.resolve():
        parser.error("--to must be a copy of --run-dir, not the run itself")
    from common.config import ConfigError
    from common.run_layout import RunLayout
    from common.seeds import COLLECTION

    if not RunLayout(args.to).vae_dir.is_dir():
        parser.error(f"{args.to} is not a copy of a run (no vae/ folder): cp -r {args.run_dir} {args.to}")
    try:
        COLLECTION.check(args.seed, HELD_OUT_OFFSET + args.held_out, "--seed")
    except ConfigError as err:
        parser.error(str(err))
    from bench.bench_output import Output

    out = Output(args.out)
    import keras
    import numpy as np
    import tensorflow as tf

    from bench.frame_gap import frame_losses, random_frames
    from common.cli import read_run_config
    from vae.export import export_saved_model
    from vae.model import kl_loss, make_optimizer, reconstruction_loss, sample_z

    cfg = read_run_config(args.run_dir)
    vae = keras_v(args.run_dir)
    original = keras.models.clone_model(vae.encoder)
    original.set_weights(vae.encoder.get_weights())
    vae.decoder.trainable = False

    def frames(backend, first, count):
        return np.concatenate(random_frames(cfg, backend, range(first, first + count), args.frames)[50:])

    t0 = time.perf_counter()
    train = {b: frames(b, args.seed, args.tracks) for b in ("gymnasium", "envpool")}
    held = {b: frames(b, args.seed + HELD_OUT_OFFSET, args.held_out) for b in ("gymnasium", "envpool")}
    out.say(f"V of {args.run_dir}; random-policy frames 50..{args.frames - 1}: "
            + ", ".join(f"{b} {len(train[b])} to train on, {len(held[b])} held out" for b in train)
            + f" ({time.perf_counter() - t0:.0f} s)")

    optimizer = make_optimizer(args.learning_rate)
    noise = keras.random.SeedGenerator(cfg.vae.seed)
    kl_tolerance = cfg.vae.kl_tolerance

    @tf.function(jit_compile=True)
    def step(gym, env):
        mu_kept, logvar_kept = original(env)
        with tf.GradientTape() as tape:
            mu, logvar = vae.encoder(gym, training=True)
            reconstruction = reconstruction_loss(gym, vae.decoder(sample_z(mu, logvar, noise)))
            kl = kl_loss(mu, logvar, kl_tolerance)
            mu_env, logvar_env = vae.encoder(env, training=True)
            moved = tf.reduce_mean(tf.reduce_sum(tf.square(mu_env - mu_kept) + tf.square(logvar_env - logvar_kept), -1))
            loss = reconstruction + kl + args.keep * moved
        grads = tape.gradient(loss, vae.encoder.trainable_weights)
        optimizer.apply_gradients(zip(grads, vae.encoder.trainable_weights))
        return reconstruction, kl, moved

    rng = np.random.default_rng(cfg.vae.seed)
    t0 = time.perf_counter()
    for i in range(args.steps):
        batch = [tf.constant(train[b][rng.integers(0, len(train[b]), 50)], tf.float32) / 255.0
                 for b in ("gymnasium", "envpool")]
        reconstruction, kl, moved = step(*batch)
        if i % 100 == 0 or i == args.steps - 1:
            print(f"step {i}: gymnasium reconstruction {float(reconstruction):.1f}, kl {float(kl):.1f}; "
                  f"envpool codes moved {float(moved):.4f}", flush=True)
    out.say(f"{args.steps} steps of 50 + 50 frames, learning rate {args.learning_rate:g}, keep {args.keep:g} "
            f"({time.perf_counter() - t0:.0f} s)")

    def codes(encoder, x):
        return np.concatenate([encoder(tf.constant(x[i:i + 200], tf.float32) / 255.0)[0].numpy()
                               for i in range(0, len(x), 200)])

    for backend, x in held.items():  # frame_losses: V's reconstruction loss per frame, z = mu
        before = frame_losses(SimpleNamespace(encode=original, decode=vae.decoder), x)
        after = frame_losses(vae, x)
        diff = after - before
        kept = codes(original, x)
        shift = codes(vae.encoder, x) - kept
        out.say(f"{backend} held out: reconstruction loss {before.mean():.2f} -> {after.mean():.2f}, paired "
                f"{diff.mean():+.2f} ± {diff.std(ddof=1) / np.sqrt(len(diff)):.2f} (standard error); codes moved "
                f"rms {np.sqrt(np.mean(shift ** 2)):.3f} (the codes' std {kept.std(0).mean():.3f})")
    path = export_saved_model(vae, RunLayout(args.to).vae_saved_model)
    out.say(f"adapted V written to {path}")
    out.save()


if __name__ == "__main__":
    main()
