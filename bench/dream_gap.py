"""Dream vs real for the same controllers: how hard M's dream is at each τ, against the real game.

    python bench/dream_gap.py --run-dir runs/doom-small [--candidates 32] [--taus 1.0 1.15 1.5 2.0] [--no-real]

Draws ``--candidates`` controllers as CMA-ES's first generation does (θ ~ N(0, σ0²), σ0 = es.sigma_init), and
prints the mean ± std episode length of each of them played once in the dream at every τ (``--rollouts`` dream
episodes per controller) and once in the real game (V + M + C in the worker pool). In the authors' run the first
generation lived 305 steps on average in the dream (their log) and a random policy 210 ± 108 in the real game.
A dream where these controllers live much longer than in the real game cannot teach C to dodge.

``--holds N``: also plays N episodes holding one action (-1 left, 0 stay, +1 right) for the whole episode, in the
dream at the first τ (:class:`envs.dream.DoomDreamEnv`) and in the real game: the policies a dream-trained C
falls into when M has never seen a long hold. ``--match-holds EVALUATION_JSON`` checks whether an evaluated
controller behaves as a held action in the real game. Seeds come from the training range (2**30 + i), never the
evaluation seeds; nothing is written.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", required=True, help="a Doom run with V, M and series/initial_z.npz")
    parser.add_argument("--candidates", type=int, default=32)
    parser.add_argument("--rollouts", type=int, default=4, help="dream episodes per controller and τ")
    parser.add_argument("--taus", type=float, nargs="+", default=[1.0, 1.15, 1.5, 2.0])
    parser.add_argument("--no-real", action="store_true", help="skip the real-game episodes")
    parser.add_argument("--holds", type=int, default=0, help="episodes per held action (0: skip)")
    parser.add_argument("--match-holds", metavar="EVALUATION_JSON",
                        help="replay an evaluation's seeds with each held action and count the episodes whose "
                             "length equals the evaluated controller's (all equal: C just holds that action)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from common.timing import machine_description

    print(f"host: {machine_description()}", flush=True)  # speed figures differ between hosts: name this one

    import numpy as np

    from common.cli import read_run_config
    from controller.backends import DreamBackend, PoolBackend, real_factory
    from controller.es import TRAIN_SEED_LOW
    from controller.shape import controller_shape

    run_dir = Path(args.run_dir)
    cfg = read_run_config(run_dir)
    if cfg is None or cfg.experiment != "doom":
        sys.exit(f"error: {run_dir} holds no Doom run")
    n = controller_shape(cfg).num_params
    params = np.random.default_rng(args.seed).normal(0, cfg.es.sigma_init, (args.candidates, n)).astype(np.float32)
    seeds = [TRAIN_SEED_LOW + args.seed * 100_000 + i for i in range(args.candidates)]
    print(f"{args.candidates} controllers θ ~ N(0, {cfg.es.sigma_init}²), {n} parameters; run {run_dir}")
    for tau in args.taus:
        dream_cfg = replace(cfg, es=replace(cfg.es, num_rollouts=args.rollouts))
        backend = DreamBackend(dream_cfg, run_dir, tau)
        start = time.perf_counter()
        _, lengths = backend.rollouts(params, seeds)
        print(f"dream τ {tau:4.2f}: {lengths.mean():7.1f} ± {lengths.std():6.1f} steps "
              f"({args.rollouts} episodes per controller, {time.perf_counter() - start:.0f} s)", flush=True)
    if not args.no_real:
        real_cfg = replace(cfg, es=replace(cfg.es, num_rollouts=1))
        backend = PoolBackend(real_cfg, real_factory(real_cfg, run_dir))
        try:
            start = time.perf_counter()
            _, lengths = backend.rollouts(params, seeds)
        finally:
            backend.close()
        print(f"real game : {lengths.mean():7.1f} ± {lengths.std():6.1f} steps (1 episode per controller, "
              f"{time.perf_counter() - start:.0f} s)", flush=True)
    if args.holds:
        hold_lengths(run_dir, cfg, args.taus[0], args.holds, seeds[0])
    if args.match_holds:
        match_holds(cfg, Path(args.match_holds))


def held_length(env, value: float, seed: int, max_steps: int) -> int:
    """Steps survived with the action ``value`` held for the whole episode (reset with ``seed``)."""
    import numpy as np

    env.reset(seed=seed)
    t, done = 0, False
    while not done and t < max_steps:
        _, _, terminated, truncated, _ = env.step(np.array([value], np.float32))
        t, done = t + 1, terminated or truncated
    return t


def match_holds(cfg, evaluation: Path) -> None:
    import json

    from envs.doom import TakeCover64Env

    result = json.loads(evaluation.read_text())
    env = TakeCover64Env(skill=cfg.env.doom_skill)
    for value in (-1.0, 1.0):
        same = sum(held_length(env, value, seed, cfg.env.max_steps) == length
                   for seed, length in zip(result["seeds"], result["lengths"]))
        print(f"{evaluation}: hold {value:+.0f} gives the same length on {same} of {len(result['seeds'])} "
              f"episodes", flush=True)


def hold_lengths(run_dir: Path, cfg, tau: float, episodes: int, first_seed: int) -> None:
    import numpy as np

    from common.run_layout import RunLayout
    from envs.doom import TakeCover64Env
    from envs.dream import DoomDreamEnv
    from envs.episodes import load_initial_z
    from rnn.export import load_m

    mu, logvar = load_initial_z(RunLayout(run_dir).initial_z)
    envs = {f"dream τ {tau:4.2f}": DoomDreamEnv.from_models(load_m(run_dir), mu, logvar, temperature=tau),
            "real game ": TakeCover64Env(skill=cfg.env.doom_skill)}
    for value in (-1.0, 0.0, 1.0):
        for name, env in envs.items():
            lengths = [held_length(env, value, first_seed + i, cfg.env.max_steps) for i in range(episodes)]
            print(f"hold {value:+.0f}, {name}: {np.mean(lengths):7.1f} ± {np.std(lengths):6.1f} steps "
                  f"({episodes} episodes; cap {cfg.env.max_steps})", flush=True)


if __name__ == "__main__":
    main()
