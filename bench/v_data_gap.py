"""Does V see the agents' episodes as well as the random ones it was trained on? Doom, iterative training.

V is trained once, in the first pass, on the first ``vae.max_episodes`` random-policy episodes, and is never
retrained: the rounds' agent episodes (``collect.policy agent``) go through the same V. This prints V's
reconstruction loss (the training loss: sum of squared errors over the 64x64x3 frame, pixels in [0, 1], z = mu)
per group of episodes of the run's ``rollouts/``, with its standard error over frames:

- V's own training episodes, the first pass's other random episodes (e.g. the long-hold ones), and
- each round's agent episodes (the rounds are read back from ``iterate.json``, :func:`reports.iterate.passes`).

Loss on the agent's episodes well above the held-out random ones says V should be retrained on the agents' data;
equal losses say it need not be.
``--range FIRST END`` scores one given range of episodes instead, so that two Vs of one run's data are compared on
the same episodes.

    python bench/v_data_gap.py --run-dir runs/doom-small/round2 --out bench/results/v_data_gap.txt
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def groups(run_dir: Path) -> list[tuple[str, int, int]]:
    """(label, first, end) episode-index ranges of the run's rollouts: V's training data, the first pass's other
    episodes, then each round's agent episodes."""
    from common.cli import read_run_config
    from reports.iterate import passes

    chain = passes(run_dir)
    first = read_run_config(chain[0][1])
    v_end = min(first.vae.max_episodes or first.collect.episodes, first.collect.episodes)
    out = [("random, V trained on them", 0, v_end)]
    if v_end < first.collect.episodes:
        out.append(("random, not in V's training data", v_end, first.collect.episodes))
    end = first.collect.episodes
    for k, folder in chain[1:]:
        cfg = read_run_config(folder)
        out.append((f"round {k}: agent episodes", end, cfg.collect.episodes))
        end = cfg.collect.episodes
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, required=True, help="a Doom run folder or round with V and rollouts/")
    parser.add_argument("--episodes", type=int, default=24, help="episodes per group, evenly spaced")
    parser.add_argument("--every", type=int, default=5, help="every N-th frame of an episode")
    parser.add_argument("--range", type=int, nargs=2, metavar=("FIRST", "END"),
                        help="score episodes FIRST..END-1 as one group instead (e.g. ones no V compared trained on)")
    parser.add_argument("--out", type=Path, help="also write the figures to this file (bench/results/...)")
    args = parser.parse_args(argv)
    from bench.bench_output import Output
    from bench.frame_gap import frame_losses, loss_text

    out = Output(args.out)
    import numpy as np

    from common.cli import read_run_config
    from common.run_layout import RunLayout
    from envs import episodes
    from vae.export import load_v

    cfg = read_run_config(args.run_dir)
    if args.range and not 0 <= args.range[0] < args.range[1] <= cfg.collect.episodes:
        print(f"error: --range must lie within the run's 0..{cfg.collect.episodes} episodes", file=sys.stderr)
        sys.exit(2)
    vae = load_v(args.run_dir)
    rollouts = RunLayout(args.run_dir).rollouts
    out.say(f"V of {args.run_dir}; {args.episodes} episodes per group, every {args.every}th frame")
    chosen = [("episodes of --range", *args.range)] if args.range else groups(args.run_dir)
    for label, first, end in chosen:
        picks = np.unique(np.linspace(first, end - 1, min(args.episodes, end - first)).round().astype(int))
        obs = [episodes.load_rollout(episodes.episode_path(rollouts, int(i)), cfg.env.action_size)["obs"]
               for i in picks]
        losses = frame_losses(vae, np.concatenate([o[::args.every] for o in obs]))
        out.say(f"{label} (episodes {first}..{end - 1}, {len(picks)} of them, mean length "
                f"{np.mean([len(o) for o in obs]):.0f}): {loss_text(losses)}")
    out.save()


if __name__ == "__main__":
    main()
