"""Where one worker's time goes in a batched CarRacing rollout: env step, crop + resize, and V + M + C.

One process on one core (as a CMA-ES worker runs), ``--vector-envs`` episodes at once, paper-size V and M with
fresh weights and the driving controller of ``bench/carracing_rollouts.py``. Each part is timed alone over
``--steps`` batch steps, then the whole loop (``Agent.play``); figures are milliseconds per batch step and the
agent-steps/s one core would reach if that part were all there is. Two workers on two cores give at most twice
the last column: the envpool env alone bounds what the full path can reach.

    python bench/carracing_step_profile.py --out bench/results/carracing_step_profile.txt
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vector-envs", type=int, default=16, help="episodes played at once")
    parser.add_argument("--steps", type=int, default=300, help="batch steps timed per part")
    parser.add_argument("--out", type=Path, help="also write the figures to this file (bench/results/...)")
    args = parser.parse_args(argv)
    from bench.bench_output import Output

    out = Output(args.out)
    import numpy as np

    from bench.carracing_rollouts import build_run, driving_params
    from common.config import make_config
    from controller.agent import Agent
    from controller.shape import controller_shape
    from envs.vector import EpisodeBatch

    n, steps = args.vector_envs, args.steps
    cfg = make_config("carracing", "paper", {"env.max_steps": steps, "env.vector_envs": n})
    shape = controller_shape(cfg)
    params = np.tile(driving_params(shape.num_params), (n, 1))
    seeds = list(range(10_000_000, 10_000_000 + n))
    out.say(f"one process, TF threads 1, {n} episodes at once, {steps} batch steps per part")
    rows = []

    def report(name: str, seconds: float) -> None:
        ms = 1000 * seconds / steps
        rows.append((name, ms))
        out.say(f"{name:<34} {ms:7.2f} ms per batch step  {n * steps / seconds:8,.0f} agent-steps/s on one core")

    with tempfile.TemporaryDirectory() as tmp:
        build_run(Path(tmp), cfg)
        agent = Agent(tmp, cfg, threads=1, with_env=False)
        actions = np.tile(np.array([[0.0, 0.6, 0.0]], np.float32), (n, 1))

        start = time.perf_counter()
        batch = EpisodeBatch(cfg, seeds, "envpool")
        pool = batch._pool
        raw, _ = pool.reset()
        made = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(steps):
            raw, *_ = pool.step(actions)
        report("envpool step (96x96 frames)", time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(steps):
            frames = batch._crop(raw)
        report("crop + resize to 64x64 (PIL)", time.perf_counter() - start)
        batch.close()

        state = agent._start(params, seeds)
        agent._act(state, frames)  # trace the step
        start = time.perf_counter()
        for _ in range(steps):
            agent._act(state, frames)
        report("V + M + C (one tf.function call)", time.perf_counter() - start)

        agent.play(params[:2], seeds[:2], "envpool")  # warm-up of the whole loop
        start = time.perf_counter()
        _, lengths = agent.play(params, seeds, "envpool")
        wall = time.perf_counter() - start
        report("whole loop (Agent.play, envpool)", wall * steps / max(1, int(np.max(lengths))))
    out.say(f"making the pool and its first reset (tracks): {made:.2f} s per batch, "
            f"{1000 * made / steps:.2f} ms per batch step over {steps} steps")
    parts = sum(ms for _, ms in rows[:3]) + 1000 * made / steps
    out.say(f"sum of the parts {parts:.2f} ms per batch step, the whole loop {rows[3][1]:.2f} ms (each part timed "
            f"alone: the difference is timing noise plus the loop's masking and copies)")
    out.say(f"the env's share of the loop: {rows[0][1] / rows[3][1]:.0%}; two cores reach at most "
            f"{2 * n * 1000 / rows[3][1]:,.0f} agent-steps/s with this loop, "
            f"{2 * n * 1000 / rows[0][1]:,.0f} env-steps/s with the env alone")
    out.save()


if __name__ == "__main__":
    main()
