"""End to end: ``python -m reports reproduce`` with the tiny preset runs every stage, then the report (slow).

The README's main command, run as a user would in a subprocess; then run again to check that complete stages are
skipped (every stage command exits at once when its work is done).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXPECTED_KEYS = {"experiment", "preset", "settings", "data", "controllers", "reference_curve", "tables", "machine",
                 "published", "figures"}


def _reproduce(experiment: str, run_dir: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reports", "reproduce", "--experiment", experiment,
                           "--preset", "tiny", "--run-dir", str(run_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_tiny_doom_pipeline_end_to_end(tmp_path):
    """The first pass, one round of iterative training (tiny: iterate.rounds 1), the τ table (tiny: τ 1.30), the
    choice of the final agent on the validation seeds, its test score, then the report of the last round, from
    one command."""
    run = tmp_path / "doom-tiny"
    final = run / "round1"
    t0 = time.monotonic()
    result = _reproduce("doom", run, timeout=1200)
    first = time.monotonic() - t0
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    print(f"tiny doom pipeline: {first:.1f} s")

    report = final / "report"
    results = json.loads((report / "results.json").read_text())
    assert EXPECTED_KEYS <= set(results)
    assert results["experiment"] == "doom" and results["preset"] == "tiny"
    assert results["data"]["rollout_files"] > 0 and results["data"]["vae_model"] and results["data"]["rnn_model"]
    # The final agent: the better on the validation seeds of round 1's C (τ 1.15) and the τ table's (τ 1.30), the
    # only one scored on the test seeds.
    choice = json.loads((final / "choice.json").read_text())
    means = {c["folder"]: c["mean"] for c in choice["candidates"]}
    assert list(means) == ["controller", "controller-tau1.30"]
    for folder, mean in means.items():
        scored = json.loads((final / folder / "evaluation_real_validation.json").read_text())
        assert mean == scored["mean"] and all(s >= 500_000_000 for s in scored["seeds"])
    chosen = "controller-tau1.30" if means["controller-tau1.30"] > means["controller"] else "controller"
    assert choice["folder"] == chosen == results["final"]["folder"]
    other = ({"controller", "controller-tau1.30"} - {chosen}).pop()
    assert not (final / other / "evaluation_real.json").exists()
    main = next(c for c in results["controllers"] if c["folder"] == chosen)
    assert main["training"]["generations"] >= 1
    real = json.loads((final / chosen / "evaluation_real.json").read_text())
    assert real["seeds"][0] == 40_000_000  # the Doom experiment's fresh test range
    assert main["real"]["mean"] == real["mean"] and main["real"]["scores"] == real["scores"]
    assert main["dream"], "the dream evaluation at the final agent's τ is missing"
    tau_row = next(r for r in results["tables"]["doom"] if r["ours"] and r["ours"]["folder"] == chosen)
    assert tau_row["ours"]["real"]["mean"] == real["mean"]
    # The τ table: C at τ 1.30 in the final M's dream, scored on the validation seeds.
    sweep = next(r for r in results["tables"]["doom"] if r["ours"] and r["ours"]["folder"] == "controller-tau1.30")
    assert sweep["ours"]["real_validation"]["mean"] == means["controller-tau1.30"]
    assert (sweep["ours"]["real"] is None) == (chosen == "controller")
    cost = {r["stage"]: r for r in results["tables"]["cost"]}
    for stage in ("collect", "vae_train", "vae_encode", "rnn_train", "controller_train", "validate",
                  "validate_dream", "round1/collect", "round1/rnn_train", "round1/controller_train",
                  "round1/controller_train-tau1.30", "round1/choose"):
        assert cost[stage]["wall_s"] is not None, f"the cost table lacks {stage}"
    assert [r["round"] for r in results["rounds"]] == [0, 1]
    assert results["rounds"][0]["validation_real"]["mean"] == json.loads(
        (run / "controller" / "evaluation_real_validation.json").read_text())["mean"]
    for part in ("V", "M", "C"):
        row = next(p for p in results["tables"]["parameters"] if p["part"] == part)
        assert row["ours"] == row["published"]["count"], row
    text = (report / "REPORT.md").read_text()
    assert "1 round of iterative training" in text.splitlines()[0]
    for name, entry in results["figures"].items():
        assert "file" in entry, f"figure {name}: {entry}"
        assert (report / entry["file"]).stat().st_size > 1000
        assert f"]({entry['file']})" in text

    # The round: the first pass's agent (plus exploration) collected 2 more episodes into the round's folder, M
    # went on there, a fresh C was trained; the first pass is left as it was and scored on validation seeds only.
    from envs import episodes

    assert len(episodes.list_episode_files(run / "rollouts")) == 4
    assert len(episodes.list_episode_files(final / "rollouts")) == 6
    assert len(episodes.list_episode_files(final / "series")) == 6
    for index in (4, 5):  # collected with the config's collect.seed + index, as every episode
        ep = episodes.load_rollout(episodes.episode_path(final / "rollouts", index), 1)
        assert (int(ep["seed"]) - index) % 1_000_003 == 0 and len(ep["obs"]) > 20
    assert json.loads((final / "config.json").read_text())["collect"]["policy"] == "agent"
    assert results["rounds"][1]["m_steps"] == results["rounds"][0]["m_steps"] + 4  # iterate.rnn_steps
    assert not (run / "controller" / "evaluation_real.json").exists()
    tag = "" if chosen == "controller" else "-tau1.30"
    for stage in ("evaluate", "evaluate_dream"):  # the final agent's test stages, under its own name
        assert cost[f"round1/{stage}{tag}"]["wall_s"] is not None

    # The report's GIFs of the agent (the episodes of the frame strip), linked from REPORT.md.
    for mode in ("real", "dream"):
        episode = results["agent_episodes"][mode]
        assert episode["video"] == f"agent_{mode}.gif" and f"]({episode['video']})" in text
        assert (report / episode["video"]).stat().st_size > 1000

    # A second run finds every stage of every round complete: nothing is run, recorded or rewritten.
    timings = [(p / "timings.json").read_text() for p in (run, final)]
    stamps = {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file() and p.name != "reproduce.log"}
    t0 = time.monotonic()
    again = _reproduce("doom", run, timeout=600)
    second = time.monotonic() - t0
    assert again.returncode == 0, again.stderr[-4000:]
    print(f"second run (all stages complete): {second:.1f} s")
    assert again.stdout.count("complete, skipped") == 20, again.stdout[-3000:]
    assert [(p / "timings.json").read_text() for p in (run, final)] == timings
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    # reproduce runs on the run folder, not on one of its rounds.
    refused = subprocess.run([sys.executable, "-m", "reports", "reproduce", "--run-dir", str(final)], cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "is a round of iterative training" in refused.stderr

    # `reports videos` (for a committed folder's report) replays the same episodes into the same report.
    before = (report / "REPORT.md").read_text()
    (report / "agent_real.gif").unlink()
    videos = subprocess.run([sys.executable, "-m", "reports", "videos", "--run-dir", str(final)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert videos.returncode == 0, videos.stderr[-3000:]
    assert (report / "agent_real.gif").exists() and "Watch the agent" in (report / "REPORT.md").read_text()
    assert (report / "REPORT.md").read_text().split("Watch the agent")[0] == before.split("Watch the agent")[0]
