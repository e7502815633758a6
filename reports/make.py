"""``python -m reports make``: a run's report folder, ``<run>/report/``: REPORT.md, PNG figures, results.json.

Order of work: :func:`collect_results` reads every number from the run's files into one dict; :func:`draw_figures`
draws the figures from that dict (and from the trained models); :func:`render_markdown` writes REPORT.md from the
dict alone. results.json is that dict, so every number in REPORT.md is in results.json. The only typed-in numbers
are the published ones in :mod:`reports.published`, each with its source, and they go into results.json too.
A stage that has not run gives a "not run" line, never an error.
"""
from __future__ import annotations

import datetime
import shutil
import traceback
from pathlib import Path
from typing import Any, Callable

from common import atomic, timing
from common.config import Config
from envs.episodes import list_episode_files
from reports import figures, published, tables
from reports.tables import NOT_RUN, fmt_duration, fmt_number, fmt_score, markdown_table

REPORT_DIR = "report"
FRAMES_PER_STRIP = 8


def _public(summary: dict) -> dict:
    """A controller summary without the raw CSV rows (they are in the run's CSVs and drawn in the figures);
    ``history`` / ``eval_history`` stay only as None (not run) or {"error": ...}."""
    return {k: v for k, v in summary.items() if k not in ("history", "eval_history") or not isinstance(v, list)}


