"""``python -m rnn train|summary|export|figures|diagnose``: M, the MDN-RNN (common flags: --experiment --preset
--run-dir, one --section.field per setting)."""
from __future__ import annotations

import argparse
import sys

from common import cli
from common.config import ConfigError
from common.run_layout import RunLayout


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rnn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = cli.add_command(sub, "train", "train M on <run>/series (resumes from <run>/rnn/backup)",
                        ("rnn.*", "vae.z_size", "env.action_size"), argv=argv)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    cli.add_command(sub, "summary", "print M's layers and parameter counts (total on the last line)",
                    ("rnn.hidden_size", "rnn.num_mixtures", "rnn.predict_death", "vae.z_size", "env.action_size"),
                    argv=argv)
    cli.add_command(sub, "export", "re-export <run>/rnn/model.keras as <run>/rnn/saved_model", (), argv=argv)
    cli.add_command(sub, "figures", "write the loss figure and the dream strip to <run>/rnn/", ("es.temperature",),
                    argv=argv)
    p = cli.add_command(sub, "diagnose", "Doom: M's death recall, false alarms and z NLL on the recorded episodes "
                                         "-> <run>/rnn/diagnostics.json", (), argv=argv)
    p.add_argument("--series", type=int, default=200, help="series files (episodes) to run M on (default 200)")
    return parser


def run(args: argparse.Namespace) -> int:
    cfg, run_dir = cli.resolve(args)
    layout = RunLayout(run_dir)
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
    if args.command == "diagnose" and (args.series < 1 or not cfg.rnn.predict_death):
        raise ConfigError("--series must be >= 1" if args.series < 1 else
                          "diagnose measures M's death head: use it on a Doom run")
    cli.save_run_config(cfg, run_dir)
    cli.print_config(cfg, run_dir)
    if args.command == "train":
        from rnn.train import train
        train(cfg, run_dir, progress=not args.no_progress)
    elif args.command == "export":
        from rnn.export import export_saved_model, load_rnn
        print(export_saved_model(load_rnn(run_dir), layout.rnn_saved_model))
    elif args.command == "diagnose":
        import json

        from rnn.diagnostics import write_diagnostics
        print(json.dumps(write_diagnostics(run_dir, cfg, args.series), indent=2))
    elif args.command == "figures":
        from rnn.figures import dream_strip_figure, loss_figure
        print(loss_figure(run_dir, layout.rnn_dir / "loss.png"))
        print(dream_strip_figure(run_dir, cfg, layout.rnn_dir / "dream_strip.png"))
    return 0


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    cli.main(lambda: run(args))


if __name__ == "__main__":
    main()
