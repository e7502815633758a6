"""``python -m controller play``: watch C play inside M's dream in a web page, steer it, change τ as it runs.

One local web server (standard library) loads V, M, C and the initial z once and serves one page; every browser
tab gets its own session (its own dream). The page shows the dream frame (V's decoder on M's sampled z), the step,
M's death probability, a τ slider (0.1-2.0, starting at the played C's τ), buttons and keys that take
over from C (Doom: left / stay / right; CarRacing: steer, gas, brake) and "auto" that gives control back, restart,
and a second tab, "real game", where the same agent plays the real env beside V's reconstruction of each frame.

Plays the final agent (the C ``<run>/choice.json`` names, at its τ) unless ``--tag`` says otherwise. Works from a
committed result folder (``reports/results/doom``: SavedModels only), with no display and no GPU.
A run dir without V and M is refused with one ``error:`` line and exit 2 before any port is bound. Listens on
127.0.0.1 unless ``--host`` says otherwise; Ctrl-C or SIGTERM stops it cleanly (exit 0).
"""
from __future__ import annotations

import argparse
import dataclasses
import signal
from pathlib import Path

from common import cli
from common.config import Config, ConfigError

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765
HELP = "watch C play in M's dream in a web page; steer it, change the temperature as it runs (local server)"
SETTINGS = ("es.temperature", "env.max_steps")  # the config fields play reads (shown in --help)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``play`` besides the config flags."""
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--tag", help="play controller-TAG/best.json (default: the final agent that "
                                      "<run>/choice.json names, else controller/best.json)")


def final_agent(args: argparse.Namespace, cfg: Config, run_dir: Path) -> tuple[str | None, Config]:
    """The controller tag to play and the config to play it with. Without ``--tag``, the C that
    ``<run>/choice.json`` names (``controller choose``: the run's final agent) at its τ, unless ``--temperature``
    says otherwise; a run without a choice plays ``controller/``."""
    from controller.choose import read_choice

    if args.tag is not None:
        return args.tag, cfg
    try:
        choice = read_choice(run_dir)
    except (OSError, ValueError) as err:
        raise ConfigError(f"{run_dir}/choice.json is unreadable ({err}): pass --tag") from None
    if not isinstance(choice, dict) or "temperature" not in choice:
        return None, cfg
    if getattr(args, "es.temperature", None) is None:  # no --temperature: the τ the final agent was chosen at
        cfg = dataclasses.replace(cfg, es=dataclasses.replace(cfg.es, temperature=float(choice["temperature"])))
    return choice.get("tag"), cfg


def run(args: argparse.Namespace) -> int:
    """Resolve the run, load the models (every refusal happens here), then bind and serve until stopped."""
    cfg, run_dir = cli.resolve(args)
    if not run_dir.is_dir():
        raise ConfigError(f"--run-dir {run_dir} does not exist: pass a run folder holding V and M "
                          f"(e.g. reports/results/doom)")
    if args.tag is not None and not args.tag.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ConfigError(f"--tag {args.tag!r}: use letters, digits, '-', '_' or '.'")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be in 0..65535, got {args.port}")
    from controller.play_server import PlayApp, make_server
    from controller.play_session import Models

    tag, cfg = final_agent(args, cfg, run_dir)
    app = PlayApp(Models(cfg, run_dir, tag))
    try:
        server = make_server(app, args.host, args.port)
    except OSError as err:
        raise ConfigError(f"cannot listen on {args.host}:{args.port} ({err.strerror or err})") from None
    host, port = server.server_address[:2]
    cli.print_config(cfg, run_dir)
    print(f"[play] C: {app.models.controller_file or 'none (the player acts)'}, τ {cfg.es.temperature}", flush=True)
    print(f"[play] serving {run_dir} on http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    except SystemExit as stop:  # common.cli turns SIGTERM into SystemExit(128 + SIGTERM)
        if stop.code != 128 + signal.SIGTERM:
            raise
    finally:
        server.server_close()
        app.close()
    print("[play] stopped", flush=True)
    return 0
