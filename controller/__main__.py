"""``python -m controller summary|train|evaluate``: C and its CMA-ES training (common flags: --experiment
--preset --run-dir, one --section.field per setting).

    summary   print C's parameter count (last line: the total)
    train     CMA-ES in the real env (worker pool, or --backend ray) or in the dream (--dream --temperature τ)
    evaluate  N episodes with explicit seeds; --dream scores in the dream; --video PATH writes an episode
    choose    Doom: the final agent, the best of the run's C and the τ table's on the validation seeds

Test hook: WORLDMODELS_TEST_FITNESS=quadratic makes ``train`` use a synthetic fitness (no V or M needed).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from common import atomic, cli
from common.config import ConfigError
from common.run_layout import RunLayout
from common.timing import stage_timer

SHAPE = ("controller.*", "vae.z_size", "rnn.hidden_size", "env.action_size")


def _add_mode_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dream", action="store_true", help="in M's dream (Doom) at --temperature")
    p.add_argument("--real", action="store_true", help="in the real env (overrides the Doom default)")
    p.add_argument("--tag", help="controller folder <run>/controller-TAG (e.g. a temperature sweep)")
    p.add_argument("--backend", choices=("pool", "ray"), default="pool", help="real-env executor")
    p.add_argument("--ray-address", help="Ray cluster address for --backend ray (default: a local Ray)")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m controller", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    cli.add_command(sub, "summary", "print the controller's input layout and parameter count", SHAPE, argv=argv)
    p = cli.add_command(sub, "train", "train C with CMA-ES, in the real game or in M's dream (resumable)",
                        ("es.*", *SHAPE, "env.max_steps"), aliases={"--temperature": "es.temperature"}, argv=argv)
    _add_mode_flags(p)
    p = cli.add_command(sub, "evaluate", "score C over evaluate.episodes episodes with seeds evaluate.seed.. "
                                         "(real game, or --dream), or write one episode as a video (--video)",
                        ("evaluate.*", "es.temperature", "es.dream"),
                        aliases={"--episodes": "evaluate.episodes", "--seed": "evaluate.seed",
                                 "--temperature": "es.temperature", "--split": "evaluate.split"}, argv=argv)
    _add_mode_flags(p)
    p.add_argument("--params", help="parameter file (default <controller folder>/best.json; authors' format too)")
    p.add_argument("--video", help="write one episode (seed --seed) to this .gif or .mp4 instead of scoring")
    p.add_argument("--frames", type=int, default=300, help="--video: frames at most (default 300)")
    p.add_argument("--fps", type=int, default=30, help="--video: frames per second (default 30)")
    cli.add_command(sub, "choose", "Doom: the final agent, the best on the validation seeds of the run's C and the "
                                   "τ table's (evaluate.temperatures) -> <run>/choice.json",
                    ("evaluate.temperatures",), argv=argv)
    from controller import play

    play.add_arguments(cli.add_command(sub, "play", play.HELP, play.SETTINGS, {"--temperature": "es.temperature"},
                                       argv=argv))
    return parser


def _resolve(args):
    if args.dream and args.real:
        raise ConfigError("choose --dream or --real, not both")
    if args.dream or args.real:
        vars(args)["es.dream"] = "true" if args.dream else "false"
    if args.tag is not None and (not args.tag or not args.tag.replace("-", "").replace("_", "").replace(".", "")
                                 .isalnum()):
        raise ConfigError(f"--tag {args.tag!r}: use letters, digits, '-', '_' or '.'")
    return cli.resolve(args, own_controller=args.tag is not None)


def _backend(cfg, run_dir: Path, args, dream: bool, workers: int | None = None):
    """The fitness backend; ``workers``: the pool's processes (default es.workers)."""
    from controller import backends

    if os.environ.get("WORLDMODELS_TEST_FITNESS") == "quadratic":
        return backends.SyntheticBackend(cfg)
    if dream:
        return backends.DreamBackend(cfg, run_dir, cfg.es.temperature)
    factory = backends.real_factory(cfg, run_dir)
    if args.backend == "ray":
        from controller.ray_backend import RayBackend

        return RayBackend(cfg, factory, args.ray_address)
    return backends.PoolBackend(cfg, factory, workers)


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
    from controller.train import is_complete, train

    out = RunLayout(run_dir).controller(args.tag).dir
    cli.print_config(cfg, run_dir)
    if is_complete(cfg, out):
        print(f"[controller] {out} already complete ({cfg.es.generations} generations); nothing to do")
        return 0
    backend = _backend(cfg, run_dir, args, cfg.es.dream)  # validates inputs before anything is written
    if args.tag is None or not RunLayout(run_dir).config.exists():  # a tagged variant keeps the run's settings
        cli.save_run_config(cfg, run_dir)
    atomic.write_text(RunLayout(run_dir).controller(args.tag).config, cfg.to_json() + "\n")
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
    from controller.evaluate import (as_trained, current_result, evaluate, evaluation_file, evaluation_seeds,
                                     read_params, scoring_config)
    from controller.shape import controller_shape

    if not args.video:
        evaluation_seeds(cfg)  # a score is only ever taken on test or validation seeds (common/seeds.py)
    if not RunLayout(run_dir).config.exists():
        raise ConfigError(f"--run-dir {run_dir}: no run there (no config.json)")
    dream = cfg.es.dream if (args.dream or args.real) else False
    folder = RunLayout(run_dir).controller(args.tag)
    out = folder.dir
    cfg = as_trained(cfg, out, vars(args).get("controller.z") is not None)
    params_file = Path(args.params) if args.params else folder.best
    # Everything the user can get wrong is checked here, before models load or workers start.
    params, generation = read_params(params_file, controller_shape(cfg).num_params)
    cli.print_config(cfg, run_dir)
    if args.video:
        from controller.video import check_video_args, record_episode, write_video

        check_video_args(Path(args.video), args.frames, args.fps)
        frames = record_episode(run_dir, cfg, params, cfg.evaluate.seed, dream=dream,
                                temperature=cfg.es.temperature, max_steps=args.frames)
        print(f"[controller] wrote {write_video(frames, Path(args.video), fps=args.fps)} ({len(frames)} frames)")
        return 0
    temperature = cfg.es.temperature if dream else None
    done = current_result(cfg, out, params, dream)
    if done is not None:  # this controller, these seeds and this τ were scored already: nothing to do or record
        print(f"[controller] already scored: {done['mean']:.2f} ± {done['std']:.2f} over {done['episodes']} "
              f"episodes in {evaluation_file(cfg, out, dream)}", flush=True)
        return 0
    # evaluate.workers processes, no more than there are tasks (env.vector_envs episodes each): a worker without a
    # task would only pay its start-up (importing TensorFlow, loading V and M)
    tasks = -(-len(evaluation_seeds(cfg)) // cfg.env.vector_envs)
    backend = _backend(scoring_config(cfg), run_dir, args, dream, min(cfg.evaluate.workers, tasks))
    real_env = "" if cfg.evaluate.backend == "gymnasium" else f"_{cfg.evaluate.backend}"
    stage = ("validate" if cfg.evaluate.split == "validation" else "evaluate") + ("_dream" if dream else real_env)
    with stage_timer(run_dir, _stage_name(stage, args.tag), resumable=False):
        try:
            result = evaluate(cfg, out, backend, params, generation, params_file, dream, temperature)
        finally:
            backend.close()
    print(f"[controller] {result['mode']} score over {result['episodes']} episodes: "
          f"{result['mean']:.2f} ± {result['std']:.2f} (min {np.min(result['scores']):.1f}, max "
          f"{np.max(result['scores']):.1f}) -> {evaluation_file(cfg, out, dream)}")
    return 0


def _choose(args) -> int:
    cfg, run_dir = cli.resolve(args)
    from controller.choose import choose, is_current, read_choice

    if is_current(cfg, run_dir):
        choice = read_choice(run_dir)
        print(f"[controller] already chosen: {choice['folder']} ({RunLayout(run_dir).choice})")
        return 0
    cli.print_config(cfg, run_dir)
    with stage_timer(run_dir, "choose", resumable=False):
        choice = choose(cfg, run_dir)
    for c in choice["candidates"]:
        print(f"[controller] {c['folder']} (τ {c['temperature']}): {c['mean']:.2f} ± {c['std']:.2f} over "
              f"{c['episodes']} validation episodes")
    print(f"[controller] final agent: {choice['folder']} -> {RunLayout(run_dir).choice}")
    return 0


def _play(args) -> int:
    from controller import play

    return play.run(args)


def run(args: argparse.Namespace) -> int:
    return {"summary": _summary, "train": _train, "evaluate": _evaluate, "choose": _choose,
            "play": _play}[args.command](args)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    cli.main(lambda: run(args))


if __name__ == "__main__":
    main()
