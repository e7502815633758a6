"""The paper's iterative training (section 5), Doom, as rounds of ``reports reproduce`` (``iterate.rounds``).

The run folder holds the first pass (random-policy data, V, M, the first C). Round k lives in ``<run>/round{k}/``,
built from round k-1 (the run folder for k = 1) when the round starts, under a temporary name, then renamed:

- ``rollouts/``, ``series/`` and ``vae/`` as hard links (no file there is ever rewritten: new episodes get new
  files; V is not retrained), ``rnn/`` as a copy that training continues (its ``done.json`` dropped);
- ``config.json``: round k-1's, with ``iterate.episodes`` more episodes to collect by round k-1's agent
  (``collect.policy agent``, ``collect.explore`` of its holds random) and ``iterate.rnn_steps`` more M steps;
- ``iterate.json``: {"from": round k-1, "round": k}.

Then its stages: collect, encode the new episodes, M continues on all episodes, a fresh C in the new M's dream,
its validation scores (real and dream); the last round adds the final test score and the report. Every stage
skips finished work, so the same reproduce command resumes any round; raising ``iterate.rounds`` on a finished run
adds rounds after the last one.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from common import atomic
from common.cli import read_run_config
from common.config import Config, ConfigError, make_config
from common.run_layout import RunLayout
from controller.agent import has_models
from envs import episodes
from reports.reproduce import Block, Stage, final_stages, for_stages, validation_stages

# Settings each round's config.json fixes: an override of one of them would undo the round.
ROUND_FIELDS = ("collect.episodes", "collect.policy", "collect.agent_dir", "rnn.steps")


def linked(layout: RunLayout) -> tuple[Path, ...]:
    """Folders a round shares with the round before by hard links (read-only from here on)."""
    return layout.rollouts, layout.series, layout.vae_dir


def check_previous(prev: Path) -> Config:
    """PREV's config, or ConfigError when PREV is not a finished Doom pass (nothing is written)."""
    cfg = read_run_config(prev) if prev.is_dir() else None
    layout = RunLayout(prev)
    if cfg is None:
        raise ConfigError(f"{prev}: not a run folder (no {layout.config.name})")
    if cfg.experiment != "doom":
        raise ConfigError(f"{prev}: iterative training is built for Doom's dream, not {cfg.experiment}")
    if not (has_models(prev) and layout.controller().best.exists() and layout.series.is_dir()
            and layout.rnn_done.exists()):
        raise ConfigError(f"{prev}: needs V, M (rnn/done.json), series/ and controller/best.json (a finished pass)")
    found = len(episodes.list_episode_files(layout.rollouts))
    if found != cfg.collect.episodes:
        raise ConfigError(f"{prev}: {found} rollouts, its config says {cfg.collect.episodes}; finish it first")
    return cfg


def round_config(prev_cfg: Config, prev: Path) -> Config:
    """The config of the round after ``prev``: more episodes, collected by prev's agent, and more M steps."""
    m_steps = int(json.loads(RunLayout(prev).rnn_done.read_text())["steps"])
    values = prev_cfg.dotted()
    values.update({"collect.episodes": prev_cfg.collect.episodes + prev_cfg.iterate.episodes,
                   "collect.policy": "agent", "collect.agent_dir": str(for_stages(prev)),
                   "rnn.steps": m_steps + prev_cfg.iterate.rnn_steps})
    return make_config(prev_cfg.experiment, prev_cfg.preset, values)


def prepare(prev: Path, new: Path, k: int) -> None:
    """Build round ``k`` in ``new`` from ``prev`` (see the module docstring); ``new`` appears whole or not at all."""
    cfg = round_config(check_previous(prev), prev)
    tmp = new.with_name(new.name + atomic.TMP_MARK + "iterate")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    src, dst = RunLayout(prev), RunLayout(tmp)
    for a, b in zip(linked(src), linked(dst)):
        shutil.copytree(a, b, copy_function=os.link)
    # M's training continues in the round: a copy, without the marker that it finished and its TensorBoard log.
    shutil.copytree(src.rnn_dir, dst.rnn_dir, ignore=shutil.ignore_patterns(src.rnn_done.name,
                                                                         src.rnn_tensorboard.name))
    atomic.write_text(dst.config, cfg.to_json() + "\n")
    atomic.write_json(dst.iterate_info, {"from": str(prev), "round": k})
    tmp.rename(new)


def round_stages(cfg: Config, final: bool) -> list[Stage]:
    """A round's stages: the agent's episodes, their encoding, M continued, a fresh C and its validation scores;
    the last round also the final test scores and the report."""
    out = [Stage("collect", "envs", "collect", done="envs.collect:is_complete"),
           Stage("vae_encode", "vae", "encode", done="vae.encode:is_complete"),
           Stage("rnn_train", "rnn", "train", done="rnn.train:is_complete"),
           Stage("controller_train", "controller", "train", done="reports.reproduce:controller_done"),
           *validation_stages()]
    return out + final_stages(cfg, validated=True) if final else out


def stage_prefix(k: int) -> str:
    """How the reproduce plan, the report and the published README name round k's stages ("round2/collect")."""
    return "" if k == 0 else f"round{k}/"


def round_blocks(cfg: Config, run_dir: Path) -> list[Block]:
    """One block per round 1..iterate.rounds, each prepared from the round before when it starts."""
    layout, rounds = RunLayout(run_dir), cfg.iterate.rounds
    return [Block(layout.round_dir(k), round_stages(cfg, k == rounds),
                  prepare=lambda k=k: prepare(layout.round_dir(k - 1), layout.round_dir(k), k),
                  label=stage_prefix(k))
            for k in range(1, rounds + 1)]


def passes(run_dir: Path) -> list[tuple[int, Path]]:
    """(round, folder) of every pass up to ``run_dir``, first pass first, following each round's iterate.json back
    (only ``[(0, run_dir)]`` for a run without rounds; a chain whose earlier folders are gone, e.g. a published copy,
    starts at the oldest one there)."""
    chain, folder = [], Path(run_dir)
    while True:
        try:
            info = json.loads(RunLayout(folder).iterate_info.read_text())
        except (OSError, ValueError):
            info = None
        chain.append((int(info.get("round", 0)) if isinstance(info, dict) else 0, folder))
        if not (isinstance(info, dict) and "from" in info and Path(info["from"]).is_dir()):
            return chain[::-1]
        folder = Path(info["from"])


def check_overrides(cfg: Config, overrides: list[str]) -> None:
    """ConfigError when a flag given to reproduce would change what the rounds fix in their own config.json."""
    given = {flag[2:] for flag in overrides[::2]}
    clash = sorted(given & set(ROUND_FIELDS))
    if cfg.iterate.rounds and clash:
        raise ConfigError(f"--{clash[0]}: each round of iterative training sets it in its own config.json "
                          f"(iterate.episodes, iterate.rnn_steps say how much a round adds)")
