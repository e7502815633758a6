"""What a training-only episode cut would save in CarRacing: end a rollout after more than N consecutive steps of
negative reward (no new tile), as the attention agent of Tang et al. did for its training rollouts (N = 20).

Plays ``--episodes`` envpool episodes (training seeds) with the run's trained controller and with CMA-ES's first
generation (θ ~ N(0, es.sigma_init²), one per episode), records every step's reward, and reports for each N the
share of steps the cut would skip and the tile reward it would drop (reward of the skipped positive steps), which
changes the fitness CMA-ES ranks by.

    python bench/negative_reward_cut.py --run-dir reports/results/carracing-sampled-z --out bench/results/negative_reward_cut.txt
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def step_rewards(agent, params, seeds, cfg):
    """[episodes] arrays of per-step rewards of ``params`` rows played on ``seeds`` in envpool's game."""
    import numpy as np

    from envs.vector import EpisodeBatch

    batch = EpisodeBatch(cfg, seeds, "envpool")
    try:
        state, frames, rows = agent._start(params, seeds), batch.reset(), []
        while not batch.done.all():
            running = ~batch.done
            actions, _ = agent._act(state, frames)
            frames, rewards, _ = batch.step(actions)
            rows.append(np.where(running, rewards, np.nan))
    finally:
        batch.close()
    table = np.array(rows)
    return [column[~np.isnan(column)] for column in table.T]


def cut_at(rewards, cap: int) -> int:
    """Steps played before the cut: the step at which more than ``cap`` consecutive rewards were negative."""
    run = 0
    for t, r in enumerate(rewards):
        run = run + 1 if r < 0 else 0
        if run > cap:
            return t + 1
    return len(rewards)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", required=True, help="a CarRacing run with V, M and controller/best.json")
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--caps", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("--out", type=Path, help="also write the figures to this file (bench/results/...)")
    args = parser.parse_args(argv)
    from bench.bench_output import Output

    out = Output(args.out)
    import numpy as np

    from common.cli import read_run_config
    from common.seeds import TRAINING
    from controller.agent import Agent
    from controller.evaluate import read_params
    from controller.shape import controller_shape
    from common.run_layout import RunLayout

    cfg = read_run_config(Path(args.run_dir))
    shape = controller_shape(cfg)
    best, _ = read_params(RunLayout(args.run_dir).controller().best, shape.num_params)
    agent = Agent(args.run_dir, cfg, threads=1, with_env=False)
    seeds = list(range(TRAINING.low, TRAINING.low + args.episodes))
    first = cfg.es.sigma_init * np.random.default_rng(0).standard_normal((args.episodes, shape.num_params))
    out.say(f"{args.episodes} envpool episodes (seeds {seeds[0]}..), v0 rule, {cfg.env.max_steps}-step cap")
    for name, params in (("trained C (controller/best.json)", np.tile(best, (args.episodes, 1))),
                         ("CMA-ES first generation", first.astype(np.float32))):
        episodes = step_rewards(agent, params, seeds, cfg)
        returns = [float(np.sum(r)) for r in episodes]
        out.say(f"{name}: return {np.mean(returns):.1f} ± {np.std(returns):.1f}, "
                f"{np.mean([len(r) for r in episodes]):.0f} steps per episode")
        for cap in args.caps:
            kept = [cut_at(r, cap) for r in episodes]
            skipped = 1 - np.sum(kept) / np.sum([len(r) for r in episodes])
            dropped = np.mean([float(np.sum(np.clip(r[k:], 0, None))) for r, k in zip(episodes, kept)])
            out.say(f"  cut after {cap} negative steps: {skipped:.0%} of the steps skipped, "
                    f"{dropped:.1f} tile reward per episode dropped")
    out.save()


if __name__ == "__main__":
    main()
