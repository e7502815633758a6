"""The figures of a run's report: which ones there are, from what, and why one is missing.

Drawing primitives (matplotlib) are in :mod:`reports.figures`; this module feeds them the run's numbers and, for
the model figures, V, M and the agent (loaded from the run: Keras files or SavedModels). Each figure's outcome (its
file, or why it is missing) goes into ``results["figures"]``; a figure that fails never costs the report.
"""
from __future__ import annotations

import shutil
import traceback
from pathlib import Path
from typing import Any, Callable

from common.config import Config
from common.run_layout import ControllerLayout, RunLayout
from reports import figures, published, tables
from reports.tables import NOT_RUN

FRAMES_PER_STRIP = 8


def curve_name(folder: str) -> str:
    return "training_curve" if folder == "controller" else f"training_curve_{folder}"


def _figure(results: dict, name: str, out_dir: Path, draw: Callable[[Path], Any], missing: str | None = None):
    """Draw one figure into ``results["figures"][name]``: its file, or why it is missing (never raises)."""
    if missing is not None:
        results["figures"][name] = {"missing": missing}
        return
    out_path = out_dir / f"{name}.png"
    try:
        draw(out_path)
    except Exception as err:  # noqa: BLE001  (a figure that cannot be drawn must not cost the whole report)
        detail = traceback.format_exception_only(type(err), err)[-1].strip()
        results["figures"][name] = {"missing": f"could not be drawn ({detail})"}
        print(f"[reports] warning: figure {name}: {detail}", flush=True)
        return
    if out_path.exists():
        results["figures"][name] = {"file": out_path.name}
    else:
        results["figures"][name] = {"missing": "the drawing function wrote no file"}


def _reconstruction(cfg: Config, run_dir: Path, out_path: Path) -> None:
    try:
        from vae.figures import reconstruction_figure
    except ImportError:
        existing = RunLayout(run_dir).vae_reconstruction
        if not existing.exists():
            raise
        shutil.copyfile(existing, out_path)
        return
    reconstruction_figure(run_dir, cfg, out_path)


def play_agent_episodes(cfg: Config, run_dir: Path, folder: str = "controller") -> tuple[dict, list, dict, object]:
    """The final agent's episode with seed ``evaluate.seed`` in each mode (dream first for Doom, then the real
    game), played once for the frame strip and the GIFs. Returns (episodes {mode: {seed, length, temperature} or
    {error}}, strip rows, {mode: (real frames or None, z)}, V)."""
    from controller.evaluate import read_params
    from controller.shape import controller_shape
    from controller.video import beside_reconstruction, decode_frames, dream_episode, real_episode
    from vae.export import load_v

    seed = cfg.evaluate.seed
    best_file = ControllerLayout(Path(run_dir) / folder).best  # the final agent's (tables.final_folder)
    params, _ = read_params(best_file, controller_shape(cfg).num_params)
    best = tables.read_json(best_file) or {}
    temperature = best.get("temperature") or cfg.es.temperature
    rows, episodes, played = [], {}, {}
    modes = [("real game (frame | V's reconstruction)", False)]
    if cfg.experiment == "doom":
        modes.insert(0, ("dream (decoded z)", True))
    vae = None
    for label, dream in modes:
        key = "dream" if dream else "real"
        try:  # one mode failing (e.g. the game not installed) still leaves the other row
            if dream:
                zs = dream_episode(run_dir, cfg, params, seed, temperature, cfg.env.max_steps)
                real = None
            else:
                real, zs, vae = real_episode(run_dir, cfg, params, seed, cfg.env.max_steps)
        except Exception as err:  # noqa: BLE001
            detail = traceback.format_exception_only(type(err), err)[-1].strip()
            episodes[key] = {"error": f"could not be recorded ({detail})"}
            print(f"[reports] warning: agent frames ({key}): {detail}", flush=True)
            continue
        _, steps = figures.pick_frames(list(range(len(zs))), FRAMES_PER_STRIP)
        vae = vae or load_v(run_dir)
        # V decodes only the frames the strip shows
        shown = decode_frames(vae, zs[steps]) if real is None else beside_reconstruction(real[steps], zs[steps], vae)
        episodes[key] = {"seed": seed, "length": len(zs), "temperature": temperature if dream else None}
        rows.append((f"{label}\n{len(zs)} frames", list(shown), steps))
        played[key] = (real, zs)
    return episodes, rows, played, vae


