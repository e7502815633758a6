"""Dream-rollout throughput: one generation (64 x 16) of batched DoomRNN rollouts vs one rollout at a time.

Paper-size Doom M (Nz 64, Nh 512, K 5, death head) with random weights and a random controller. A random M's
death logit hovers near its bias (std ~0.07 over time), so the death bias is set to ``--death-bias`` (default
-0.2: mean length ~700 with a spread from tens of steps to 2100, like the authors' later generations, whose
mean lengths are 300-930); ``--fixed-length N`` ignores death (bias -1e9) and truncates every rollout at N
steps, for timing at a known amount of work.

    flock /tmp/wm-heavy.lock python bench/dream_throughput.py            # batched, compacted (default)
    flock /tmp/wm-heavy.lock python bench/dream_throughput.py --no-compact --single 0
    flock /tmp/wm-heavy.lock python bench/dream_throughput.py --fixed-length 200
    flock /tmp/wm-heavy.lock python bench/dream_throughput.py --bucket-ratios 0.5,0.75 --single 0   # A/B in turn

Prints rollout-steps/s (steps of live rollouts, i.e. the sum of episode lengths, per second) and seconds per
generation for the batched path (:class:`controller.dream.BatchedDream`, after one warm-up call that compiles),
each generation beside the host's fp32 matmul rate timed just before and after it, and for ``--single`` episodes
run one at a time through :class:`envs.dream.DoomDreamEnv` (extrapolated to a generation, labelled so). The
README's "Throughput" section lists the committed outputs (bench/results/dream_*.txt).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--population", type=int, default=64)
    parser.add_argument("--rollouts", type=int, default=16, help="rollouts per candidate")
    parser.add_argument("--max-steps", type=int, default=2100)
    parser.add_argument("--z-size", type=int, default=64)
    parser.add_argument("--hidden-size", type=int, default=512)
    parser.add_argument("--temperature", type=float, default=1.15)
    parser.add_argument("--death-bias", type=float, default=-0.2, help="M's death-logit bias (sets lengths)")
    parser.add_argument("--fixed-length", type=int, default=0, help="ignore death; every rollout runs N steps")
    parser.add_argument("--segment-steps", type=int, default=16, help="steps between compactions")
    parser.add_argument("--min-bucket", type=int, default=16)
    parser.add_argument("--bucket-ratios", default="0.75",
                        help="comma-separated bucket ratios of the compaction, timed in turn (e.g. 0.5,0.75)")
    parser.add_argument("--no-compact", action="store_true", help="run all rows until the last rollout ends")
    parser.add_argument("--no-jit", action="store_true", help="plain tf.function graph instead of XLA")
    parser.add_argument("--repeats", type=int, default=3, help="timed generations (of each ratio) after the warm-up")
    parser.add_argument("--single", type=int, default=2, help="episodes to time one at a time (0: skip)")
    parser.add_argument("--single-max-steps", type=int, default=300, help="cap of each one-at-a-time episode")
    parser.add_argument("--threads", type=int, default=0, help="TF intra-op threads (0: TF default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args(argv)
    from bench.bench_output import Output
    from bench.host_matmul import matmul_gflops

    out = Output(args.out)  # prints the command and the host: speed figures differ between hosts

    import numpy as np
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    from controller.dream import BatchedDream
    from controller.model import ControllerShape, act
    from envs.dream import DoomDreamEnv
    from rnn.model import MDNRNN

    rng = np.random.default_rng(args.seed)
    rnn = MDNRNN(args.z_size, 1, args.hidden_size, 5, predict_death=True, seed=args.seed)
    bias = rnn.output_b.numpy()
    bias[0] = -1e9 if args.fixed_length else args.death_bias  # the death logit is output 0
    rnn.output_b.assign(bias)
    max_steps = args.fixed_length or args.max_steps
    mu = rng.normal(0, 1, (1000, args.z_size)).astype(np.float32)
    logvar = rng.normal(-3, 1, (1000, args.z_size)).astype(np.float32)
    shape = ControllerShape("zch", args.z_size, args.hidden_size, 1, use_bias=False)
    params = rng.normal(0, 0.1, (args.population, shape.num_params)).astype(np.float32)
    batch = args.population * args.rollouts
    out.say(f"M: Nz {args.z_size} Nh {args.hidden_size}; generation {args.population} x {args.rollouts} = {batch} "
          f"rollouts; max_steps {max_steps}; tau {args.temperature}; compact {not args.no_compact}; "
          f"xla {not args.no_jit}; segment_steps {args.segment_steps}; min_bucket {args.min_bucket}; threads "
          f"{tf.config.threading.get_intra_op_parallelism_threads() or 'default'}")

    # The work of a rollout-step is M's two matmuls (the LSTM's [in + Nh, 4 Nh], the head's [Nh, out]); the
    # host's fp32 matmul rate at the generation's batch says how close to the machine the dream runs. This host's
    # speed drifts from minute to minute, so each generation is bracketed by the matmul timed just before and
    # just after it, and compared with their mean.
    flops = 2 * (rnn.input_size + args.hidden_size) * 4 * args.hidden_size + 2 * args.hidden_size * rnn.output_size
    inner, cols = rnn.input_size + args.hidden_size, 4 * args.hidden_size
    ratios = [float(r) for r in args.bucket_ratios.split(",")]
    dreams = {}
    for ratio in ratios:
        dreams[ratio] = BatchedDream(rnn, mu, logvar, shape, args.temperature, max_steps,
                                     segment_steps=args.segment_steps, compact=not args.no_compact,
                                     min_bucket=args.min_bucket, bucket_ratio=ratio, jit_compile=not args.no_jit)
        start = time.perf_counter()
        dreams[ratio].rollout(params, args.rollouts, seed=args.seed)
        out.say(f"bucket ratio {ratio}: warm-up (trace + compile + one generation): {time.perf_counter() - start:.1f} s")
    rates = {ratio: [] for ratio in ratios}
    shares = {ratio: [] for ratio in ratios}
    for rep in range(args.repeats):
        for ratio, dream in dreams.items():  # in turn, on the same seed
            before = matmul_gflops(batch, inner, cols)
            start = time.perf_counter()
            result = dream.rollout(params, args.rollouts, seed=args.seed + 1 + rep)
            seconds = time.perf_counter() - start
            reference = (before + matmul_gflops(batch, inner, cols)) / 2
            steps = int(result.lengths.sum())
            rates[ratio].append(steps / seconds)
            shares[ratio].append(steps / seconds * flops / 1e9 / reference)
            out.say(f"bucket ratio {ratio}: {seconds:.2f} s/generation, {steps / seconds:,.0f} rollout-steps/s (mean "
                    f"length {result.lengths.mean():.0f}, min {result.lengths.min()}, max {result.lengths.max()}); "
                    f"{steps / seconds * flops / 1e9:.1f} GFLOP/s against the matmul's {reference:.1f} around it: "
                    f"{100 * shares[ratio][-1]:.0f}%")
    out.say(f"dream: {flops / 1e6:.2f} MFLOP per rollout-step; the host's fp32 matmul [{batch}, {inner}] x "
            f"[{inner}, {cols}] timed before and after each generation")
    for ratio in ratios:
        out.say(f"bucket ratio {ratio}: median {np.median(rates[ratio]):,.0f} rollout-steps/s, median "
                f"{100 * np.median(shares[ratio]):.0f}% of the matmul around its generation "
                f"(per generation: {', '.join(f'{100 * x:.0f}%' for x in shares[ratio])})")
    for ratio in ratios[1:]:
        paired = [b / a for a, b in zip(rates[ratios[0]], rates[ratio])]
        out.say(f"bucket ratio {ratio} against {ratios[0]}, generation by generation: "
                f"{', '.join(f'{x:.2f}x' for x in paired)}")
    # The dream's loop is XLA-compiled, so its matmuls are XLA's kernels, not TensorFlow's (oneDNN) op.
    out.say(f"the same matmul compiled by XLA: {matmul_gflops(batch, inner, cols, jit_compile=True):.1f} GFLOP/s")

    if args.single:
        env = DoomDreamEnv.from_models(rnn, mu, logvar, temperature=args.temperature)
        policy = tf.function(lambda p, x: act(p, x, shape))
        total_steps, start = 0, None
        for episode in range(args.single + 1):  # episode 0 warms up (compiles the step)
            if episode == 1:
                total_steps, start = 0, time.perf_counter()
            obs, _ = env.reset(seed=args.seed + episode)
            for _ in range(min(max_steps, args.single_max_steps)):
                action = policy(params[episode % args.population], obs[None]).numpy()[0]
                obs, _, terminated, _, _ = env.step(action)
                total_steps += 1
                if terminated:
                    break
        seconds = time.perf_counter() - start
        rate = total_steps / seconds
        mean_length = float(result.lengths.mean())
        out.say(f"one at a time (DoomDreamEnv, {args.single} episodes, {total_steps} steps timed): {rate:,.0f} "
              f"rollout-steps/s; EXTRAPOLATED to this generation ({batch} rollouts x mean length "
              f"{mean_length:.0f}): {batch * mean_length / rate:,.0f} s/generation")
    out.save()


if __name__ == "__main__":
    main()
