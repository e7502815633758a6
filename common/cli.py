"""Command-line plumbing shared by every ``python -m <package>`` command.

Every command takes ``--experiment``, ``--preset``, ``--run-dir`` and one ``--section.field VALUE`` flag per
config field (help text from the field's metadata). :func:`resolve` turns the parsed arguments into a
validated :class:`Config` and run dir *before* anything is written; :func:`main` maps :class:`ConfigError`
to a one-line message and exit code 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
from pathlib import Path
from typing import Callable

from common import atomic
from common.config import (EXPERIMENTS, PRESETS, SECTION_CLASSES, SECTIONS, SHAPE_FIELDS, Config, ConfigError,
                           config_from_dict, get_value, make_config)

DEFAULT_PRESET = "small"
CONFIG_FILE = "config.json"


def add_config_args(parser: argparse.ArgumentParser, aliases: dict[str, str] | None = None) -> None:
    """Add the common flags, one flag per config field, and short ``aliases`` {"--flag": "section.field"}."""
    parser.add_argument("--experiment", choices=None, metavar="{" + ",".join(EXPERIMENTS) + "}",
                        help="experiment (default: the run dir's, else required)")
    parser.add_argument("--preset", metavar="{" + ",".join(PRESETS) + "}",
                        help=f"size preset (default: the run dir's, else {DEFAULT_PRESET})")
    parser.add_argument("--run-dir", help="run folder (default: runs/<experiment>-<preset>)")
    for flag, dotted in (aliases or {}).items():
        parser.add_argument(flag, dest=dotted, default=None, metavar="VALUE", help=f"same as --{dotted}")
    for section in SECTIONS:
        group = parser.add_argument_group(f"{section} settings")
        for f in dataclasses.fields(SECTION_CLASSES[section]):
            dotted = f"{section}.{f.name}"
            if any(d == dotted for d in (aliases or {}).values()):
                continue
            group.add_argument(f"--{dotted}", dest=dotted, default=None, metavar="VALUE",
                               help=f"{f.metadata['help']} (default {f.default!r} before experiment/preset)")


def _overrides(args: argparse.Namespace) -> dict[str, str]:
    return {k: v for k, v in vars(args).items() if "." in k and v is not None}


def read_run_config(run_dir: Path) -> Config | None:
    path = run_dir / CONFIG_FILE
    if not path.exists():
        return None
    try:
        return config_from_dict(json.loads(path.read_text()))
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path} is not valid JSON ({err})") from None


def resolve(args: argparse.Namespace) -> tuple[Config, Path]:
    """Config and run dir from parsed arguments; nothing is written. Raises ConfigError on bad input.

    A run dir that already holds a config.json is the base: its experiment and preset are the defaults, the
    command's overrides go on top, and any change to a shape-defining field (see SHAPE_FIELDS) is refused.
    """
    for name in ("experiment", "preset"):
        value, table = getattr(args, name), EXPERIMENTS if name == "experiment" else PRESETS
        if value is not None and value not in table:
            raise ConfigError(f"unknown {name} {value!r}; choose from {', '.join(table)}")
    run_dir = Path(args.run_dir) if args.run_dir else None
    if run_dir is not None and run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"--run-dir {run_dir} exists and is not a folder")
    stored = read_run_config(run_dir) if run_dir is not None else None
    if stored is None and run_dir is None:
        if args.experiment is None:
            raise ConfigError("--experiment is required (carracing or doom) unless --run-dir holds a run")
        run_dir = Path("runs") / f"{args.experiment}-{args.preset or DEFAULT_PRESET}"
        stored = read_run_config(run_dir)
    if stored is None:
        if args.experiment is None:
            raise ConfigError(f"--experiment is required: {run_dir} holds no {CONFIG_FILE}")
        cfg = make_config(args.experiment, args.preset or DEFAULT_PRESET, _overrides(args))
        return cfg, run_dir
    if args.experiment is not None and args.experiment != stored.experiment:
        raise ConfigError(f"{run_dir} holds a {stored.experiment} run, not {args.experiment}; "
                          f"choose another --run-dir")
    preset = args.preset or stored.preset
    if preset != stored.preset:
        # A different preset on an existing run: start from that preset, keep the run's shapes checked below.
        cfg = make_config(stored.experiment, preset, _overrides(args))
    else:
        base = {f"{s}.{k}": v for s in SECTIONS for k, v in stored.to_dict()[s].items()}
        cfg = make_config(stored.experiment, preset, {**base, **_overrides(args)})
    for dotted in SHAPE_FIELDS:
        if get_value(cfg, dotted) != get_value(stored, dotted):
            raise ConfigError(f"{run_dir} was made with {dotted}={get_value(stored, dotted)!r}; "
                              f"it cannot be changed to {get_value(cfg, dotted)!r} (use another --run-dir)")
    return cfg, run_dir


def save_run_config(cfg: Config, run_dir: Path) -> None:
    """Create the run dir and record the resolved config (call after resolve succeeded)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic.write_text(run_dir / CONFIG_FILE, cfg.to_json() + "\n")


def print_config(cfg: Config, run_dir: Path) -> None:
    print(f"[worldmodels] experiment={cfg.experiment} preset={cfg.preset} run_dir={run_dir}", flush=True)


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def main(run: Callable[[], int | None]) -> None:
    """Call ``run``; exit 2 with one line on ConfigError, 130 on Ctrl-C, else its return code.

    SIGTERM (``kill``, ``pkill``) becomes SystemExit, so ``finally`` blocks still run: a stage killed that way
    records its time in timings.json like an interrupted one (SIGKILL cannot be caught; the atomic writes keep
    its files whole).
    """
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        code = run()
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted; re-run the same command to resume", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
