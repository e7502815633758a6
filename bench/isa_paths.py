"""V's and M's training rates under the TensorFlow settings that other x86 hosts get, emulated on this host.

    flock /tmp/wm-heavy.lock python bench/isa_paths.py [--out bench/results/isa_paths.txt]

TensorFlow turns oneDNN on by default only on Linux CPUs with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX
(``DefaultOneDnnPolicy`` in tensorflow/core/util/util.cc); an AVX2-only host (an AMD EPYC of Zen 2 or 3, an Intel
CPU before Cascade Lake) runs Eigen's kernels instead. Each row runs ``bench/vae_throughput.py`` (graph and XLA
train step) and ``bench/rnn_throughput.py`` (each M step form) in a child process under one setting:

    this host, oneDNN on    the host's own instruction set, oneDNN on (TensorFlow's default on AVX-512 VNNI hosts)
    AVX2, oneDNN off        what an AVX2-only host gets by TensorFlow's default: Eigen's kernels; oneDNN's and
                            XLA's code capped at AVX2
    AVX2, oneDNN on         the same cap with oneDNN on (``common.onednn``: what the project sets on every host)

The AVX2 rows cap the code this CPU runs (``ONEDNN_MAX_CPU_ISA=AVX2``, ``XLA_FLAGS=--xla_cpu_max_isa=AVX2``;
Eigen's kernels in the TensorFlow wheel are built for AVX2 at most), not the chip: cache sizes and clocks stay this
host's. PyTorch's twin (``bench/torch_twin.py``, when torch is installed) runs under the same caps
(``ATEN_CPU_CAPABILITY``), so each row compares the two frameworks on the same code paths. Every child uses a
fresh speed-probe cache. Each figure is the median of ``--repeats`` rounds (min-max beside it).
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_output import Output  # noqa: E402

AVX2_CAP = {"ONEDNN_MAX_CPU_ISA": "AVX2", "XLA_FLAGS": "--xla_cpu_max_isa=AVX2", "ATEN_CPU_CAPABILITY": "avx2"}
SETTINGS = {
    "this host, oneDNN on": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "AVX2, oneDNN off": {**AVX2_CAP, "TF_ENABLE_ONEDNN_OPTS": "0"},
    "AVX2, oneDNN on": {**AVX2_CAP, "TF_ENABLE_ONEDNN_OPTS": "1"},
}


def run(script: str, args: list[str], env: dict[str, str]) -> str:
    with tempfile.TemporaryDirectory() as cache:
        child_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "WM_CACHE_DIR": cache, **env}
        done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], env=child_env, cwd=ROOT,
                              capture_output=True, text=True)
    if done.returncode:  # no figure: the row says n/a, the reason goes to stderr
        print(f"{script} {' '.join(args)} failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
    return done.stdout


def rates(text: str, pattern: str) -> list[float]:
    return [float(x) for x in re.findall(pattern, text)]


def summary(values: list[float]) -> str:
    """Median (min-max) over the repeats: this host's figures drift between runs."""
    if not values:
        return "n/a (the run failed)"
    return f"{statistics.median(values):.1f}" + (f" ({min(values):.1f}-{max(values):.1f})" if len(values) > 1 else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="*", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--train-steps", type=int, default=8, help="timed V train steps per form")
    parser.add_argument("--rnn-steps", type=int, default=2, help="timed M train steps per form")
    parser.add_argument("--repeats", type=int, default=2, help="rounds of every measurement, TF and PyTorch in turn")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch's twin")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args()
    out = Output(args.out)
    try:
        import torch  # noqa: F401
        with_torch = not args.no_torch
    except ImportError:
        with_torch = False
        out.say("torch is not installed: no PyTorch column (pip install torch==2.13.0)")
    out.say("V: frames/s, Nz 64, batch 100; M: sequences/s, Doom M, batch 100 x 499 steps; "
            f"median (min-max) of {args.repeats} rounds")
    for name in args.settings:
        env = SETTINGS[name]
        out.say(f"{name}: {' '.join(f'{k}={v}' for k, v in env.items())}")
        figures: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            for jit, form in (("0", "graph"), ("1", "XLA")):
                text = run("vae_throughput.py", ["--train-jit", jit, "--train-steps", str(args.train_steps),
                                                 "--encode-steps", "3"], env)
                figures.setdefault(f"V train, {form}", []).extend(rates(text, r"train  frames/s:\s*([\d.]+)"))
            text = run("rnn_throughput.py", ["--form", "all", "--steps", str(args.rnn_steps)], env)
            for form, rate in zip(re.findall(r"form=(\w+)", text), rates(text, r"([\d.]+) sequences/s")):
                figures.setdefault(f"M train, {form}", []).append(rate)
            if with_torch:
                text = run("torch_twin.py", ["--vae-steps", str(args.train_steps), "--rnn-steps",
                                             str(args.rnn_steps)], env)
                figures.setdefault("PyTorch twin V", []).extend(rates(text, r"torch V train frames/s[^:]*:\s*([\d.]+)"))
                figures.setdefault("PyTorch twin M", []).extend(
                    rates(text, r"torch M train sequences/s[^:]*:\s*([\d.]+)"))
        for label, values in figures.items():
            out.say(f"  {label}: {summary(values)}")
    out.save()


if __name__ == "__main__":
    main()
