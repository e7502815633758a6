"""Every number of a run's report, read from the run's files into one dict (results.json).

:func:`collect_results` reads configs, CSVs, evaluations and timings; :func:`m_diagnostics` adds M's death
diagnostics. Nothing here draws or writes markdown (:mod:`reports.draw`, :mod:`reports.markdown`).
"""
from __future__ import annotations

import datetime
import math
import traceback
from pathlib import Path
from typing import Any

from common import timing
from common.config import Config
from common.run_layout import RunLayout
from envs.carracing import tiles_visited
from envs.episodes import list_episode_files
from reports import published, tables


def _public(summary: dict) -> dict:
    """A controller summary without the raw CSV rows (they are in the run's CSVs and drawn in the figures);
    ``history`` / ``eval_history`` stay only as None (not run) or {"error": ...}."""
    return {k: v for k, v in summary.items() if k not in ("history", "eval_history") or not isinstance(v, list)}


def collect_results(cfg: Config, run_dir: Path) -> tuple[dict, list[dict], dict]:
    """(results dict for results.json, controller summaries with raw rows, the authors' curve with raw rows)."""
    layout = RunLayout(run_dir)
    controllers = [tables.controller_summary(c.dir) for c in layout.controllers()]
    reference = tables.reference_curve(cfg.experiment)
    timings = tables.guarded(tables.read_json, layout.timings)
    machines = sorted({e["machine"] for e in (timings or {}).values() if isinstance(e, dict) and "machine" in e})
    results: dict[str, Any] = {
        "experiment": cfg.experiment,
        "preset": cfg.preset,
        "run_dir": str(run_dir),
        "generated_by": f"python -m reports make --experiment {cfg.experiment} --run-dir {run_dir}",
        "generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "settings": {
            "collect.episodes": cfg.collect.episodes, "env.max_steps": cfg.env.max_steps,
            "vae.z_size": cfg.vae.z_size, "vae.epochs": cfg.vae.epochs,
            "rnn.hidden_size": cfg.rnn.hidden_size, "rnn.steps": cfg.rnn.steps, "rnn.epochs": cfg.rnn.epochs,
            "controller.inputs": cfg.controller.inputs, "es.population_size": cfg.es.population_size,
            "es.num_rollouts": cfg.es.num_rollouts, "es.fitness": cfg.es.fitness, "es.generations": cfg.es.generations,
            "es.restart_at": cfg.es.restart_at,
            "es.eval_every": cfg.es.eval_every, "es.eval_rollouts": cfg.es.eval_rollouts,
            "es.dream": cfg.es.dream, "es.temperature": cfg.es.temperature,
            "evaluate.episodes": cfg.evaluate.episodes, "evaluate.seed": cfg.evaluate.seed,
            "env.reward_threshold": cfg.env.reward_threshold,
        },
        "data": {
            "rollout_files": len(list_episode_files(layout.rollouts)),
            "series_files": len(list_episode_files(layout.series)),
            "vae_model": layout.vae_model.exists() or layout.vae_saved_model.is_dir(),
            "rnn_model": layout.rnn_model.exists() or layout.rnn_saved_model.is_dir(),
        },
        "controllers": [_public(c) for c in controllers],
        "reference_curve": {k: v for k, v in reference.items() if k not in ("history", "eval_history")},
        "tables": {
            "parameters": tables.parameter_table(cfg.experiment, tables.count_parameters(cfg), controllers),
            "cost": tables.cost_table(timings if isinstance(timings, dict) and "error" not in timings else None),
        },
        "machine": {"stages": machines, "report": timing.machine_description()},
        "published": published.published_dict(cfg.experiment),
        "figures": {},
    }
    if isinstance(timings, dict) and "error" in timings:
        results["tables"]["cost_error"] = timings["error"]
    choice = tables.guarded(tables.read_json, layout.choice) if layout.choice.exists() else None
    results["final"] = {"folder": choice["folder"] if isinstance(choice, dict) and "folder" in choice
                        else "controller", "choice": choice}
    rounds = rounds_summary(cfg, run_dir)
    if rounds is not None:  # iterative training: every round's cost, and each round's C on the validation seeds
        results["rounds"] = rounds
        from reports.iterate import stage_prefix

        results["tables"]["cost"] = tables.cost_table_rounds(
            [(stage_prefix(r["round"]), r.pop("timings")) for r in rounds])
    if cfg.experiment == "carracing":
        results["tables"]["carracing"] = tables.carracing_table(controllers)
        final = next((c for c in controllers if c["folder"] == results["final"]["folder"]), None)
        results["carracing_diagnosis"] = carracing_diagnosis(cfg, run_dir, final)
    else:
        results["tables"]["doom"] = tables.doom_table(controllers)
    return results, controllers, reference