def collect_results(cfg: Config, run_dir: Path) -> tuple[dict, list[dict], dict]:
    """(results dict for results.json, controller summaries with raw rows, the authors' curve with raw rows)."""
    controllers = [tables.controller_summary(p) for p in tables.controller_dirs(run_dir)]
    reference = tables.reference_curve(cfg.experiment)
    timings = tables.guarded(tables.read_json, run_dir / "timings.json")
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
            "es.num_rollouts": cfg.es.num_rollouts, "es.generations": cfg.es.generations,
            "es.eval_every": cfg.es.eval_every, "es.eval_rollouts": cfg.es.eval_rollouts,
            "es.dream": cfg.es.dream, "es.temperature": cfg.es.temperature,
            "evaluate.episodes": cfg.evaluate.episodes, "evaluate.seed": cfg.evaluate.seed,
            "env.reward_threshold": cfg.env.reward_threshold,
        },
        "data": {
            "rollout_files": len(list_episode_files(run_dir / "rollouts")),
            "series_files": len(list_episode_files(run_dir / "series")),
            "vae_model": (run_dir / "vae" / "model.keras").exists(),
            "rnn_model": (run_dir / "rnn" / "model.keras").exists(),
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
    if cfg.experiment == "carracing":
        results["tables"]["carracing"] = tables.carracing_table(controllers)
    else:
        results["tables"]["doom"] = tables.doom_table(controllers)
    return results, controllers, reference


# ----------------------------------------------------------------------------------------------- figures

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
        existing = run_dir / "vae" / "reconstruction.png"
        if not existing.exists():
            raise
        shutil.copyfile(existing, out_path)
        return
    reconstruction_figure(run_dir, cfg, out_path)


def _agent_frames(cfg: Config, run_dir: Path, out_path: Path, results: dict) -> None:
    from controller.video import record_episode

    seed = cfg.evaluate.seed
    rows, episodes = [], {}
    modes = [("real game (frame | V's reconstruction)", False)]
    if cfg.experiment == "doom":
        modes.insert(0, ("dream (decoded z)", True))
    best = tables.read_json(run_dir / "controller" / "best.json") or {}
    temperature = best.get("temperature") or cfg.es.temperature
    for label, dream in modes:
        key = "dream" if dream else "real"
        try:  # one mode failing (e.g. the game not installed) still leaves the other row
            frames = record_episode(run_dir, cfg, seed, dream=dream, temperature=temperature if dream else None)
        except Exception as err:  # noqa: BLE001
            detail = traceback.format_exception_only(type(err), err)[-1].strip()
            episodes[key] = {"error": f"could not be recorded ({detail})"}
            print(f"[reports] warning: agent frames ({key}): {detail}", flush=True)
            continue
        picked, steps = figures.pick_frames(frames, FRAMES_PER_STRIP)
        episodes[key] = {"seed": seed, "length": len(frames), "temperature": temperature if dream else None}
        rows.append((f"{label}\n{len(frames)} frames", picked, steps))
    results["agent_episodes"] = episodes
    if not rows:
        raise RuntimeError("; ".join(f"{k}: {v['error']}" for k, v in episodes.items()))
    figures.frame_strip_figure(rows, out_path)


def m_diagnostics(cfg: Config, run_dir: Path) -> dict | None:
    """Doom: M's death recall, false alarms and z NLL (``rnn/diagnostics.json``; computed and saved when the
    file is missing or older than M). None for CarRacing or before M is trained; {"error": ...} on failure."""
    model = run_dir / "rnn" / "model.keras"
    if cfg.experiment != "doom" or not model.exists():
        return None
    from rnn.diagnostics import DIAGNOSTICS_FILE, write_diagnostics

    path = run_dir / "rnn" / DIAGNOSTICS_FILE
    try:
        if not path.exists() or path.stat().st_mtime < model.stat().st_mtime:
            return write_diagnostics(run_dir, cfg)
        return tables.read_json(path)
    except Exception as err:  # noqa: BLE001 - a diagnostic that fails must not cost the whole report
        return {"error": traceback.format_exception_only(type(err), err)[-1].strip()}


def draw_figures(cfg: Config, run_dir: Path, out_dir: Path, results: dict, controllers: list[dict],
                 reference: dict) -> None:
    threshold = cfg.env.reward_threshold if cfg.experiment == "carracing" else None
    where = "in the dream" if cfg.es.dream else "in the real game"
    for summary in controllers:
        history, evals, folder = summary["history"], summary["eval_history"], summary["folder"]
        missing = None
        if not isinstance(history, list) or not history:
            missing = NOT_RUN if history is None else f"history.csv {(history or {}).get('error', 'is empty')}"

        def curve(path: Path, history=history, evals=evals, folder=folder) -> None:
            figures.training_curve_figure(
                history, evals if isinstance(evals, list) else [], path,
                reference_history=reference.get("history"), reference_evals=reference.get("eval_history"),
                threshold=threshold, title=f"ours: {folder}/ ({cfg.preset} preset, {where})",
                reference_title=f"authors' published log ({cfg.experiment}, {where})")

        _figure(results, curve_name(folder), out_dir, curve, missing)
    if not controllers:
        _figure(results, "training_curve", out_dir, lambda p: None, NOT_RUN)

    main = controllers[0] if controllers and controllers[0]["folder"] == "controller" else None
    real = main["real"] if main else None
    _figure(results, "histogram_real", out_dir, lambda p: figures.score_histogram_figure(
        real["scores"], p, mean=real["mean"], std=real["std"], threshold=cfg.env.reward_threshold,
        title=f"final agent, {real['episodes']} real-game episodes"),
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
    _figure(results, "rnn_loss", out_dir, rnn_loss, None if (run_dir / "rnn" / "history.csv").exists() else NOT_RUN)
    has_best = main is not None and isinstance(main.get("best"), dict) and "error" not in main["best"]
    _figure(results, "agent_frames", out_dir, lambda p: _agent_frames(cfg, run_dir, p, results),
            None if has_best and has_vae and has_rnn else NOT_RUN)


# ----------------------------------------------------------------------------------------------- Markdown

def _figure_md(results: dict, name: str, caption: str) -> str:
    entry = results["figures"].get(name, {"missing": NOT_RUN})
    if "file" in entry:
        return f"![{caption}]({entry['file']})\n\n*{caption}*"
    return f"*{caption}: {entry['missing']}.*"


def _training_md(results: dict) -> list[str]:
    out = ["## 1. Training of C with CMA-ES", ""]
    ref = results["reference_curve"]
    setup = results["published"]["authors_es_setup"]
    dream = results["settings"]["es.dream"]
    where = "in the dream" if dream else "in the real game"
    if not results["controllers"]:
        out += [f"C training: {NOT_RUN} (`python -m controller train`).", ""]
    for summary in results["controllers"]:
        name = curve_name(summary["folder"])
        out += [f"### `{summary['folder']}/`", ""]
        training = summary.get("training")
        if training is None:
            error = (summary.get("history") or {}).get("error")
            out += [f"Training: history.csv unavailable ({error})." if error else f"Training: {NOT_RUN}.", ""]
        else:
            last = training["last_generation"]
            line = (f"{training['generations']} generations in {fmt_duration(training['wall_seconds'])}; "
                    f"last generation fitness mean {fmt_number(last['fitness_mean'], 2)}, "
                    f"worst {fmt_number(last['fitness_min'], 2)}, best {fmt_number(last['fitness_max'], 2)}; "
                    f"highest best-candidate fitness {fmt_number(training['best_fitness_max'], 2)}.")
            if "best_eval" in training:
                line += (f" Best eval score of the CMA mean ({where}): "
                         f"{fmt_number(training['best_eval']['eval_score'], 2)} at generation "
                         f"{training['best_eval']['generation']}.")
            out += [line, ""]
        best = summary.get("best")
        if isinstance(best, dict) and "error" not in best:
            tau = "" if best.get("temperature") is None else f", τ {fmt_number(best['temperature'], 2)}"
            out += [f"Kept agent (`best.json`): score {fmt_number(best['score'], 2)} at generation "
                    f"{best['generation']}, inputs `{best['inputs']}`, {fmt_number(best['num_params'])} "
                    f"parameters{tau}.", ""]
        out += [_figure_md(results, name, f"CMA-ES training curve of {summary['folder']}/ (left) and the "
                                          f"authors' published curve (right)"), ""]
    if "error" in ref:
        out += [f"Authors' curve: unavailable ({ref['error']}).", ""]
    else:
        out += [f"Authors' published run: {ref['generations']} generations in "
                f"{fmt_duration(ref['wall_seconds'])} on {setup['cores']} cores (population {setup['population_size']}, "
                f"{setup['num_rollouts']} episodes per candidate); best eval score "
                f"{fmt_number(ref['best_eval']['eval_score'], 2)} at generation {ref['best_eval']['generation']} "
                f"(source: {ref['source']}).", ""]
    return out


def _scores_md(results: dict) -> list[str]:
    pub = results["published"]
    threshold = pub["solved_threshold"]
    out = ["## 2. The final agent's score", ""]
    main = results["controllers"][0] if results["controllers"] and \
        results["controllers"][0]["folder"] == "controller" else None
    real = main["real"] if main else None
    if real is None or "error" in real:
        out += [f"Real-game evaluation: {NOT_RUN if real is None else real['error']} "
                f"(`python -m controller evaluate`).", ""]
    else:
        solved = "solved" if real["mean"] > threshold["mean"] else "not solved"
        if real["episodes"] < threshold["episodes"]:
            solved = f"too few episodes to call it solved or not ({real['episodes']} of {threshold['episodes']})"
        out += [f"Real game: **{fmt_score(real)}**, min {fmt_number(real['min'])}, max {fmt_number(real['max'])}; "
                f"{solved} (threshold {fmt_number(threshold['mean'])} over {threshold['episodes']} episodes; "
                f"{threshold['source']}).",
                ""]
    out += [_figure_md(results, "histogram_real", "Histogram of the final agent's real-game scores"), ""]
    if results["experiment"] == "doom":
        dream = None
        if main and main["dream"]:
            dream = next(iter(main["dream"].values()))
            for value in main["dream"].values():
                if value and "error" not in value:
                    out += [f"Dream (τ {fmt_number(value['temperature'], 2)}): **{fmt_score(value)}**.", ""]
        if dream is None:
            out += [f"Dream evaluation: {NOT_RUN} (`python -m controller evaluate --dream`).", ""]
        out += [_figure_md(results, "histogram_dream", "Histogram of the final agent's dream scores"), ""]
    return out


def _models_md(results: dict) -> list[str]:
    doom = results["experiment"] == "doom"
    out = ["## 3. V and M", "",
           _figure_md(results, "vae_reconstruction", "V: real frames (top) over V's reconstructions (bottom)"), "",
           _figure_md(results, "rnn_dream_strip", "M: a dream (M's samples decoded by V) beside the real frames"), "",
           _figure_md(results, "rnn_loss", "M: training loss"), "",
           *_diagnostics_md(results.get("m_diagnostics")),
           "## 4. The agent " + ("in the dream and in the real game" if doom else "in the real game"), ""]
    episodes = results.get("agent_episodes")
    if episodes:
        for key, ep in episodes.items():
            if "error" in ep:
                out += [f"- {key}: {ep['error']}"]
                continue
            tau = "" if ep["temperature"] is None else f", τ {fmt_number(ep['temperature'], 2)}"
            out += [f"- {key}: seed {ep['seed']}, {ep['length']} frames{tau}"]
        out += [""]
    out += [_figure_md(results, "agent_frames", "Frames of the final agent, evenly spaced over one episode"), ""]
    return out


def _diagnostics_md(diag: dict | None) -> list[str]:
    if diag is None:
        return []
    if "error" in diag:
        return [f"M diagnostics: unavailable ({diag['error']}).", ""]
    rows = [["death recall on the fatal frame", fmt_number(diag["death_recall_last"], 3)],
            [f"death recall within the last {diag['window']} frames", fmt_number(diag["death_recall_window"], 3)],
            ["false alarms per frame (earlier frames)", fmt_number(diag["false_alarm_rate"], 4)],
            ["episodes with a false alarm", fmt_number(diag["episodes_with_false_alarm"], 3)],
            ["z NLL per dimension (τ 1)", fmt_number(diag["z_nll"], 4)]]
    return ["M's predictions on the recorded episodes (`python -m rnn diagnose`; teacher-forced, "
            f"{diag['episodes']} training episodes, {diag['episodes_ending_in_death']} ending in death; "
            "a death probability > 0.5 counts as predicted):", "", markdown_table(["measure", "value"], rows), ""]


def _comparison_md(results: dict) -> list[str]:
    out = ["## 5. Our scores beside the published ones", ""]
    if results["experiment"] == "carracing":
        rows = [[r["method"], fmt_score(r["ours"]) if r["inputs"] else "(not part of this project)",
                 r["folder"] + "/" if r["folder"] else "", fmt_score(r["published"])]
                for r in results["tables"]["carracing"]]
        out += [markdown_table(["method", "ours (real game)", "our run folder", "paper"], rows), "",
                "Ours: the controller folders of this run whose `best.json` has those inputs "
                "(`python -m controller train --controller.inputs z|z_hidden --tag T`). "
                f"Paper: {published.PAPER_CAR}.", ""]
    else:
        rows = []
        for r in results["tables"]["doom"]:
            ours, pub = r["ours"], r["published"]
            rows.append([fmt_number(r["temperature"], 2),
                         fmt_score(ours["dream"]) if ours else NOT_RUN,
                         fmt_score(ours["real"]) if ours else NOT_RUN,
                         ours["folder"] + "/" if ours else "",
                         fmt_score(pub["dream"]) if pub else "", fmt_score(pub["real"]) if pub else ""])
        for base in results["published"]["baselines"]:
            rows.append([base["method"], "", "", "", "", fmt_score(base)])
        out += [markdown_table(["τ", "ours: dream", "ours: real game", "our run folder", "paper: dream",
                                "paper: real game"], rows), "",
                "Ours: one row per controller folder, at the τ in its `best.json`; scores from its "
                "`evaluation_dream_tau*.json` and `evaluation_real.json`. "
                f"Paper: {published.PAPER_DOOM}. Last row: {published.AUTHORS_DOOM_RESULTS}.", ""]
    params = results["tables"]["parameters"]
    out += ["### Parameter counts", "",
            markdown_table(["part", "ours", "published", "source"],
                           [[p["part"], fmt_number(p["ours"]), fmt_number((p["published"] or {}).get("count")),
                             (p["published"] or {}).get("source", "")] for p in params]), "",
            "Ours: V and M built at this run's sizes, C from `controller.model.controller_shape`; "
            "per folder: the length of `best.json` params.", ""]
    return out


def _cost_md(results: dict) -> list[str]:
    rows = [[r["stage"], f"`{r['command']}`" if r["command"] else "", fmt_duration(r["wall_s"]),
             fmt_duration(r["cpu_s"]), fmt_number(r["parts"]) if r["parts"] is not None else ""]
            for r in results["tables"]["cost"]]
    machines = results["machine"]["stages"]
    out = ["## 6. Cost", "", markdown_table(["stage", "command", "wall time", "CPU time", "parts"], rows), "",
           f"Preset `{results['preset']}`. Machine of the stages: {', '.join(machines) if machines else NOT_RUN}. "
           "Times from `timings.json`, summed over resumed parts; CPU time includes child processes.", ""]
    if "cost_error" in results["tables"]:
        out += [f"timings.json unavailable ({results['tables']['cost_error']}).", ""]
    return out


def _settings_md(results: dict) -> list[str]:
    data = results["data"]
    rows = [[k, fmt_number(v, 2) if isinstance(v, float) else str(v)] for k, v in sorted(results["settings"].items())]
    return ["## Run settings", "", markdown_table(["setting", "value"], rows), "",
            f"Data on disk: {data['rollout_files']} rollout files, {data['series_files']} series files, "
            f"V model {'present' if data['vae_model'] else NOT_RUN}, M model "
            f"{'present' if data['rnn_model'] else NOT_RUN}.", ""]


def render_markdown(results: dict) -> str:
    title = {"carracing": "CarRacing", "doom": "VizDoom TakeCover (DoomRNN)"}[results["experiment"]]
    lines = [f"# World Models reproduction: {title}, `{results['preset']}` preset", "",
             f"Run folder `{results['run_dir']}`; written by `{results['generated_by']}` at "
             f"{results['generated_at']}. Every number below is in `results.json` beside this file; the published "
             "numbers are labelled with their source.", ""]
    for part in (_training_md, _scores_md, _models_md, _comparison_md, _cost_md, _settings_md):
        lines += part(results)
    return "\n".join(lines).rstrip() + "\n"


def make_report(cfg: Config, run_dir: Path) -> Path:
    """Write ``<run_dir>/report/`` (REPORT.md, results.json, PNGs) and return the folder."""
    out_dir = run_dir / REPORT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    results, controllers, reference = collect_results(cfg, run_dir)
    results["m_diagnostics"] = m_diagnostics(cfg, run_dir)
    draw_figures(cfg, run_dir, out_dir, results, controllers, reference)
    written = {e["file"] for e in results["figures"].values() if "file" in e}
    for stale in out_dir.glob("*.png"):  # figures of an earlier report that could not be drawn this time
        if stale.name not in written:
            stale.unlink()
    atomic.write_json(out_dir / "results.json", results)
    atomic.write_text(out_dir / "REPORT.md", render_markdown(results))
    return out_dir
