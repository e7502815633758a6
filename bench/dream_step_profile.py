"""Where one step of the batched dream goes: M's LSTM, its MDN head, the split into mixtures, the sampling of z, C.

Paper-size Doom M (Nz 64, Nh 512, K 5, death head), random weights, every row alive. Each variant is an XLA-compiled
``tf.while_loop`` of ``--steps`` steps at ``--batch`` rows that does the parts up to and including its own, so the
difference between consecutive lines is what that part costs inside the compiled loop (the batched dream of
:mod:`controller.dream` runs the last line's work, plus its compaction):

    flock /tmp/wm-heavy.lock python bench/dream_step_profile.py --out bench/results/dream_step_profile.txt

The host's fp32 matmul rate at the same batch is printed beside it, as in bench/dream_throughput.py.
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
    parser.add_argument("--batch", type=int, default=1024, help="rows stepped together (64 x 16 = 1024)")
    parser.add_argument("--steps", type=int, default=200, help="steps per timed call")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per variant (the best one counts)")
    parser.add_argument("--temperature", type=float, default=1.15)
    parser.add_argument("--alg", default="threefry", help="random generator of the z sampling (the batched dream's "
                                                           "XLA path: threefry; the TF default: auto_select)")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args(argv)
    from bench.bench_output import Output
    from bench.host_matmul import matmul_gflops

    out = Output(args.out)

    import numpy as np
    import tensorflow as tf

    from controller.model import ControllerShape, act, observation
    from rnn.model import MDNRNN, death_from_logit, sample_mdn

    rnn = MDNRNN(64, 1, 512, 5, predict_death=True, seed=0)
    shape = ControllerShape("zch", 64, 512, 1, use_bias=False)
    params = tf.constant(np.random.default_rng(0).normal(0, 0.1, (args.batch, shape.num_params)), tf.float32)
    tau = tf.constant(args.temperature, tf.float32)
    key = tf.constant([0, 1], tf.int32)
    parts = ("lstm", "head matmul", "mixture split", "z sampling", "death", "C")

    def make(depth: int):
        """A compiled loop doing the first ``depth`` parts each step (z fed back from the sample once sampled)."""
        def body(t, z, h, c, total):
            action = tf.zeros([args.batch, 1])
            if depth >= 6:
                action = tf.cast(act(params, observation(z, c, h, shape), shape), tf.float32)
            h, c = rnn.lstm_step(z, action, tf.zeros([args.batch]), h, c)
            if depth >= 2:
                head = rnn.head_matmul(h)
                total += tf.reduce_sum(head[:, :1])  # keeps the matmul alive without using its output
            if depth >= 3:
                mdn = rnn.mdn_split(head)
                total += tf.reduce_sum(mdn.logmix[:, :1, 0])
            if depth >= 4:
                z = sample_mdn(mdn, tau, tf.random.experimental.stateless_fold_in(key, t), args.alg)
            if depth >= 5:
                total += tf.reduce_sum(tf.cast(death_from_logit(mdn.death_logit), tf.float32))
            return t + 1, z, h, c, total

        def run(z, h, c):
            return tf.while_loop(lambda t, *_: t < args.steps, body, (tf.constant(0), z, h, c, tf.constant(0.0)))

        return tf.function(run, jit_compile=True, autograph=False)

    z0 = tf.random.normal([args.batch, 64])
    h0 = tf.zeros([args.batch, 512])
    flops_lstm = 2 * (rnn.input_size + 512) * 4 * 512
    flops_head = 2 * 512 * rnn.output_size
    out.say(f"M: Nz 64 Nh 512 K 5 + death; {args.batch} rows; {args.steps} steps per call; tau {args.temperature}; "
            f"XLA; sampling alg {args.alg}; {flops_lstm / 1e6:.2f} + {flops_head / 1e6:.2f} MFLOP per row-step (LSTM + head)")
    loops = [make(depth) for depth in range(1, len(parts) + 1)]
    for loop in loops:
        loop(z0, h0, h0)[1].numpy()  # compile
    # Round-robin over the variants, the best call of each: the host's speed drifts between calls.
    best = [float("inf")] * len(loops)
    for _ in range(args.repeats):
        for i, loop in enumerate(loops):
            start = time.perf_counter()
            loop(z0, h0, h0)[1].numpy()
            best[i] = min(best[i], time.perf_counter() - start)
    previous = 0.0
    for name, seconds in zip(parts, best):
        ms = 1e3 * seconds / args.steps
        out.say(f"up to {name:>13}: {ms:6.2f} ms/step ({ms - previous:+.2f} ms for this part)")
        previous = ms
    gflops = args.batch * (flops_lstm + flops_head) / (best[-1] / args.steps) / 1e9
    out.say(f"the whole step: {gflops:.1f} GFLOP/s of M's matmuls")

    inner, cols = rnn.input_size + 512, 4 * 512
    out.say(f"the host's fp32 matmul [{args.batch}, {inner}] x [{inner}, {cols}]: "
            f"{matmul_gflops(args.batch, inner, cols):.1f} GFLOP/s")
    out.save()


if __name__ == "__main__":
    main()