AUTHORS_ROLLOUTS = 16  # episodes per candidate in the authors' CMA-ES (ORIGINAL-SPEC-DETAILED section 8)
FINISHED_VISITED = 0.999  # tiles_visited of a finished lap is 1.0 up to float sums; one tile of ~300 is 0.003
NEAR_VISITED = 0.9  # an episode that ran out of steps having visited this much of its track ended near the lap's end
EPISODE_KINDS = ("finished", "left_playfield", "near", "far")


def episode_kind(score: float, steps: int, max_steps: int) -> str:
    """A CarRacing episode's kind (one of EPISODE_KINDS) from its score and length: see :func:`carracing_shortfall`."""
    visited = tiles_visited(score, steps)
    if steps < max_steps:
        return "finished" if visited > FINISHED_VISITED else "left_playfield"
    return "near" if visited >= NEAR_VISITED else "far"


def carracing_shortfall(scores, lengths, max_steps: int, threshold: float) -> dict:
    """A CarRacing score's distance below ``threshold`` (900, solved), split over its episodes' kinds. Each kind's
    share is the sum of (threshold - score) over its episodes / all episodes, so the shares add up to the
    distance. The kinds, by :func:`envs.carracing.tiles_visited`: ``finished`` laps and episodes that
    ``left_playfield`` (the v0 rule's two ends before ``max_steps``), and of those that ran all ``max_steps``, the
    ``near`` (at least ``NEAR_VISITED`` of the tiles visited) and the ``far`` (fewer) from the lap's end. The kinds
    say where the points go, not why: ``bench/track_pace.py`` measures the tracks' length and the car's pace."""
    kinds = {kind: [] for kind in EPISODE_KINDS}
    for score, steps in zip(scores, lengths):
        kinds[episode_kind(score, steps, max_steps)].append(float(score))
    mean = sum(sum(v) for v in kinds.values()) / len(scores)
    return {"threshold": threshold, "mean": mean, "below": threshold - mean,
            "near_visited_percent": round(100 * NEAR_VISITED),
            **{kind: {"count": len(v), "mean": sum(v) / len(v) if v else None, "min": min(v, default=None),
                      "max": max(v, default=None), "share": sum(threshold - x for x in v) / len(scores)}
               for kind, v in kinds.items()}}


def carracing_diagnosis(cfg: Config, run_dir: Path, final: dict | None) -> dict | None:
    """CarRacing: why the final C scores what it does, from its summary (:func:`tables.controller_summary`, the
    files it read); None before it is scored.

    - ``fitness_noise``: the C's per-episode std in the game CMA-ES trained in (its envpool score when the run
      trained there and has one, else gymnasium's) over sqrt(es.num_rollouts): the standard error of one
      candidate's fitness (of the mean of its episodes where es.fitness is min), beside the population's fitness
      std in the last four generations (history.csv), and the same error at the authors' 16 episodes per candidate.
    - ``laps``: how many test episodes finished their lap before env.max_steps (the v0 rule), their score range,
      and the mean score of the episodes that ran all env.max_steps.
    - ``shortfall``: :func:`carracing_shortfall` of the test scores below env.reward_threshold.
    - ``frame_gap``: ``diagnosis/frame_gap.txt`` (``bench/frame_gap.py``: V's loss on both games' frames), if there.
    """
    test = (final or {}).get("real")
    if not isinstance(test, dict) or "error" in test or not test.get("scores"):
        return None
    trained = final.get("real_envpool") if cfg.env.backend == "envpool" else None
    fit_eval, fit_env = (trained, cfg.env.backend) if isinstance(trained, dict) and trained.get("scores") \
        else (test, "gymnasium")
    history = final.get("history")
    spread = [r["fitness_std"] for r in history[-4:]] if isinstance(history, list) else []
    std = float(fit_eval["std"])
    scores, lengths = test["scores"], test["lengths"]
    short = carracing_shortfall(scores, lengths, cfg.env.max_steps, cfg.env.reward_threshold)
    finished = short["finished"]
    full = [s for s, n in zip(scores, lengths) if n >= cfg.env.max_steps]  # the near and the far together
    frame_gap = RunLayout(run_dir).diagnosis / "frame_gap.txt"
    return {
        "fitness_noise": {"game": fit_env, "episode_std": std,
                          "episodes_per_candidate": cfg.es.num_rollouts, "fitness": cfg.es.fitness,
                          "fitness_se": std / math.sqrt(cfg.es.num_rollouts),
                          "population_fitness_std_last": spread, "authors_rollouts": AUTHORS_ROLLOUTS,
                          "fitness_se_authors": std / math.sqrt(AUTHORS_ROLLOUTS)},
        "laps": {"episodes": len(scores), "max_steps": cfg.env.max_steps, "finished": finished["count"],
                 "finished_min": finished["min"], "finished_max": finished["max"], "full_length": len(full),
                 "full_length_mean": sum(full) / len(full) if full else None},
        "shortfall": short,
        "frame_gap": "diagnosis/frame_gap.txt" if frame_gap.is_file() else None,
    }


