"""Figures of V for the report: real frames (top row) over V's reconstructions from mu (bottom row)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from common.config import Config
from common.run_layout import RunLayout
from envs.data import scan_rollouts


def reconstruction_figure(run_dir: str | os.PathLike, cfg: Config, out_path: str | os.PathLike,
                          num_frames: int = 8) -> Path:
    """Write a PNG of ``num_frames`` frames spread over the first valid rollout above their reconstructions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vae.export import load_v

    run_dir, out_path = Path(run_dir), Path(out_path)
    rollouts = RunLayout(run_dir).rollouts
    files, _ = scan_rollouts(rollouts, cfg.env.action_size, max_episodes=1)
    if not files:
        raise FileNotFoundError(f"no valid rollouts in {rollouts}")
    with np.load(files[0]) as data:
        obs = data["obs"]
    index = np.linspace(0, len(obs) - 1, num=min(num_frames, len(obs))).astype(int)
    real = obs[index].astype(np.float32) / 255.0
    model = load_v(run_dir)
    mu, _ = model.encode(real)
    recon = np.asarray(model.decode(mu))
    fig, axes = plt.subplots(2, len(index), figsize=(1.4 * len(index), 3.0), squeeze=False)
    for col in range(len(index)):
        for row, images in enumerate((real, recon)):
            ax = axes[row][col]
            ax.imshow(np.clip(images[col], 0.0, 1.0))
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0][col].set_title(f"t={index[col]}", fontsize=8)
    axes[0][0].set_ylabel("real")
    axes[1][0].set_ylabel("V(x)")
    fig.suptitle(f"{cfg.experiment}: V reconstructions (Nz {cfg.vae.z_size}, {files[0].name})", fontsize=9)
    fig.tight_layout()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.stem}.tmp-{os.getpid()}.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, out_path)
    return out_path
