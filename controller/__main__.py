"""``python -m controller summary|train|evaluate``: C and its CMA-ES training (issue 5).

    summary   print C's parameter count (last line: the total)
    train     CMA-ES in the real env (worker pool, or --backend ray) or in the dream (--dream --temperature τ)
    evaluate  N episodes with explicit seeds; --dream scores in the dream; --video PATH writes an episode

Test hook: WORLDMODELS_TEST_FITNESS=quadratic makes ``train`` use a synthetic fitness (no V or M needed).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from common import atomic, cli
from common.config import ConfigError
from common.timing import stage_timer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m controller", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("summary", help="print the controller's parameter count")
    cli.add_config_args(p)
    for name, help_text in (("train", "train C with CMA-ES"), ("evaluate", "score C over N episodes")):
        p = sub.add_parser(name, help=help_text)
        aliases = {"--temperature": "es.temperature"}
        if name == "evaluate":
            aliases.update({"--episodes": "evaluate.episodes", "--seed": "evaluate.seed"})
        cli.add_config_args(p, aliases)
        p.add_argument("--dream", action="store_true", help="in M's dream (Doom) at --temperature")
        p.add_argument("--real", action="store_true", help="in the real env (overrides the Doom default)")
        p.add_argument("--tag", help="output folder <run>/controller-TAG (e.g. a temperature sweep)")
        p.add_argument("--backend", choices=("pool", "ray"), default="pool", help="real-env executor")
        p.add_argument("--ray-address", help="Ray cluster address for --backend ray (default: a local Ray)")
        if name == "evaluate":
            p.add_argument("--params", help="parameter file (default <out>/best.json; authors' format accepted)")
            p.add_argument("--video", help="write one episode (seed --seed) to this .gif or .mp4")
    return parser


def _resolve(args):
    if args.dream and args.real:
        raise ConfigError("choose --dream or --real, not both")
    if args.dream or args.real:
        vars(args)["es.dream"] = "true" if args.dream else "false"
    if args.tag is not None and (not args.tag or not args.tag.replace("-", "").replace("_", "").replace(".", "")
                                 .isalnum()):
        raise ConfigError(f"--tag {args.tag!r}: use letters, digits, '-', '_' or '.'")
    return cli.resolve(args)


def _backend(cfg, run_dir: Path, args, dream: bool):
    from controller import backends

    if os.environ.get("WORLDMODELS_TEST_FITNESS") == "quadratic":
        return backends.SyntheticBackend(cfg)
    if dream:
        return backends.DreamBackend(cfg, run_dir, cfg.es.temperature)
    factory = backends.real_factory(cfg, run_dir)
    if args.backend == "ray":
        from controller.ray_backend import RayBackend

        return RayBackend(cfg, factory, args.ray_address)
    return backends.PoolBackend(cfg, factory)


def _summary(args) -> int:
    from controller.model import LinearController, controller_shape

    cfg, _ = cli.resolve(args)
    shape = controller_shape(cfg)
    model = LinearController.from_shape(shape)
    print(f"controller inputs={shape.inputs} input_size={shape.input_size} action_size={shape.action_size} "
          f"use_bias={shape.use_bias}" + (f" hidden_units={shape.hidden_units}" if shape.inputs == "z_hidden" else ""))
    print(f"Total params: {model.count_params():,}")
    return 0


def _stage_name(stage: str, tag: str | None) -> str:
    """timings.json key: a tagged controller (e.g. a τ sweep) keeps its time apart from the run's own stage."""
    return stage if tag is None else f"{stage}-{tag}"


def _train(args) -> int:
    cfg, run_dir = _resolve(args)  # before the heavy imports: bad input fails fast
    from controller.train import is_complete, output_dir, train

    out = output_dir(run_dir, args.tag)
    cli.print_config(cfg, run_dir)
    if is_complete(cfg, out):
        print(f"[controller] {out} already complete ({cfg.es.generations} generations); nothing to do")
        return 0
    backend = _backend(cfg, run_dir, args, cfg.es.dream)  # validates inputs before anything is written
    if args.tag is None or not (run_dir / cli.CONFIG_FILE).exists():  # a tagged variant keeps the run's settings
        cli.save_run_config(cfg, run_dir)
    atomic.write_text(out / "config.json", cfg.to_json() + "\n")
    # close() joins the worker processes inside the timer, so their CPU time is counted (children's rusage).
    with stage_timer(run_dir, _stage_name("controller_train", args.tag)):
        try:
            train(cfg, out, backend)
        finally:
            backend.close()
    return 0


def _evaluate(args) -> int:
    import numpy as np

    cfg, run_dir = _resolve(args)
    from controller.evaluate import evaluate, result_name
    from controller.train import output_dir

    dream = cfg.es.dream if (args.dream or args.real) else False
    out = output_dir(run_dir, args.tag)
    params_file = Path(args.params) if args.params else out / "best.json"
    cli.print_config(cfg, run_dir)
    if args.video:
        from controller.video import record_episode, write_video

        frames = record_episode(run_dir, cfg, cfg.evaluate.seed, dream=dream, temperature=cfg.es.temperature,
                                params_file=params_file)
        print(f"[controller] wrote {write_video(frames, Path(args.video))} ({len(frames)} frames)")
        return 0
    temperature = cfg.es.temperature if dream else None
    backend = _backend(cfg, run_dir, args, dream)
    with stage_timer(run_dir, _stage_name("evaluate_dream" if dream else "evaluate", args.tag)):
        try:
            result = evaluate(cfg, out, backend, params_file, dream, temperature)
        finally:
            backend.close()
    print(f"[controller] {result['mode']} score over {result['episodes']} episodes: "
          f"{result['mean']:.2f} ± {result['std']:.2f} (min {np.min(result['scores']):.1f}, max "
          f"{np.max(result['scores']):.1f}) -> {out / result_name(dream, temperature, cfg.evaluate.seed)}")
    return 0


def main(argv=None) -> None:
    args = _parser().parse_args(argv)
    command = {"summary": _summary, "train": _train, "evaluate": _evaluate}[args.command]
    cli.main(lambda: command(args))


if __name__ == "__main__":
    main(sys.argv[1:])
