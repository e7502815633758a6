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
    run = tmp_path / "doom-tiny"
    t0 = time.monotonic()
    result = _reproduce("doom", run, timeout=1200)
    first = time.monotonic() - t0
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    print(f"tiny doom pipeline: {first:.1f} s")

    report = run / "report"
    results = json.loads((report / "results.json").read_text())
    assert EXPECTED_KEYS <= set(results)
    assert results["experiment"] == "doom" and results["preset"] == "tiny"
    assert results["data"]["rollout_files"] > 0 and results["data"]["vae_model"] and results["data"]["rnn_model"]
    main = results["controllers"][0]
    assert main["folder"] == "controller" and main["training"]["generations"] >= 1
    real = json.loads((run / "controller" / "evaluation_real.json").read_text())
    assert main["real"]["mean"] == real["mean"] and main["real"]["scores"] == real["scores"]
    assert main["dream"], "the dream evaluation at the run's τ is missing"
    tau_row = next(r for r in results["tables"]["doom"] if r["ours"] and r["ours"]["folder"] == "controller")
    assert tau_row["ours"]["real"]["mean"] == real["mean"]
    cost = {r["stage"]: r for r in results["tables"]["cost"]}
    for stage in ("collect", "vae_train", "vae_encode", "rnn_train", "controller_train", "evaluate",
                  "evaluate_dream"):
        assert cost[stage]["wall_s"] is not None, f"timings.json lacks {stage}"
    for part in ("V", "M", "C"):
        row = next(p for p in results["tables"]["parameters"] if p["part"] == part)
        assert row["ours"] == row["published"]["count"], row
    text = (report / "REPORT.md").read_text()
    for name, entry in results["figures"].items():
        assert "file" in entry, f"figure {name}: {entry}"
        assert (report / entry["file"]).stat().st_size > 1000
        assert f"]({entry['file']})" in text

    # The report's GIFs of the agent (the episodes of the frame strip), linked from REPORT.md.
    for mode in ("real", "dream"):
        episode = results["agent_episodes"][mode]
        assert episode["video"] == f"agent_{mode}.gif" and f"]({episode['video']})" in text
        assert (report / episode["video"]).stat().st_size > 1000

    # A second run finds every stage complete: nothing is run, recorded or rewritten.
    timings = (run / "timings.json").read_text()
    stamps = {p: p.stat().st_mtime_ns for p in run.rglob("*") if p.is_file() and p.name != "reproduce.log"}
    t0 = time.monotonic()
    again = _reproduce("doom", run, timeout=600)
    second = time.monotonic() - t0
    assert again.returncode == 0, again.stderr[-4000:]
    print(f"second run (all stages complete): {second:.1f} s")
    assert again.stdout.count("complete, skipped") == 8, again.stdout[-3000:]
    assert (run / "timings.json").read_text() == timings
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps

    # `reports videos` (for a committed folder's report) replays the same episodes into the same report.
    before = (report / "REPORT.md").read_text()
    (report / "agent_real.gif").unlink()
    videos = subprocess.run([sys.executable, "-m", "reports", "videos", "--run-dir", str(run)], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert videos.returncode == 0, videos.stderr[-3000:]
    assert (report / "agent_real.gif").exists() and "Watch the agent" in (report / "REPORT.md").read_text()
    assert (report / "REPORT.md").read_text().split("Watch the agent")[0] == before.split("Watch the agent")[0]

    # One round of iterative training: the trained agent (plus exploration) collects 2 more episodes, M goes on,
    # a new C is trained and scored; the first run is left as it was.
    rollouts_before = sorted(p.name for p in (run / "rollouts").iterdir())
    m_steps = len((run / "rnn" / "history.csv").read_text().splitlines()) - 1
    nxt = tmp_path / "doom-tiny-iter1"
    argv = [sys.executable, "-m", "reports", "iterate", "--from", str(run), "--run-dir", str(nxt), "--add-episodes", "2"]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    from envs import episodes

    assert sorted(p.name for p in (run / "rollouts").iterdir()) == rollouts_before
    assert len(episodes.list_episode_files(nxt / "rollouts")) == 6
    assert len(episodes.list_episode_files(nxt / "series")) == 6
    for index in (4, 5):  # collected with the config's collect.seed + index, as every episode
        ep = episodes.load_rollout(episodes.episode_path(nxt / "rollouts", index), 1)
        assert (int(ep["seed"]) - index) % 1_000_003 == 0 and len(ep["obs"]) > 20
    assert json.loads((nxt / "config.json").read_text())["collect"]["policy"] == "agent"
    assert len((nxt / "rnn" / "history.csv").read_text().splitlines()) - 1 > m_steps  # M went on
    assert (nxt / "controller" / "evaluation_real.json").exists() and (nxt / "report" / "REPORT.md").exists()
    # Complete: the same command resumes and finds nothing to do; a folder not made from this run is refused.
    assert subprocess.run(argv, cwd=ROOT, capture_output=True, timeout=600).returncode == 0
    refused = subprocess.run(argv[:5] + [str(nxt), "--run-dir", str(run), "--add-episodes", "2"], cwd=ROOT,
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "not made from" in refused.stderr