def rounds_summary(cfg: Config, run_dir: Path) -> list[dict] | None:
    """Iterative training (Doom): one entry per pass, from the first (the run folder) to this round, following
    each round's iterate.json back; None for a run without rounds. Each entry: episodes, M's steps, the round's
    C on the validation seeds (real, and dream at the run's τ), M's death recall and false alarms
    (:func:`m_diagnostics`) and the folder's timings."""
    from controller.evaluate import result_path
    from reports.iterate import passes

    chain = passes(run_dir)
    if chain == [(0, Path(run_dir))]:
        return None
    rows = []
    for k, folder in chain:
        layout = RunLayout(folder)
        stored = tables.guarded(tables.read_json, layout.config)
        done = tables.guarded(tables.read_json, layout.rnn_done)
        out = layout.controller().dir
        real = tables.guarded(tables.read_json, result_path(out, False, None, split="validation"))
        dream = tables.guarded(tables.read_json, result_path(out, True, cfg.es.temperature, split="validation"))
        timings = tables.guarded(tables.read_json, layout.timings)
        diag = m_diagnostics(cfg, folder) or {}  # each pass's M on the same first series (random-policy episodes)
        real = tables.short_score(tables.score_summary(real), se=True)
        dream = tables.short_score(tables.score_summary(dream), se=True)
        both = real and dream and "error" not in real and "error" not in dream
        rows.append({"round": k, "folder": str(folder),
                     "episodes": (stored or {}).get("collect", {}).get("episodes") if isinstance(stored, dict)
                     else None,
                     "m_steps": done.get("steps") if isinstance(done, dict) else None,
                     "validation_real": real, "validation_dream": dream,
                     "dream_minus_real": dream["mean"] - real["mean"] if both else None,
                     "m_death_recall": diag.get("death_recall_last"),
                     "m_false_alarm_rate": diag.get("false_alarm_rate"),
                     "timings": timings if isinstance(timings, dict) and "error" not in timings else {}})
    return rows


def m_diagnostics(cfg: Config, run_dir: Path) -> dict | None:
    """Doom: M's death recall, false alarms and z NLL (``rnn/diagnostics.json``; computed and saved when the
    file is missing or older than M). None for CarRacing or before M is trained; {"error": ...} on failure."""
    layout = RunLayout(run_dir)
    model, path = layout.rnn_model, layout.rnn_diagnostics
    if cfg.experiment != "doom":
        return None
    if not model.exists():  # a committed folder: its saved diagnostics, if any
        return tables.read_json(path) if path.exists() else None
    from rnn.diagnostics import write_diagnostics

    try:
        if not path.exists() or path.stat().st_mtime < model.stat().st_mtime:
            return write_diagnostics(run_dir, cfg)
        return tables.read_json(path)
    except Exception as err:  # noqa: BLE001 - a diagnostic that fails must not cost the whole report
        return {"error": traceback.format_exception_only(type(err), err)[-1].strip()}
