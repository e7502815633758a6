"""How much of a linear C's action comes from V's sampling noise (the z that the authors' agent samples).

    python bench/z_noise.py RUN [--tag T] [--episodes 2] [--out FILE]

Plays the controller of RUN (``controller/`` or ``controller-T/``, its best.json) for a few episodes in the real
game on the first validation seeds (common/seeds.py; never test seeds), keeps every frame V encodes, and prints:
- per latent dimension j: the median over frames of the posterior std sigma_j = exp(logvar_j / 2) and the std of
  mu_j across frames (a dimension that V does not use has sigma near 1 and mu near 0 on every frame);
- per action k: the std that sampling adds to C's pre-tanh output, sqrt(sum_j W_jk^2 sigma_j^2) (median over
  frames), against the std across frames of the part that mu gives, sum_j W_jk mu_j.
Where the first is larger, C acts mostly on noise that its weights on unused dimensions let through.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def noise_table(mu, logvar, w_z) -> dict:
    """mu, logvar [frames, Nz], w_z [Nz, actions] (C's weights on z) -> the statistics of the module doc."""
    import numpy as np

    sigma = np.exp(np.asarray(logvar, np.float64) / 2.0)
    w_z = np.asarray(w_z, np.float64)
    noise = np.sqrt((sigma ** 2) @ (w_z ** 2))  # [frames, actions]: std of sum_j W_jk eps_j sigma_j
    signal = np.asarray(mu, np.float64) @ w_z
    return {"sigma_median": np.median(sigma, axis=0), "mu_std": np.asarray(mu, np.float64).std(axis=0),
            "noise_std": np.median(noise, axis=0), "signal_std": signal.std(axis=0)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a run folder holding V, M and a trained controller")
    parser.add_argument("--tag", help="the controller folder controller-TAG (default controller/)")
    parser.add_argument("--episodes", type=int, default=2, help="episodes to play (default 2)")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args(argv)
    from common.cli import read_run_config
    from common.config import ConfigError
    from common.run_layout import RunLayout
    from common.seeds import validation_seeds

    try:
        if args.episodes < 1:
            raise ConfigError(f"--episodes must be at least 1, got {args.episodes}")
        cfg = read_run_config(args.run)
        if cfg is None:
            raise ConfigError(f"{args.run}: no run there (no config.json)")
        if cfg.controller.inputs == "z_hidden":
            raise ConfigError("the z_hidden controller is not linear in z; this bench reads a linear C's weights")
        import numpy as np
        import tensorflow as tf

        from controller.agent import Agent
        from controller.evaluate import as_trained, read_params
        from controller.model import controller_shape, unpack

        folder = RunLayout(args.run).controller(args.tag)
        cfg = as_trained(cfg, folder.dir, False)  # the C plays with the z it was trained with, as evaluate does
        shape = controller_shape(cfg)
        best = folder.best
        params, _ = read_params(best, shape.num_params)
        agent = Agent(args.run, cfg, threads=None)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from bench.bench_output import Output

    frames = []
    try:
        for seed in validation_seeds(args.episodes):
            agent.episode(params, seed, on_step=lambda frame, z: frames.append(frame))
    finally:
        agent.env.close()
    mu, logvar = (t.numpy() for t in agent.vae.encode(tf.constant(np.stack(frames), tf.float32) / 255.0))
    w_z = np.asarray(unpack(np.asarray(params, np.float32), shape)[0].w)[:shape.z_size]
    table = noise_table(mu, logvar, w_z)
    out = Output(args.out)
    out.say(f"{best}: {args.episodes} episode(s) in the real game ({cfg.env.env_id}, z as controller.z "
            f"{cfg.controller.z}), {len(frames)} frames")
    out.say("posterior std exp(logvar/2) per dimension, median over frames: "
            + " ".join(f"{v:.2f}" for v in table["sigma_median"]))
    out.say("std of mu across frames per dimension:                       "
            + " ".join(f"{v:.2f}" for v in table["mu_std"]))
    out.say(f"dimensions with median posterior std above 0.8 (near the prior): "
            f"{int((table['sigma_median'] > 0.8).sum())} of {shape.z_size}")
    for k in range(shape.action_size):
        out.say(f"action {k}: pre-tanh std from sampling z {table['noise_std'][k]:.2f}, "
                f"from mu across frames {table['signal_std'][k]:.2f}")
    out.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
