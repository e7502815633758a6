"""One episode of the trained agent as frames: the real frame beside V's reconstruction of z (real env), or the
decoded dream z (dream). ``write_video`` saves GIF (PIL) or MP4 (matplotlib's ffmpeg writer, when ffmpeg exists).

Runs from a training run or a committed result folder (SavedModels suffice: ``vae.export.load_v``,
``rnn.export.load_m``). Frames are decoded once, in batches, after the episode: V's decoder is the costly part.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from common.config import Config, ConfigError
from common.run_layout import RunLayout

VIDEO_SUFFIXES = (".gif", ".mp4")
DECODE_BATCH = 256
REPORT_VIDEO_FRAMES = 120  # the report's GIFs: the first 120 frames of each episode (1-2 MB each at 2x)


def to_uint8(x) -> np.ndarray:
    return (np.clip(np.asarray(x), 0.0, 1.0) * 255).round().astype(np.uint8)


def check_video_args(path: Path, frames: int, fps: int) -> None:
    """ConfigError before anything is played: a file name we cannot write, or a non-positive count."""
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ConfigError(f"--video {path}: use a .gif or .mp4 file name")
    if path.suffix.lower() == ".mp4":
        from matplotlib import animation

        if not animation.writers.is_available("ffmpeg"):
            raise ConfigError(f"--video {path}: MP4 needs ffmpeg on PATH; write a .gif instead")
    if frames < 1 or fps < 1:
        raise ConfigError(f"--frames and --fps must be >= 1, got {frames} and {fps}")


def decode_frames(vae, zs: np.ndarray) -> np.ndarray:
    """V's decoding of zs [T, Nz] as uint8 [T, 64, 64, 3], in batches of DECODE_BATCH."""
    parts = [np.asarray(vae.decode(np.asarray(zs[i:i + DECODE_BATCH], np.float32)))
             for i in range(0, len(zs), DECODE_BATCH)]
    return to_uint8(np.concatenate(parts)) if parts else np.zeros((0, 64, 64, 3), np.uint8)


def real_episode(run_dir, cfg: Config, params, seed: int, max_steps: int):
    """The agent's real-game episode with ``reset(seed=seed)``: its first ``max_steps`` frames uint8
    [T, 64, 64, 3], the z C saw [T, Nz], and the agent's V. Stops at the episode's end or after ``max_steps``."""
    from controller.agent import Agent

    agent = Agent(run_dir, cfg, threads=None)
    frames, zs = [], []

    def record(frame, z):
        frames.append(np.asarray(frame))
        zs.append(z)

    try:
        agent.episode(params, seed, on_step=record, max_steps=max_steps)
    finally:
        agent.env.close()
    return np.stack(frames), np.stack(zs), agent.vae


def beside_reconstruction(real: np.ndarray, zs: np.ndarray, vae) -> np.ndarray:
    """Real frames [T, 64, 64, 3] beside V's decoding of the z C saw: uint8 [T, 64, 128, 3]."""
    return np.concatenate([real, decode_frames(vae, zs)], axis=2)


