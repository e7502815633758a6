"""``python -m reports make|reproduce``: a run's report, or the whole pipeline then the report.

    python -m reports reproduce --experiment doom --preset tiny      # collect ... evaluate, then the report
    python -m reports make --experiment doom --run-dir runs/doom-tiny # the report of what the run holds now
    python -m reports publish --run-dir runs/doom-small --to reports/results/doom   # the committable part
    python -m reports iterate --from runs/doom-small --run-dir runs/doom-iter1 --episodes 600  # iterative training
"""
from __future__ import annotations

import argparse
import sys

from common import cli
from common.config import ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make", help="write <run>/report/: REPORT.md, figures, results.json")
    cli.add_config_args(make)
    reproduce = commands.add_parser(
        "reproduce", help="run every stage (skipping complete ones, resuming an interrupted one), then the report")
    cli.add_config_args(reproduce)
    iterate = commands.add_parser(
        "iterate", help="one round of iterative training (Doom): NEW = PREV's data, V and M, plus episodes played by "
                        "PREV's agent; then encode, M, C, evaluate, report (resumable)")
    cli.add_config_args(iterate)
    iterate.add_argument("--from", dest="previous", required=True, help="the finished run whose agent collects")
    iterate.add_argument("--episodes", dest="new_episodes", type=int, required=True,
                         help="episodes the agent collects (added to PREV's)")
    publish = commands.add_parser(
        "publish", help="copy a finished run's committable part (SavedModels, controller, report) to a folder")
    publish.add_argument("--run-dir", required=True, help="the finished run")
    publish.add_argument("--to", required=True, help="destination folder (replaced), e.g. reports/results/doom")
    return parser


def _overrides(args: argparse.Namespace) -> list[str]:
    """The ``--section.field VALUE`` flags given, to pass on to every stage."""
    out: list[str] = []
    for key, value in vars(args).items():
        if "." in key and value is not None:
            out += [f"--{key}", str(value)]
    return out


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "publish":
        from pathlib import Path

        from reports.publish import publish

        info = publish(Path(args.run_dir), Path(args.to))
        print(f"[reports] published {info['folder']} ({info['bytes'] / 2**20:.1f} MiB)", flush=True)
        return 0
    if args.command == "iterate":
        from pathlib import Path

        from reports.iterate import iterate

        if not args.run_dir:
            raise ConfigError("--run-dir is required: the new run's folder")
        return iterate(Path(args.previous), Path(args.run_dir), args.new_episodes, _overrides(args))
    cfg, run_dir = cli.resolve(args)
    cli.print_config(cfg, run_dir)
    if args.command == "make":
        if not run_dir.is_dir():
            raise ConfigError(f"no run at {run_dir}; run the pipeline first "
                              f"(python -m reports reproduce --experiment {cfg.experiment} --preset {cfg.preset})")
        from reports.make import make_report

        out_dir = make_report(cfg, run_dir)
        print(f"[reports] wrote {out_dir / 'REPORT.md'} and {out_dir / 'results.json'}", flush=True)
        return 0
    from reports.reproduce import reproduce

    return reproduce(cfg, run_dir, _overrides(args))


if __name__ == "__main__":
    cli.main(lambda: run(sys.argv[1:]))
