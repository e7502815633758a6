"""``python -m rnn {train,summary,export,figures,diagnose}`` (common flags: --experiment --preset --run-dir, --rnn.*)."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from common import cli
from common.config import ConfigError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rnn", description="M, the MDN-RNN")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train", help="train M on <run>/series (resumes from <run>/rnn/backup)")
    cli.add_config_args(p)
    p.add_argument("--checkpoint-steps", type=int, default=200, help="steps between backups (default 200)")
    p.add_argument("--checkpoint-seconds", type=float, default=300.0,
                   help="also back up when this many seconds passed since the last backup (default 300)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p = sub.add_parser("summary", help="print M's layers and parameter counts (total on the last line)")
    cli.add_config_args(p)
    p = sub.add_parser("export", help="re-export <run>/rnn/model.keras as <run>/rnn/saved_model")
    cli.add_config_args(p)
    p = sub.add_parser("figures", help="write the loss figure and the dream strip to <run>/rnn/")
    cli.add_config_args(p)
    p = sub.add_parser("diagnose", help="Doom: M's death recall, false alarms and z NLL on the recorded "
                                        "episodes -> <run>/rnn/diagnostics.json")
    cli.add_config_args(p)
    p.add_argument("--episodes", type=int, default=200, help="series episodes to run (default 200)")
    return parser


def run() -> int:
    args = _parser().parse_args()
    cfg, run_dir = cli.resolve(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.command == "summary":
        from rnn.model import build_mdnrnn, count_params
        model = build_mdnrnn(cfg)
        print(f"MDN-RNN ({cfg.experiment}): input {model.input_size} = z {model.z_size} + action "
              f"{model.action_size}{' + restart 1' if model.predict_death else ''}; LSTM {model.hidden_size} "
              f"(TF1 cell, gates i,j,f,o, forget bias +1); head {model.output_size}")
        for w in model.weights:
            print(f"  {w.name:12s} {str(tuple(w.shape)):14s} {int(w.numpy().size):>10,d}")
        print(f"total parameters: {count_params(model):,d}")
        print(count_params(model))
        return 0
    if args.command == "diagnose" and (args.episodes < 1 or not cfg.rnn.predict_death):
        raise ConfigError("--episodes must be >= 1" if args.episodes < 1 else
                          "diagnose measures M's death head: use it on a Doom run")
    cli.save_run_config(cfg, run_dir)
    cli.print_config(cfg, run_dir)
    if args.command == "train":
        from rnn.train import train
        train(cfg, run_dir, checkpoint_steps=args.checkpoint_steps, checkpoint_seconds=args.checkpoint_seconds,
              progress=not args.no_progress)
    elif args.command == "export":
        from rnn.export import export_saved_model
        from rnn.model import load_rnn
        print(export_saved_model(load_rnn(run_dir), Path(run_dir) / "rnn" / "saved_model"))
    elif args.command == "diagnose":
        import json

        from rnn.diagnostics import write_diagnostics
        print(json.dumps(write_diagnostics(run_dir, cfg, args.episodes), indent=2))
    elif args.command == "figures":
        from rnn.figures import dream_strip_figure, loss_figure
        print(loss_figure(run_dir, Path(run_dir) / "rnn" / "loss.png"))
        print(dream_strip_figure(run_dir, cfg, Path(run_dir) / "rnn" / "dream_strip.png"))
    return 0


if __name__ == "__main__":
    cli.main(run)
