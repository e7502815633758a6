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
from common.run_layout import RunLayout
from common.config import (EXPERIMENTS, PRESETS, SECTION_CLASSES, SECTIONS, SHAPE_FIELDS, Config, ConfigError,
                           config_from_dict, get_value, make_config)

DEFAULT_PRESET = "small"


def _peek(argv: list[str] | None) -> tuple[str | None, str | None, str | None]:
    """--experiment, --preset and --run-dir as given in ``argv`` (for help texts; nothing is validated)."""
    peek = argparse.ArgumentParser(add_help=False)
    for flag in ("--experiment", "--preset", "--run-dir"):
        peek.add_argument(flag)
    known, _ = peek.parse_known_args(argv or [])
    return known.experiment, known.preset, known.run_dir


def _applied_defaults(argv: list[str] | None) -> Callable[[str], str]:
    """A function from "section.field" to the text of the value that applies to this command line: the config
    of the run dir, or of --experiment/--preset, or, when no experiment is named, each experiment's value."""
    experiment, preset, run_dir = _peek(argv)
    configs: dict[str, Config] = {}
    try:
        stored = read_run_config(Path(run_dir)) if run_dir else None
    except ConfigError:
        stored = None
    if stored is not None and (experiment in (None, stored.experiment)):
        configs[stored.experiment] = stored
    else:
        names = [experiment] if experiment in EXPERIMENTS else list(EXPERIMENTS)
        preset = preset if preset in PRESETS else DEFAULT_PRESET
        configs = {name: make_config(name, preset) for name in names}

    def text(dotted: str) -> str:
        values = {name: get_value(cfg, dotted) for name, cfg in configs.items()}
        if len(set(map(repr, values.values()))) == 1:
            return repr(next(iter(values.values())))
        return ", ".join(f"{name} {value!r}" for name, value in values.items())

    return text


def _reads(dotted: str, settings: tuple[str, ...] | None) -> bool:
    """Whether ``section.field`` is one of ``settings`` ("section.*" takes a whole section; None: all)."""
    if settings is None:
        return True
    section = dotted.partition(".")[0]
    return dotted in settings or f"{section}.*" in settings


def add_config_args(parser: argparse.ArgumentParser, aliases: dict[str, str] | None = None,
                    settings: tuple[str, ...] | None = None, argv: list[str] | None = None) -> None:
    """Add the common flags and one ``--section.field`` flag per config field, every one accepted everywhere.

    ``settings`` ("section.field" or "section.*") are the ones this command reads: only they are listed in
    ``--help`` (the others are accepted and stored in config.json, but hidden). ``aliases`` {"--flag":
    "section.field"} are short names beside the dotted flag. Help shows the value that applies to ``argv``
    (its --run-dir's config, or its --experiment/--preset; each experiment's value when none is named).
    """
    aliases = aliases or {}
    parser.add_argument("--experiment", metavar="{" + ",".join(EXPERIMENTS) + "}",
                        help="experiment (default: the run dir's, else required)")
    parser.add_argument("--preset", metavar="{" + ",".join(PRESETS) + "}",
                        help=f"size preset (default: the run dir's, else {DEFAULT_PRESET})")
    parser.add_argument("--run-dir", help="run folder (default: runs/<experiment>-<preset>)")
    applied = _applied_defaults(argv)
    for flag, dotted in aliases.items():
        parser.add_argument(flag, dest=dotted, default=None, metavar="N", help=f"same as --{dotted}")
    for section in SECTIONS:
        fields = [f for f in dataclasses.fields(SECTION_CLASSES[section]) if _reads(f"{section}.{f.name}", settings)]
        group = parser.add_argument_group(f"{section} settings") if fields else parser
        for f in dataclasses.fields(SECTION_CLASSES[section]):
            dotted = f"{section}.{f.name}"
            shown = _reads(dotted, settings)
            group.add_argument(f"--{dotted}", dest=dotted, default=None, metavar="V",
                               help=f"{f.metadata['help']} (default {applied(dotted)})" if shown
                               else argparse.SUPPRESS)


def add_command(sub, name: str, text: str, settings: tuple[str, ...] | None = None,
                aliases: dict[str, str] | None = None, argv: list[str] | None = None) -> argparse.ArgumentParser:
    """One subcommand of ``python -m <package>``: its own description, the config flags it reads in --help."""
    parser = sub.add_parser(name, help=text, description=text)
    add_config_args(parser, aliases, settings, argv)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, str]:
    return {k: v for k, v in vars(args).items() if "." in k and v is not None}


def read_run_config(run_dir: Path) -> Config | None:
    """The config.json of ``run_dir`` (None when there is none); ConfigError naming the file and the field."""
    return read_config(RunLayout(run_dir).config)


def read_config(path: Path) -> Config | None:
    """A config.json (a run's, or the one a controller's training wrote beside it; None when there is none);
    ConfigError naming the file and the field."""
    if not path.exists():
        return None
    try:
        return config_from_dict(json.loads(path.read_text()))
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path} is not valid JSON ({err})") from None
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def resolve(args: argparse.Namespace, own_controller: bool = False) -> tuple[Config, Path]:
    """Config and run dir from parsed arguments; nothing is written. Raises ConfigError on bad input.

    A run dir that already holds a config.json is the base: its experiment and preset are the defaults, the
    command's overrides go on top, and any change to a shape-defining field (see SHAPE_FIELDS) is refused;
    ``own_controller`` (a tagged controller folder, which keeps its own config.json) may change C's fields.
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
            where = "does not exist" if not run_dir.exists() else f"holds no {RunLayout(run_dir).config.name}"
            raise ConfigError(f"--run-dir {run_dir} {where}: no run there (give --experiment to start one)")
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
        cfg = make_config(stored.experiment, preset, {**stored.dotted(), **_overrides(args)})
    for dotted in SHAPE_FIELDS:
        if own_controller and dotted.startswith("controller."):
            continue
        if get_value(cfg, dotted) != get_value(stored, dotted):
            raise ConfigError(f"{run_dir} was made with {dotted}={get_value(stored, dotted)!r}; "
                              f"it cannot be changed to {get_value(cfg, dotted)!r} (use another --run-dir)")
    return cfg, run_dir


def save_run_config(cfg: Config, run_dir: Path) -> None:
    """Create the run dir and record the resolved config (call after resolve succeeded). An unchanged config is
    not rewritten, so its time stamp says when the run's settings last changed (the report's currency check)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path, text = RunLayout(run_dir).config, cfg.to_json() + "\n"
    if not (path.exists() and path.read_text() == text):
        atomic.write_text(path, text)


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
