"""``python -m vae train|encode|summary``: V, the ConvVAE of World Models (common flags: --experiment --preset
--run-dir, one --section.field per setting)."""
from __future__ import annotations

import argparse
import sys

from common import cli


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vae", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    cli.add_command(sub, "train", "train V on <run>/rollouts (resumable)", ("vae.*",), argv=argv)
    p = cli.add_command(sub, "encode", "encode every rollout to <run>/series and write series/initial_z.npz "
                                       "(resumable)", ("vae.z_size",), argv=argv)
    p.add_argument("--initial-z-only", action="store_true",
                   help="only rebuild <run>/series/initial_z.npz from V and real-env resets (no rollouts)")
    cli.add_command(sub, "summary", "print V's layer table; the last line is the total parameter count",
                    ("vae.z_size",), argv=argv)
    return parser


def run(args: argparse.Namespace) -> int:
    cfg, run_dir = cli.resolve(args)
    if args.command == "summary":
        from vae.model import ConvVAE

        model = ConvVAE(cfg.vae.z_size, cfg.vae.kl_tolerance)
        model.encoder.summary()
        model.decoder.summary()
        print(f"Total params: {model.count_params():,}")
        return 0
    if getattr(args, "initial_z_only", False):  # a finished run (V present): its config stays as it is
        from vae.encode import rebuild_initial_z

        cli.print_config(cfg, run_dir)
        print(f"[vae encode] wrote {rebuild_initial_z(cfg, run_dir)}", flush=True)
        return 0
    cli.save_run_config(cfg, run_dir)
    cli.print_config(cfg, run_dir)
    if args.command == "train":
        from vae.train import TrainingDiverged, train

        try:
            train(cfg, run_dir)
        except TrainingDiverged as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
    else:
        from vae.encode import encode

        encode(cfg, run_dir)
    return 0


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    cli.main(lambda: run(args))


if __name__ == "__main__":
    main()
