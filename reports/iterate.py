"""``python -m reports iterate --from PREV --run-dir NEW --episodes N``: one round of the paper's iterative training
(section 5: collect with the current agent, retrain M, retrain C), Doom.

NEW starts as PREV's data and models: ``rollouts/``, ``series/`` and ``vae/`` as hard links (no file there is ever
rewritten: new episodes get new files, V is not retrained), ``rnn/`` as a copy that training continues (its
``done.json`` dropped), and PREV's ``config.json``. Then, as stages of ``reports reproduce`` (same log and
progress view):

1. ``envs collect``: N more episodes, indices after PREV's, played by PREV's V, M and C with exploration
   (``--collect.policy agent --collect.agent_dir PREV``; ``collect.explore`` sets its share);
2. ``vae encode`` of the new episodes;
3. ``rnn train``: M continues on all episodes up to ``rnn.epochs`` epochs of the larger data set;
4. ``controller train``: a fresh CMA-ES in the new M's dream; then evaluate (real and dream) and the report.

Running the same command again resumes: NEW is only prepared when it holds no config.json yet (and appears
whole: it is built under a temporary name, then renamed), and every stage skips finished work.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from common import atomic
from common.cli import read_run_config
from common.config import Config, ConfigError
from common.run_layout import RunLayout
from controller.agent import has_models
from envs import episodes
from reports.reproduce import Stage, for_stages, run_stages, stages



def linked(layout: RunLayout) -> tuple[Path, ...]:
    """Folders NEW shares with PREV by hard links (read-only from here on: new episodes get new files)."""
    return layout.rollouts, layout.series, layout.vae_dir


def check_previous(prev: Path) -> Config:
    """PREV's config, or ConfigError when PREV is not a finished Doom run (nothing is written)."""
    cfg = read_run_config(prev) if prev.is_dir() else None
    layout = RunLayout(prev)
    if cfg is None:
        raise ConfigError(f"--from {prev}: not a run folder (no {layout.config.name})")
    if cfg.experiment != "doom":
        raise ConfigError(f"--from {prev}: iterative training is built for Doom's dream, not {cfg.experiment}")
    if not (has_models(prev) and layout.controller().best.exists() and layout.series.is_dir()):
        raise ConfigError(f"--from {prev}: needs V, M, series/ and controller/best.json (a finished run)")
    found = len(episodes.list_episode_files(layout.rollouts))
    if found != cfg.collect.episodes:
        raise ConfigError(f"--from {prev}: {found} rollouts, its config says {cfg.collect.episodes}; finish it first")
    return cfg


def prepare(prev: Path, new: Path) -> None:
    """Build NEW from PREV (see the module docstring) under a temporary name, then rename it into place."""
    tmp = new.with_name(new.name + atomic.TMP_MARK + "iterate")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    src, dst = RunLayout(prev), RunLayout(tmp)
    for a, b in zip(linked(src), linked(dst)):
        shutil.copytree(a, b, copy_function=os.link)
    # M's training continues in NEW: a copy, without the marker that it finished and its TensorBoard log.
    shutil.copytree(src.rnn_dir, dst.rnn_dir, ignore=shutil.ignore_patterns(src.rnn_done.name,
                                                                         src.rnn_tensorboard.name))
    shutil.copy2(src.config, dst.config)
    atomic.write_json(dst.iterate_info, {"from": str(prev)})
    tmp.rename(new)


def iteration_stages(cfg: Config, prev: Path, episodes_total: int) -> list[Stage]:
    collect = Stage("collect", "envs", "collect", settings=(
        ("collect.episodes", str(episodes_total)), ("collect.policy", "agent"),
        ("collect.agent_dir", str(for_stages(prev)))), done="envs.collect:is_complete")
    return [collect] + [s for s in stages(cfg) if s.name not in ("collect", "vae_train")]


def iterate(prev: Path, new: Path, new_episodes: int, overrides: list[str]) -> int:
    prev_cfg = check_previous(prev)
    if new_episodes < 1:
        raise ConfigError(f"--episodes must be >= 1, got {new_episodes}")
    layout = RunLayout(new)
    if new.exists() and not layout.config.exists():
        raise ConfigError(f"--run-dir {new} exists and is not a run made by iterate; choose another")
    if layout.config.exists():
        info = json.loads(layout.iterate_info.read_text()) if layout.iterate_info.exists() else {}
        if Path(info.get("from", "")).resolve() != prev.resolve():
            raise ConfigError(f"--run-dir {new} was not made from {prev}; choose another")
        print(f"[iterate] {new} exists: resuming", flush=True)
    else:
        prepare(prev, new)
        print(f"[iterate] {new}: data, V and M of {prev}", flush=True)
    cfg = read_run_config(new)
    plan = iteration_stages(cfg, prev, prev_cfg.collect.episodes + new_episodes)
    return run_stages(plan, cfg, new, overrides)
