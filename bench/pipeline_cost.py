"""What the whole pipeline costs at a small preset: ``reports reproduce`` from an empty run folder, again on the
complete run (every stage current, nothing to do), and ``reports make`` alone in a fresh process.

    python bench/pipeline_cost.py                                  # doom, tiny
    python bench/pipeline_cost.py --preload both --out bench/results/pipeline_cost.txt
    python bench/pipeline_cost.py --make-only reports/results/carracing-sampled-z --out bench/results/make_small.txt

``--preload both`` runs the pipeline twice, with stages forked from the preloaded helper (reports/preloaded.py,
the default on Linux) and as fresh ``python -m`` processes (``WM_PRELOAD=0``), one after the other on the same
host: the helper's saving in one run. ``--make-only DIR`` times ``reports make`` alone on a copy of a finished
run folder (e.g. a published small run) instead. Every figure is wall time of whole commands; the per-stage
figures are what reproduce printed (``[reproduce] all N stages done in ...``).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(argv: list[str], env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"`{' '.join(argv)}` failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return seconds, result.stdout


def make_alone(run: Path, env: dict, out) -> None:
    """``reports make`` in a fresh process on ``run`` without its report."""
    shutil.rmtree(run / "report", ignore_errors=True)
    make, _ = timed([sys.executable, "-m", "reports", "make", "--run-dir", str(run)], env)
    out.say(f"  reports make alone (a fresh process, its TensorFlow import included): {make:.1f} s")


def one_pipeline(args, preload: bool, out) -> None:
    from common.config import make_config
    from common.run_layout import RunLayout

    env = {**os.environ, "WM_PRELOAD": "1" if preload else "0"}
    label = "stages forked from the preloaded helper" if preload else "stages as fresh python -m processes"
    with tempfile.TemporaryDirectory(prefix="pipeline-cost-") as tmp:
        run = Path(tmp) / "run"
        reproduce = [sys.executable, "-m", "reports", "reproduce", "--experiment", args.experiment, "--preset",
                     args.preset, "--run-dir", str(run)]
        first, stdout = timed(reproduce, env)
        stages = re.search(r"\[reproduce\] all (\d+) stages done in [0-9.]+ s: (.*)", stdout)
        out.say(f"{label}: reproduce from an empty run folder {first:.1f} s")
        if stages:
            out.say(f"  {stages.group(1)} stages: {stages.group(2)}")
        again, _ = timed(reproduce, env)
        out.say(f"  reproduce again on the complete run: {again:.1f} s")
        make_alone(RunLayout(run).round_dir(make_config(args.experiment, args.preset).iterate.rounds), env, out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", default="doom", choices=("doom", "carracing"))
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--preload", default="on", choices=("on", "off", "both"),
                        help="stages forked from the preloaded helper (on), fresh processes (off), or both")
    parser.add_argument("--make-only", type=Path, metavar="DIR",
                        help="only time reports make on a copy of this finished run folder")
    parser.add_argument("--out", type=Path, help="also write the output to this file")
    args = parser.parse_args(argv)
    from bench.bench_output import Output

    out = Output(args.out)
    if args.make_only:
        with tempfile.TemporaryDirectory(prefix="pipeline-cost-") as tmp:
            run = Path(tmp) / "run"
            shutil.copytree(args.make_only, run)
            out.say(f"a copy of {args.make_only}")
            make_alone(run, os.environ.copy(), out)
        out.save()
        return
    out.say(f"{args.experiment}, preset {args.preset}")
    for preload in {"on": [True], "off": [False], "both": [True, False]}[args.preload]:
        one_pipeline(args, preload, out)
    out.save()


if __name__ == "__main__":
    main()