def dream_episode(run_dir, cfg: Config, params, seed: int, temperature: float, max_steps: int):
    """The agent in M's dream: z [T, Nz] from a stored initial z (row and noise from ``seed``) until M's
    death head fires or ``max_steps``, with the project's one dream step."""
    import tensorflow as tf

    from controller.model import act, controller_shape, observation
    from envs.episodes import load_initial_z
    from rnn.export import load_m
    from rnn.model import dream_step

    shape = controller_shape(cfg)
    rnn = load_m(run_dir)
    mu, logvar = load_initial_z(RunLayout(run_dir).initial_z)
    rng = np.random.default_rng(seed)
    row = rng.integers(len(mu))
    z = tf.constant((mu[row] + np.exp(logvar[row] / 2) * rng.standard_normal(mu.shape[1]))[None], tf.float32)
    h, c = rnn.initial_state(1)
    params = tf.constant(np.asarray(params, np.float32))
    key0 = tf.constant(seed % (2**31 - 1), tf.int32)

    @tf.function(autograph=False)  # an explicit tf.while_loop: converting the call tree costs seconds
    def run(z, h, c):  # the whole episode in one graph loop: no Python between steps
        def body(t, z, h, c, zs, alive):
            zs = zs.write(t, z[0])
            restart = tf.fill([1], tf.cast(tf.equal(t, 0), tf.float32))
            a = act(params, observation(z, c, h, shape), shape)
            z, h, c, dead = dream_step(rnn, z, a, restart, h, c, temperature, tf.stack([key0, t]))
            return t + 1, z, h, c, zs, ~dead[0]

        zs = tf.TensorArray(tf.float32, size=0, dynamic_size=True, element_shape=[z.shape[-1]])
        out = tf.while_loop(lambda t, z, h, c, zs, alive: alive & (t < max_steps), body,
                            (tf.constant(0), z, h, c, zs, tf.constant(True)))
        return out[4].stack()

    return run(z, h, c).numpy()


def record_episode(run_dir, cfg: Config, params, seed: int, dream: bool = False, temperature: float | None = None,
                   max_steps: int | None = None) -> list[np.ndarray]:
    """Frames uint8 [64, 128, 3] (real | V's reconstruction) or [64, 64, 3] (dream) of one episode."""
    max_steps = max_steps or cfg.env.max_steps
    if not dream:
        real, zs, vae = real_episode(run_dir, cfg, params, seed, max_steps)
        return list(beside_reconstruction(real, zs, vae))
    from vae.export import load_v

    tau = temperature if temperature is not None else cfg.es.temperature
    return list(decode_frames(load_v(run_dir), dream_episode(run_dir, cfg, params, seed, tau, max_steps)))


def report_videos(run_dir, real: np.ndarray | None, real_zs: np.ndarray | None, dream_zs: np.ndarray | None,
                  vae, frames: int = REPORT_VIDEO_FRAMES, fps: int = 30) -> dict[str, Path]:
    """The report's GIFs from episodes already played (:func:`real_episode`, :func:`dream_episode`): the first
    ``frames`` frames, real | V's reconstruction, and the decoded dream. Returns {"real" | "dream": path}."""
    layout, out = RunLayout(run_dir), {}
    if real is not None:
        shown = beside_reconstruction(real[:frames], real_zs[:frames], vae)
        out["real"] = write_video(list(shown), layout.report_video("real"), fps=fps, scale=2)
    if dream_zs is not None:
        out["dream"] = write_video(list(decode_frames(vae, dream_zs[:frames])), layout.report_video("dream"), fps=fps,
                                   scale=2)
    return out


def write_video(frames: list[np.ndarray], path: Path, fps: int = 30, scale: int = 4) -> Path:
    """GIF (PIL) or MP4 (matplotlib + ffmpeg) from uint8 frames, each upscaled ``scale`` x (nearest)."""
    path = Path(path)
    if not frames:
        raise ConfigError("no frames to write")
    check_video_args(path, len(frames), fps)
    frames = [np.kron(f, np.ones((scale, scale, 1), np.uint8)) for f in frames]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")  # written whole, then renamed
    if path.suffix.lower() == ".gif":
        from PIL import Image

        images = [Image.fromarray(f) for f in frames]
        images[0].save(tmp, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    else:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import animation
        from matplotlib import pyplot as plt

        fig = plt.figure(figsize=(frames[0].shape[1] / 100, frames[0].shape[0] / 100), dpi=100)
        ax = fig.add_axes([0, 0, 1, 1])
        ax.axis("off")
        image = ax.imshow(frames[0])
        writer = animation.FFMpegWriter(fps=fps)
        with writer.saving(fig, str(tmp), dpi=100):
            for f in frames:
                image.set_data(f)
                writer.grab_frame()
        plt.close(fig)
    tmp.replace(path)
    return path
