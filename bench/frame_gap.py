"""Does V see envpool's CarRacing as it sees gymnasium's? V's reconstruction loss on frames of both games.

The authors' random policy (a random V, M and C per episode, ``envs.random_policies``) plays ``--episodes`` tracks
in each game for ``--steps`` steps; the run's V encodes each frame (z = mu) and decodes it, and the script prints
the mean per-frame reconstruction loss (the training loss: sum of squared errors over the 64x64x3 image, pixels
in [0, 1]) with its standard error, for each game, past the zoom-in (frames 50..). A V trained on one game's
frames that reconstructs the other's as well is what lets CMA-ES train in envpool and score in gymnasium.

    python bench/frame_gap.py --run-dir runs/carracing-small --out bench/results/carracing_frame_gap.txt
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def random_frames(cfg, backend: str, seeds, steps: int):
    import numpy as np

    from envs.random_policies import make_random_policy
    from envs.vector import EpisodeBatch

    batch = EpisodeBatch(cfg, seeds, backend, full_episode=True)
    policies = [make_random_policy("carracing", s) for s in seeds]
    try:
        frames, kept = batch.reset(), []
        for _ in range(steps):
            kept.append(frames[~batch.done])
            frames, _, _ = batch.step(np.stack([p(f) for p, f in zip(policies, frames)]))
        return kept
    finally:
        batch.close()


def frame_losses(vae, frames):
    """V's reconstruction loss (the training loss, z = mu) of each uint8 frame [N, 64, 64, 3], in batches of 100."""
    import numpy as np
    import tensorflow as tf

    losses = []
    for i in range(0, len(frames), 100):
        x = tf.constant(frames[i:i + 100], tf.float32) / 255.0
        mu, _ = vae.encode(x)
        losses.append(tf.reduce_sum(tf.square(x - vae.decode(mu)), axis=[1, 2, 3]).numpy())
    return np.concatenate(losses)


def loss_text(losses) -> str:
    """Mean ± standard error of per-frame losses, as the bench files print them."""
    import numpy as np

    stderr = losses.std(ddof=1) / np.sqrt(len(losses))
    return (f"reconstruction loss {losses.mean():.1f} ± {stderr:.1f} (standard error) per frame over "
            f"{len(losses)} frames")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, required=True, help="a CarRacing run (or result folder) with V")
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--skip", type=int, default=50, help="first frames left out (the zoom-in)")
    parser.add_argument("--seed", type=int, default=10_000_000, help="first track seed")
    parser.add_argument("--out", type=Path, help="also write the figures to this file (bench/results/...)")
    args = parser.parse_args(argv)
    from bench.bench_output import Output

    out = Output(args.out)
    import numpy as np

    from common.cli import read_run_config
    from vae.export import load_v

    cfg = read_run_config(args.run_dir)
    vae = load_v(args.run_dir)
    seeds = list(range(args.seed, args.seed + args.episodes))
    out.say(f"V of {args.run_dir}; {args.episodes} random-policy tracks x frames {args.skip}..{args.steps - 1}")
    for backend in ("gymnasium", "envpool"):
        frames = np.concatenate(random_frames(cfg, backend, seeds, args.steps)[args.skip:])
        out.say(f"{backend}: {loss_text(frame_losses(vae, frames))}")
    out.save()


if __name__ == "__main__":
    main()
