"""One episode of the trained agent as frames: the real frame beside V's reconstruction of z (real env), or the
decoded dream z (dream). ``write_video`` saves GIF (PIL) or MP4 (matplotlib's ffmpeg writer, when ffmpeg exists).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from common.config import Config, ConfigError


def _to_uint8(x) -> np.ndarray:
    return (np.clip(np.asarray(x), 0.0, 1.0) * 255).round().astype(np.uint8)


def record_episode(run_dir, cfg: Config, seed: int, dream: bool = False, temperature: float | None = None,
                   max_steps: int | None = None, params_file: Path | None = None) -> list[np.ndarray]:
    """Frames uint8 [64, 128, 3] (real | reconstruction) or [64, 64, 3] (dream) of one episode with ``seed``."""
    import tensorflow as tf

    from controller.evaluate import read_params
    from controller.model import act, controller_shape, observation

    run_dir = Path(run_dir)
    shape = controller_shape(cfg)
    params, _ = read_params(params_file or run_dir / "controller" / "best.json", shape.num_params)
    max_steps = max_steps or cfg.env.max_steps
    from vae.model import load_vae

    vae = load_vae(run_dir)
    frames: list[np.ndarray] = []
    if not dream:
        from controller.agent import Agent

        agent = Agent(run_dir, cfg, threads=None)
        zs, real = [], []

        def on_step(frame, z):
            if len(real) < max_steps:
                real.append(np.asarray(frame))
                zs.append(z)

        agent.episode(params, seed, on_step=on_step)
        recon = vae.decode(tf.constant(np.stack(zs)))
        return [np.concatenate([f, _to_uint8(r)], axis=1) for f, r in zip(real, np.asarray(recon))]
    # Dream: the same loop as the batched dream, one rollout, decoded with V.
    from controller.backends import load_initial_z
    from rnn.model import load_rnn, sample_mdn

    rnn = load_rnn(run_dir)
    mu, logvar = load_initial_z(run_dir)
    rng = np.random.default_rng(seed)
    row = rng.integers(len(mu))
    z = tf.constant((mu[row] + np.exp(logvar[row] / 2) * rng.standard_normal(mu.shape[1]))[None], tf.float32)
    h, c = rnn.initial_state(1)
    restart = tf.ones([1])
    tau = temperature if temperature is not None else cfg.es.temperature
    for t in range(max_steps):
        frames.append(_to_uint8(vae.decode(z)[0]))
        a = act(params, observation(z, c, h, shape), shape)
        out, h, c = rnn.step(z, a, restart, h, c)
        restart = tf.zeros([1])
        z = sample_mdn(out, tau, tf.constant([seed % (2**31 - 1), t], tf.int32))
        if out.death_logit is not None and float(out.death_logit[0]) > 0:
            break
    return frames


def write_video(frames: list[np.ndarray], path: Path, fps: int = 30, scale: int = 4) -> Path:
    """GIF (PIL) or MP4 (matplotlib + ffmpeg) from uint8 frames, each upscaled ``scale`` x (nearest)."""
    path = Path(path)
    if not frames:
        raise ConfigError("no frames to write")
    frames = [np.kron(f, np.ones((scale, scale, 1), np.uint8)) for f in frames]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".gif":
        from PIL import Image

        images = [Image.fromarray(f) for f in frames]
        images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
        return path
    if path.suffix.lower() == ".mp4":
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import animation
        from matplotlib import pyplot as plt

        if not animation.writers.is_available("ffmpeg"):
            raise ConfigError("MP4 needs ffmpeg on PATH; write a .gif instead")
        fig = plt.figure(figsize=(frames[0].shape[1] / 100, frames[0].shape[0] / 100), dpi=100)
        ax = fig.add_axes([0, 0, 1, 1])
        ax.axis("off")
        image = ax.imshow(frames[0])
        writer = animation.FFMpegWriter(fps=fps)
        with writer.saving(fig, str(path), dpi=100):
            for f in frames:
                image.set_data(f)
                writer.grab_frame()
        plt.close(fig)
        return path
    raise ConfigError(f"--video {path}: use a .gif or .mp4 file name")