def write_videos(run_dir: Path, episodes: dict, played: dict, vae) -> None:
    """The report's GIFs of the played episodes; their file names go into ``episodes[mode]["video"]``."""
    from controller.video import report_videos

    if not played:
        return
    real, real_zs = played.get("real", (None, None))
    for key, path in report_videos(run_dir, real, real_zs, played.get("dream", (None, None))[1], vae).items():
        episodes[key].update(video=path.name, video_length=episodes[key]["length"])


def _agent_frames(cfg: Config, run_dir: Path, out_path: Path, results: dict) -> None:
    episodes, rows, played, vae = play_agent_episodes(cfg, run_dir, tables.final_folder(results))
    write_videos(run_dir, episodes, played, vae)
    results["agent_episodes"] = episodes
    if not rows:
        raise RuntimeError("; ".join(f"{k}: {v['error']}" for k, v in episodes.items()))
    figures.frame_strip_figure(rows, out_path)


def draw_figures(cfg: Config, run_dir: Path, out_dir: Path, results: dict, controllers: list[dict],
                 reference: dict) -> None:
    threshold = cfg.env.reward_threshold if cfg.experiment == "carracing" else None
    where = "in the dream" if cfg.es.dream else "in the real game"
    for summary in controllers:
        history, evals, folder = summary["history"], summary["eval_history"], summary["folder"]
        restart_at = (summary.get("training") or {}).get("restart_at", 0)
        missing = None
        if not isinstance(history, list) or not history:
            missing = NOT_RUN if history is None else f"history.csv {(history or {}).get('error', 'is empty')}"

        def curve(path: Path, history=history, evals=evals, folder=folder, restart_at=restart_at) -> None:
            figures.training_curve_figure(
                history, evals if isinstance(evals, list) else [], path,
                reference_history=reference.get("history"), reference_evals=reference.get("eval_history"),
                threshold=threshold, restart_at=restart_at,
                title=f"ours: {folder}/ ({cfg.preset} preset, {where})",
                reference_title=f"authors' published log ({cfg.experiment}, {where})")

        _figure(results, curve_name(folder), out_dir, curve, missing)
    if not controllers:
        _figure(results, "training_curve", out_dir, lambda p: None, NOT_RUN)

    main = tables.final_summary(controllers, results)
    real = main["real"] if main else None
    _figure(results, "histogram_real", out_dir, lambda p: figures.score_histogram_figure(
        real["scores"], p, mean=real["mean"], std=real["std"], threshold=cfg.env.reward_threshold,
        title=f"final agent, {real['episodes']} real-game episodes",
        marks=published.histogram_marks(cfg.experiment)),
        None if real and "error" not in real and real["scores"] else NOT_RUN if real is None else
        f"evaluation_real.json {real.get('error', 'holds no scores')}")
    if cfg.experiment == "doom":
        dream = None
        if main and main["dream"]:
            tau = (main.get("best") or {}).get("temperature")
            key = tables.temperature_key(tau) if tau is not None else None
            dream = main["dream"].get(key) or next(iter(main["dream"].values()))
        _figure(results, "histogram_dream", out_dir, lambda p: figures.score_histogram_figure(
            dream["scores"], p, mean=dream["mean"], std=dream["std"],
            title=f"final agent, {dream['episodes']} dream episodes (τ {dream['temperature']})",
            xlabel="steps survived in the dream"),
            None if dream and "error" not in dream and dream["scores"] else NOT_RUN)

    has_vae, has_rnn = results["data"]["vae_model"], results["data"]["rnn_model"]
    _figure(results, "vae_reconstruction", out_dir, lambda p: _reconstruction(cfg, run_dir, p),
            None if has_vae else NOT_RUN)

    def dream_strip(p: Path) -> None:
        from rnn.figures import dream_strip_figure
        dream_strip_figure(run_dir, cfg, p)

    def rnn_loss(p: Path) -> None:
        from rnn.figures import loss_figure
        loss_figure(run_dir, p)

    _figure(results, "rnn_dream_strip", out_dir, dream_strip, None if has_vae and has_rnn else NOT_RUN)
    _figure(results, "rnn_loss", out_dir, rnn_loss, None if RunLayout(run_dir).rnn_history.exists() else NOT_RUN)
    has_best = main is not None and isinstance(main.get("best"), dict) and "error" not in main["best"]
    _figure(results, "agent_frames", out_dir, lambda p: _agent_frames(cfg, run_dir, p, results),
            None if has_best and has_vae and has_rnn else NOT_RUN)
