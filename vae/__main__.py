"""`python -m vae train|encode|summary --experiment E [--preset P] [--run-dir D] [--vae.FIELD VALUE ...]`."""
from __future__ import annotations

import argparse
import sys

from common import cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m vae", description="V: the ConvVAE of World Models.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("train", "train V on <run>/rollouts (resumable)"),
                       ("encode", "encode every rollout to <run>/series (resumable)"),
                       ("summary", "print V's layer table; the last line is the total parameter count")):
        cli.add_config_args(sub.add_parser(name, help=text, description=text))
    return parser


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    cfg, run_dir = cli.resolve(args)
    if args.command == "summary":
        from vae.model import ConvVAE

        model = ConvVAE(cfg.vae.z_size, cfg.vae.kl_tolerance)
        model.encoder.summary()
        model.decoder.summary()
        print(f"Total params: {model.count_params():,}")
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


if __name__ == "__main__":
    cli.main(run)
