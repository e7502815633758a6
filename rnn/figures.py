"""M's figures: the training loss per step, and a dream strip (M rolled forward from a real frame, decoded by V)."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from common import atomic
from common.run_layout import RunLayout


def _save(fig, out_path) -> Path:
    out_path = Path(out_path)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic.write_bytes(out_path, buf.getvalue())
    return out_path


def loss_figure(run_dir: str | os.PathLike, out_path: str | os.PathLike) -> Path:
    """Training loss per step from <run>/rnn/history.csv (total, z and, for Doom, death loss)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = RunLayout(run_dir).rnn_history
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    step = np.array([int(r["step"]) for r in rows])
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, style in (("loss", "-"), ("z_loss", "--"), ("death_loss", ":")):
        values = np.array([float(r[key]) for r in rows])
        if key == "death_loss" and not np.any(values):
            continue
        ax.plot(step, values, style, label=key, linewidth=1)
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (mixture NLL per latent dim)")
    ax.set_title("M (MDN-RNN) training loss")
    ax.grid(alpha=0.3)
    ax.legend()
    out = _save(fig, out_path)
    plt.close(fig)
    return out


def dream_rollout(rnn, z0, actions, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
    """z_0 then M's samples z_1..z_T [T+1, Nz], fed the recorded actions [T, A] (restart 1 on the first step)."""
    import tensorflow as tf

    from rnn.model import dream_step

    h, c = rnn.initial_state(1)
    z = tf.constant(np.asarray(z0, np.float32)[None])
    zs = [z[0].numpy()]
    for t, a in enumerate(np.asarray(actions, np.float32)):
        z, h, c, _ = dream_step(rnn, z, a[None], tf.constant([1.0 if t == 0 else 0.0]), h, c, temperature,
                                tf.constant([seed, t], tf.int32))
        zs.append(z[0].numpy())
    return np.stack(zs)


def dream_strip_figure(run_dir: str | os.PathLike, cfg, out_path: str | os.PathLike, num_frames: int = 12,
                       stride: int = 4, episode: int = 0, temperature: float = 1.0, seed: int = 0) -> Path:
    """Top row: real frames t = 0, stride, 2 stride, ... of a recorded episode (V's reconstruction of the series
    when the rollout file is gone); bottom row: V's decoding of M's dream started from that episode's frame-0
    z (the posterior mean) and fed the recorded actions at τ = ``temperature``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from envs.episodes import episode_index, episode_path, list_episode_files, load_rollout, load_series
    from rnn.export import load_m
    from vae.export import load_v

    layout = RunLayout(run_dir)
    files = list_episode_files(layout.series)
    if not files:
        raise FileNotFoundError(f"no series files in {layout.series}")
    series_file = files[min(episode, len(files) - 1)]
    series = load_series(series_file, cfg.vae.z_size, cfg.env.action_size)
    steps = min((num_frames - 1) * stride, series["mu"].shape[0] - 1)
    shown = list(range(0, steps + 1, stride))
    rnn, vae = load_m(run_dir), load_v(run_dir)
    zs = dream_rollout(rnn, series["mu"][0], series["action"][:steps], temperature, seed)
    dream = np.asarray(vae.decode(zs[shown]))
    rollout = episode_path(layout.rollouts, episode_index(series_file))
    if rollout.exists():
        real = load_rollout(rollout, cfg.env.action_size)["obs"][shown].astype(np.float32) / 255.0
        real_label = "real"
    else:
        real = np.asarray(vae.decode(series["mu"][shown]))
        real_label = "V(real)"
    fig, axes = plt.subplots(2, len(shown), figsize=(1.3 * len(shown), 3.0), squeeze=False)
    for i, t in enumerate(shown):
        for row, (img, label) in enumerate(((real[i], real_label), (dream[i], f"dream τ={temperature:g}"))):
            ax = axes[row, i]
            ax.imshow(np.clip(img, 0, 1))
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_ylabel(label, fontsize=8)
            if row == 0:
                ax.set_title(f"t={t}", fontsize=8)
    fig.suptitle(f"M's dream from {series_file.name} frame 0 with the recorded actions", fontsize=9)
    out = _save(fig, out_path)
    plt.close(fig)
    return out
