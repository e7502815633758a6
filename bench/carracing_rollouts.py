"""Real-game CarRacing agent throughput: agent-steps/s (V + M + C + env) of the plain path and the fast path.

Paper-size CarRacing V (Nz 32) and M (Nh 256) with fresh weights, played by the process pool of CMA-ES training
(``--workers`` processes, one core each, after a warm-up call that starts them and traces the step), with
``--controller``:

- ``driving``: a gas bias and nothing else, the same for every episode: the car drives off the track and its
  episode ends when it leaves the playfield, at a different step on each track (a batch keeps stepping its
  finished rows until its last one ends);
- ``initial``: CMA-ES's first generation, one θ ~ N(0, es.sigma_init²) per episode, as training plays them:
  the cars stay on the playfield and every episode runs to the step cap (``controller/history.csv`` of
  reports/results/carracing-sampled-z: mean episode length 1000 in every generation).

The paths:

- plain: gymnasium CarRacing-v3, one episode per worker at a time (env.vector_envs 1), V, M and C at batch 1;
- batched gymnasium: gymnasium envs, env.vector_envs episodes per worker, V, M and C once per step for all;
- fast: envpool's C++ CarRacing-v3, env.vector_envs episodes per worker, batched V, M and C.

Every episode is capped at ``--steps`` steps (the figure is steps per second, so shorter episodes only shorten
the bench); agent-steps = the sum of the episode lengths.

    python bench/carracing_rollouts.py --out bench/results/carracing_rollouts.txt
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


def build_run(run_dir: Path, cfg) -> None:
    """Fresh V and M of the config's sizes saved where the agent reads them."""
    import numpy as np

    from common.run_layout import RunLayout
    from rnn.model import MDNRNN
    from vae.model import ConvVAE

    layout = RunLayout(run_dir)
    layout.vae_dir.mkdir(parents=True)
    layout.rnn_dir.mkdir(parents=True)
    vae = ConvVAE(cfg.vae.z_size, cfg.vae.kl_tolerance, 0)
    vae.encode(np.zeros((1, 64, 64, 3), np.float32))
    vae.save(layout.vae_dir / "model.keras")
    MDNRNN(cfg.vae.z_size, cfg.env.action_size, cfg.rnn.hidden_size, cfg.rnn.num_mixtures, seed=0).save(
        layout.rnn_dir / "model.keras")


def driving_params(num_params: int):
    """The driving controller: biases only (straight, gas 0.6, no brake), so the car drives along the track."""
    import numpy as np

    params = np.zeros(num_params, np.float32)
    params[:3] = [0.0, 0.2, -1.0]
    return params


def time_path(cfg, run_dir: Path, params, episodes: int, workers: int) -> tuple[float, int, float]:
    """(agent-steps/s, agent-steps, seconds) of ``episodes`` episodes through the pool, after a warm-up;
    ``params``: one controller for all [N], or one per episode [episodes, N]."""
    import numpy as np

    from controller.backends import PoolBackend, real_factory

    backend = PoolBackend(cfg, real_factory(cfg, run_dir), workers)
    try:
        warm = params if params.ndim == 1 else params[0]
        backend.evaluate(warm, list(range(10_000_000, 10_000_000 + workers)))  # start workers, trace the step
        seeds = list(range(10_000_100, 10_000_100 + episodes))
        start = time.perf_counter()
        if params.ndim == 1:
            _, lengths = backend.evaluate(params, seeds)
        else:
            _, lengths = backend.episodes(params[:episodes], seeds)  # one row per episode, as CMA-ES's tasks
        wall = time.perf_counter() - start
    finally:
        backend.close()
    steps = int(np.sum(lengths))
    return steps / wall, steps, wall


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (one core each)")
    parser.add_argument("--vector-envs", type=int, default=16, help="episodes per worker at once (batched paths)")
    parser.add_argument("--steps", type=int, default=300, help="cap of every episode")
    parser.add_argument("--plain-episodes", type=int, default=4, help="episodes of the plain path")
    parser.add_argument("--batched-episodes", type=int, default=32, help="episodes of each batched path")
    parser.add_argument("--skip-gymnasium-batched", action="store_true")
    parser.add_argument("--controller", choices=("driving", "initial"), default="driving",
                        help="what plays (see above)")
    parser.add_argument("--out", type=Path, help="also write the figures to this file (bench/results/...)")
    args = parser.parse_args(argv)
    from bench.bench_output import Output

    out = Output(args.out)
    import numpy as np

    from common.config import make_config
    from controller.shape import controller_shape

    base = {"env.max_steps": args.steps, "es.workers": args.workers}
    cfg = make_config("carracing", "paper", base)
    shape = controller_shape(cfg)
    if args.controller == "driving":
        params = driving_params(shape.num_params)
    else:
        count = max(args.plain_episodes, args.batched_episodes)
        params = (cfg.es.sigma_init * np.random.default_rng(0).standard_normal((count, shape.num_params))
                  ).astype(np.float32)
    paths = [("plain (gymnasium, batch 1)", "gymnasium", 1, args.plain_episodes)]
    if not args.skip_gymnasium_batched:
        paths.append((f"batched gymnasium ({args.vector_envs} envs per worker)", "gymnasium", args.vector_envs,
                      args.batched_episodes))
    paths.append((f"fast (envpool, {args.vector_envs} envs per worker)", "envpool", args.vector_envs,
                  args.batched_episodes))
    out.say(f"CarRacing agent: V Nz {cfg.vae.z_size}, M Nh {cfg.rnn.hidden_size}, C {shape.num_params} params "
            f"({args.controller}); {args.workers} worker(s); episodes capped at {args.steps} steps")
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        build_run(Path(tmp), cfg)
        for name, backend, vector, episodes in paths:
            path_cfg = make_config("carracing", "paper", {**base, "env.backend": backend, "env.vector_envs": vector})
            rate, steps, wall = time_path(path_cfg, Path(tmp), params, episodes, args.workers)
            rates[backend, vector] = rate
            out.say(f"{name}: {rate:,.0f} agent-steps/s ({steps:,} steps in {wall:.1f} s)")
    plain = rates["gymnasium", 1]
    out.say(f"fast / plain: {rates['envpool', args.vector_envs] / plain:.1f}x")
    out.save()


if __name__ == "__main__":
    main()
