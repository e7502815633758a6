"""``python -m envs collect``: rollouts of the authors' random policy (or of a trained agent exploring, Doom) into
<run>/rollouts, resumable (common flags: --experiment --preset --run-dir, one --section.field per setting)."""
from __future__ import annotations

import os

from common.threads import single_threaded_workers

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # headless: before pygame is imported
# Before NumPy's BLAS loads: the random CarRacing agent's small matmuls are fastest single-threaded, and the
# collection workers (which inherit this) already fill the cores. A value the user set is kept.
single_threaded_workers(force=False)

import argparse  # noqa: E402
import sys  # noqa: E402

from common import cli  # noqa: E402


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m envs", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = cli.add_command(sub, "collect", "collect episodes into <run>/rollouts until collect.episodes are there "
                                        "(resumable; corrupt files are collected again)",
                        ("collect.*", "env.max_steps", "env.doom_skill"),
                        aliases={"--episodes": "collect.episodes", "--workers": "collect.workers"}, argv=argv)
    p.add_argument("--full-check", action="store_true",
                   help="load every existing file completely when resuming (default: zip and array headers)")
    return parser


def run(args: argparse.Namespace) -> int:
    from envs.collect import collect, policy_factory

    cfg, run_dir = cli.resolve(args)  # raises ConfigError before anything is written
    factory = policy_factory(cfg, run_dir)  # so does a policy that cannot play
    cli.save_run_config(cfg, run_dir)
    cli.print_config(cfg, run_dir)
    return collect(cfg, run_dir, full=args.full_check, factory=factory)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    cli.main(lambda: run(args))


if __name__ == "__main__":
    main()
