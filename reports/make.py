"""``python -m reports make``: a run's report folder, ``<run>/report/``: REPORT.md, PNG figures, results.json.

Order of work: :func:`reports.results.collect_results` reads every number from the run's files into one dict;
:func:`reports.draw.draw_figures` draws the figures from that dict (and from the trained models);
:func:`reports.markdown.render_markdown` writes REPORT.md from the dict alone. results.json is that dict, so every
number in REPORT.md is in results.json. The only typed-in numbers are the published ones in
:mod:`reports.published`, each with its source, and they go into results.json too. A stage that has not run gives
a "not run" line, never an error.
"""
from __future__ import annotations

import json
from pathlib import Path

from common import atomic
from common.config import Config, ConfigError
from common.run_layout import RunLayout
from reports.draw import draw_figures, play_agent_episodes, write_videos
from reports.markdown import render_markdown
from reports.results import collect_results, m_diagnostics
from reports.tables import final_folder

__all__ = ["make_report", "render_markdown", "add_videos"]


def _newest_input(layout: RunLayout) -> float:
    """The newest time stamp among the files a report reads: the run's top-level files, the files of vae/, rnn/
    and every controller folder (not the data, logs or backups: they change no number of the report)."""
    folders = [layout.root, layout.vae_dir, layout.rnn_dir, *(c.dir for c in layout.controllers())]
    stamps = [p.stat().st_mtime for folder in folders if folder.is_dir() for p in folder.iterdir()
              if p.is_file() and p != layout.reproduce_log]
    return max(stamps, default=0.0)


def is_current(cfg: Config, run_dir: Path) -> bool:
    """Whether ``<run>/report/`` was written after every file it reads last changed."""
    layout = RunLayout(run_dir)
    return (layout.report_md.exists() and layout.results_json.exists()
            and layout.results_json.stat().st_mtime >= _newest_input(layout))


def make_report(cfg: Config, run_dir: Path) -> Path:
    """Write ``<run_dir>/report/`` (REPORT.md, results.json, PNGs, the agent's GIFs) and return the folder."""
    layout = RunLayout(run_dir)
    out_dir = layout.report
    out_dir.mkdir(parents=True, exist_ok=True)
    results, controllers, reference = collect_results(cfg, run_dir)
    results["m_diagnostics"] = m_diagnostics(cfg, run_dir)
    draw_figures(cfg, run_dir, out_dir, results, controllers, reference)
    written = {e["file"] for e in results["figures"].values() if "file" in e}
    written |= {e["video"] for e in (results.get("agent_episodes") or {}).values() if e.get("video")}
    for stale in [*out_dir.glob("*.png"), *out_dir.glob("*.gif")]:  # of an earlier report, not made this time
        if stale.name not in written:
            stale.unlink()
    atomic.write_json(layout.results_json, results)
    atomic.write_text(layout.report_md, render_markdown(results))
    return out_dir


def add_videos(cfg: Config, run_dir: Path) -> dict:
    """The agent's GIFs for a report that exists, e.g. a committed result folder (SavedModels, no data to redraw
    every figure from): the report's episodes (seed ``evaluate.seed``) are played again, written as GIFs beside
    REPORT.md, and linked from REPORT.md, re-rendered from results.json. The replay's length is recorded beside
    the GIF: served from the SavedModels, the dream's floating-point path can differ from the Keras model's that
    drew the report, and a sampled dream then diverges."""
    layout = RunLayout(run_dir)
    if not layout.results_json.exists():
        raise ConfigError(f"{layout.results_json} not found: write the report first (python -m reports make)")
    results = json.loads(layout.results_json.read_text())
    recorded = results.get("agent_episodes") or {}
    episodes, _, played, vae = play_agent_episodes(cfg, run_dir, final_folder(results))
    for key, episode in episodes.items():
        if "error" in episode:
            raise ConfigError(f"the {key} episode could not be played: {episode['error']}")
    write_videos(run_dir, episodes, played, vae)
    # The report's episode records stay; the replay adds its GIF and that GIF's episode length.
    results["agent_episodes"] = {**recorded, **{
        k: {**(recorded.get(k) or e), "video": e["video"], "video_length": e["video_length"]}
        for k, e in episodes.items()}}
    atomic.write_json(layout.results_json, results)
    atomic.write_text(layout.report_md, render_markdown(results))
    return results["agent_episodes"]
