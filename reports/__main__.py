"""``python -m reports make|reproduce|publish|videos``: a run's report, the whole pipeline (with its rounds of
iterative training, iterate.rounds), the committable part of a finished run, or the agent's GIFs.

    python -m reports reproduce --experiment doom --preset tiny      # collect ... evaluate, then the report
    python -m reports make --experiment doom --run-dir runs/doom-tiny # the report of what the run holds now
    python -m reports publish --run-dir runs/doom-small --to reports/results/doom   # the committable part
    python -m reports videos --run-dir reports/results/doom          # the agent's GIFs into a committed report
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from common import cli
from common.config import ConfigError


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reports", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    cli.add_command(sub, "make", "write <run>/report/: REPORT.md, figures, the agent's GIFs, results.json", (),
                    argv=argv)
    cli.add_command(sub, "videos", "add the agent's GIFs to an existing report (e.g. a committed result folder): "
                                   "replays the report's episodes and links the GIFs from REPORT.md", (), argv=argv)
    cli.add_command(sub, "reproduce", "run every stage (skipping complete ones, resuming an interrupted one), the "
                                      "rounds of iterative training (iterate.rounds, in <run>/round{k}), then the "
                                      "report; --section.field flags pass on to every stage", None, argv=argv)
    p = sub.add_parser("publish", help="copy a finished run's committable part (SavedModels, controller, report) "
                                       "to a folder", description="copy a finished run's committable part "
                                                                  "(SavedModels, controller, report) to a folder")
    p.add_argument("--run-dir", required=True, help="the finished run")
    p.add_argument("--to", required=True, help="destination folder (replaced), e.g. reports/results/doom")
    return parser


def _overrides(args: argparse.Namespace) -> list[str]:
    """The ``--section.field VALUE`` flags given, to pass on to every stage."""
    out: list[str] = []
    for key, value in vars(args).items():
        if "." in key and value is not None:
            out += [f"--{key}", str(value)]
    return out


def run(args: argparse.Namespace) -> int:
    if args.command == "publish":
        from reports.publish import publish

        info = publish(Path(args.run_dir), Path(args.to))
        print(f"[reports] published {info['folder']} ({info['bytes'] / 2**20:.1f} MiB)", flush=True)
        return 0
    cfg, run_dir = cli.resolve(args)
    cli.print_config(cfg, run_dir)
    if args.command == "make":
        if not run_dir.is_dir():
            raise ConfigError(f"no run at {run_dir}; run the pipeline first "
                              f"(python -m reports reproduce --experiment {cfg.experiment} --preset {cfg.preset})")
        from reports.make import make_report

        from common.run_layout import RunLayout

        make_report(cfg, run_dir)
        layout = RunLayout(run_dir)
        print(f"[reports] wrote {layout.report_md} and {layout.results_json}", flush=True)
        return 0
    if args.command == "videos":
        from reports.make import add_videos

        for mode, episode in add_videos(cfg, run_dir).items():
            print(f"[reports] {mode}: {episode['video_length']} frames, GIF {episode['video']}", flush=True)
        return 0
    from reports.reproduce import reproduce

    return reproduce(cfg, run_dir, _overrides(args))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    cli.main(lambda: run(args))


if __name__ == "__main__":
    main()
