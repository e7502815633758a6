"""Rounds of iterative training (reports/iterate.py): how a round's folder is built from the pass before it, and
what reproduce refuses. The whole procedure runs end to end in tests/test_pipeline.py (tiny: one round)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.cli import read_run_config, save_run_config
from common.config import ConfigError, make_config
from common.run_layout import RunLayout
from reports import iterate


def _finished_pass(root: Path, episodes: int = 4, m_steps: int = 24) -> Path:
    """A first pass as the stages leave it: config, rollouts, series, V, M (done.json), C's best.json."""
    cfg = make_config("doom", "tiny", {"collect.episodes": episodes})
    save_run_config(cfg, root)
    layout = RunLayout(root)
    for folder in (layout.rollouts, layout.series):
        folder.mkdir(parents=True)
        for i in range(episodes):
            (folder / f"episode_{i:06d}.npz").write_bytes(b"episode %d" % i)
    for path, text in ((layout.vae_model, "V"), (layout.rnn_model, "M"), (layout.rnn_history, "step\n1\n"),
                       (layout.controller().best, "{}")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    layout.rnn_done.write_text(json.dumps({"steps": m_steps}))
    (layout.rnn_tensorboard).mkdir()
    return root


def test_a_round_starts_from_the_pass_before_it(tmp_path):
    first = _finished_pass(tmp_path / "run")
    new = RunLayout(first).round_dir(1)
    iterate.prepare(first, new, 1)
    cfg, src, dst = read_run_config(new), RunLayout(first), RunLayout(new)
    # Data and V are shared by hard links: the same files, never copied or rewritten.
    for a, b in zip(iterate.linked(src), iterate.linked(dst)):
        for f in a.iterdir():
            assert (b / f.name).stat().st_ino == f.stat().st_ino
    # M continues from a copy, without the marker that it finished (so training goes on) or its TensorBoard log.
    assert dst.rnn_model.read_text() == "M" and dst.rnn_model.stat().st_ino != src.rnn_model.stat().st_ino
    assert not dst.rnn_done.exists() and not dst.rnn_tensorboard.exists()
    # Its config: iterate.episodes more episodes, played by the first pass's agent; iterate.rnn_steps more M steps.
    assert cfg.collect.episodes == 4 + cfg.iterate.episodes and cfg.collect.policy == "agent"
    assert Path(cfg.collect.agent_dir).resolve() == first.resolve()
    assert cfg.rnn.steps == 24 + cfg.iterate.rnn_steps
    assert json.loads(dst.iterate_info.read_text()) == {"from": str(first), "round": 1}
    assert iterate.passes(new) == [(0, first), (1, new)]
    assert not list(tmp_path.glob("run/*.tmp*")) and not list((tmp_path / "run").glob(".*"))


def test_a_round_is_not_built_from_an_unfinished_pass(tmp_path):
    first = _finished_pass(tmp_path / "run")
    (first / "rollouts" / "episode_000003.npz").unlink()  # collection was cut short
    new = RunLayout(first).round_dir(1)
    with pytest.raises(ConfigError, match="finish it first"):
        iterate.prepare(first, new, 1)
    assert not new.exists() and sorted(p.name for p in first.iterdir()) == ["config.json", "controller", "rnn",
                                                                            "rollouts", "series", "vae"]
    RunLayout(first).rnn_done.unlink()
    with pytest.raises(ConfigError, match="a finished pass"):
        iterate.check_previous(first)


def test_each_round_is_a_block_of_the_reproduce_plan(tmp_path):
    blocks = iterate.round_blocks(make_config("doom", "small", {"iterate.rounds": 2}), tmp_path)
    assert [b.label for b in blocks] == ["round1/", "round2/"]
    assert [b.run_dir for b in blocks] == [tmp_path / "round1", tmp_path / "round2"]
    assert "report" not in [s.name for s in blocks[0].stages] and blocks[1].stages[-1].name == "report"
    assert iterate.round_blocks(make_config("doom", "paper"), tmp_path) == []  # the authors: no rounds
    assert iterate.round_blocks(make_config("doom", "small"), tmp_path) == []  # nor the small preset (config.py)


def test_reproduce_refuses_flags_the_rounds_set_themselves():
    cfg = make_config("doom", "small", {"iterate.rounds": 2})
    with pytest.raises(ConfigError, match="its own config.json"):
        iterate.check_overrides(cfg, ["--collect.episodes", "5000"])
    iterate.check_overrides(cfg, ["--es.generations", "5"])  # any other flag passes on to every stage
    iterate.check_overrides(make_config("doom", "paper"), ["--collect.episodes", "5000"])  # no rounds: fine


def test_rounds_are_doom_only():
    with pytest.raises(ConfigError, match="iterate.rounds"):
        make_config("carracing", "tiny", {"iterate.rounds": 1})
