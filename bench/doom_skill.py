"""Random-policy survival in TakeCover64 at each vizdoom skill: the calibration behind ``env.doom_skill``.

    python bench/doom_skill.py [--episodes 60] [--skills 3 4 5] [--out bench/results/doom_skill.txt]

The paper's random policy survives 210 +- 108 steps (ORIGINAL-SPEC §9). Prints, per skill, mean +- std of the
episode length for two random policies: a uniform action in [-1, 1] every step, and the authors' data-collection
policy (:class:`envs.random_policies.DoomRepeatPolicy`), plus the share of episodes over 100 frames (the
authors kept only those). Episode seeds 5000.. (game) and 0.. (policy). ``--out`` also writes the lines, with the
command and the host, to a file (the README's calibration table is read from bench/results/doom_skill.txt).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.bench_output import Output  # noqa: E402
from envs.doom import TakeCover64Env  # noqa: E402
from envs.random_policies import DoomRepeatPolicy  # noqa: E402


def lengths(env, episodes: int, policy_factory) -> np.ndarray:
    out = []
    for i in range(episodes):
        obs, _ = env.reset(seed=5000 + i)
        policy, t, done = policy_factory(i), 0, False
        while not done and t < 2100:
            obs, _, terminated, truncated, _ = env.step(policy(obs))
            t, done = t + 1, terminated or truncated
        out.append(t)
    return np.asarray(out, np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=60)
    parser.add_argument("--skills", type=int, nargs="+", default=[3, 4, 5])
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args()
    out = Output(args.out)
    say = out.say

    def uniform(i):
        rng = np.random.default_rng(i)
        return lambda obs: rng.uniform(-1, 1, 1).astype(np.float32)

    def repeat(i):
        policy = DoomRepeatPolicy(i)
        return lambda obs: np.asarray(policy(obs), np.float32).reshape(1)

    say(f"paper: random policy 210 +- 108 steps; {args.episodes} episodes per row")
    for skill in args.skills:
        env = TakeCover64Env(skill=skill)
        for name, factory in (("uniform per step", uniform), ("authors' repeat policy", repeat)):
            n = lengths(env, args.episodes, factory)
            say(f"skill {skill}  {name:24s} {n.mean():7.1f} +- {n.std():6.1f} steps, "
                f"{100 * (n > 100).mean():5.1f}% over 100 frames")
        env.close()
    out.save()


if __name__ == "__main__":
    main()
