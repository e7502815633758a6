"""``python -m envs collect --experiment E --preset P --run-dir D [--section.field VALUE ...] [--full-check]``."""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # the random CarRacing agent's small matmuls are fastest single-threaded
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import argparse  # noqa: E402

from common import cli  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m envs", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("collect", help="random-policy rollouts into <run-dir>/rollouts (resumable)")
    cli.add_config_args(p, aliases={"--episodes": "collect.episodes", "--workers": "collect.workers"})
    p.add_argument("--full-check", action="store_true",
                   help="load every existing file completely when resuming (default: zip and array headers)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)

    def run() -> int:
        from envs.collect import check_policy, collect

        cfg, run_dir = cli.resolve(args)  # raises ConfigError before anything is written
        check_policy(cfg, run_dir)
        cli.save_run_config(cfg, run_dir)
        cli.print_config(cfg, run_dir)

        return collect(cfg, run_dir, full=args.full_check)

    cli.main(run)


if __name__ == "__main__":
    main()
