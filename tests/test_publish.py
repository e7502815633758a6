"""``python -m reports publish``: copies the committable part of a finished run and writes its README."""
import json
import subprocess
import sys
from pathlib import Path

from common.cli import save_run_config
from common.config import make_config

ROOT = Path(__file__).resolve().parents[1]


def _finished_run(root: Path) -> Path:
    run = root / "run"
    save_run_config(make_config("doom", "tiny"), run)
    (run / "timings.json").write_text(json.dumps({"collect": {"wall_s": 12.5, "cpu_s": 20.0, "parts": 1,
                                                              "machine": "x86_64, 2 cores"}}))
    (run / "reproduce.log").write_text("===== 2026-01-01 00:00:00 python -m envs collect --experiment doom\n"
                                       "collect: output line\n"
                                       "===== 2026-01-01 00:01:00 python -m vae train --experiment doom\n")
    for rel in ("vae/saved_model/saved_model.pb", "rnn/saved_model/variables/variables.data", "report/REPORT.md",
                "controller/best.json", "controller/history.csv", "controller/evaluation_real.json",
                "controller/es_state.pkl", "rollouts/episode_000000.npz", "vae/model.keras", "rnn/history.csv"):
        (run / rel).parent.mkdir(parents=True, exist_ok=True)
        (run / rel).write_text(rel)
    return run


def _publish(run: Path, to: Path):
    return subprocess.run([sys.executable, "-m", "reports", "publish", "--run-dir", str(run), "--to", str(to)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_publish_copies_the_small_files_and_writes_the_readme(tmp_path):
    run, to = _finished_run(tmp_path), tmp_path / "results" / "doom"
    result = _publish(run, to)
    assert result.returncode == 0, result.stderr
    got = sorted(str(p.relative_to(to)) for p in to.rglob("*") if p.is_file())
    assert got == sorted(["README.md", "config.json", "timings.json", "rnn/history.csv",
                          "vae/saved_model/saved_model.pb", "rnn/saved_model/variables/variables.data",
                          "report/REPORT.md", "controller/best.json", "controller/history.csv",
                          "controller/evaluation_real.json"])  # no CMA state, rollouts or Keras files
    readme = (to / "README.md").read_text()
    assert "    2026-01-01 00:00:00 python -m envs collect --experiment doom" in readme
    assert "python -m vae train" in readme and "output line" not in readme
    assert "| collect | 12.5 s | 20.0 s | 1 | x86_64, 2 cores |" in readme
    assert f"cp -r {to} /tmp/rescore && python -m controller evaluate --run-dir /tmp/rescore --seed S" in readme
    assert not list(to.parent.glob(".*tmp*"))  # no temp folder left


def test_a_chosen_final_agent_is_published_with_its_choice_and_its_re_score_command(tmp_path):
    run, to = _finished_run(tmp_path), tmp_path / "results" / "doom"
    (run / "controller-tau1.30").mkdir()
    (run / "controller-tau1.30" / "best.json").write_text("{}")
    (run / "choice.json").write_text(json.dumps({"tag": "tau1.30", "folder": "controller-tau1.30",
                                                 "temperature": 1.3, "candidates": []}))
    result = _publish(run, to)
    assert result.returncode == 0, result.stderr
    assert json.loads((to / "choice.json").read_text())["tag"] == "tau1.30"
    assert ("python -m controller evaluate --run-dir /tmp/rescore --tag tau1.30 --es.temperature 1.3 --seed S"
            in (to / "README.md").read_text())


def test_publish_of_an_unfinished_run_exits_2_and_writes_nothing(tmp_path):
    run = _finished_run(tmp_path)
    (run / "controller" / "best.json").unlink()
    to = tmp_path / "out"
    result = _publish(run, to)
    assert result.returncode == 2 and result.stderr.startswith("error:") and "controller" in result.stderr
    assert not to.exists() and not list(tmp_path.glob(".out*"))


def test_readme_names_the_one_command_only_when_it_made_the_whole_run(tmp_path):
    from reports.publish import one_command
    from reports.reproduce import stages

    run = _finished_run(tmp_path)
    assert one_command(run, ["2026-01-01 00:00:00 python -m envs collect --experiment doom"]) is None
    cfg = make_config("doom", "tiny", {"iterate.rounds": 0})
    logged = [f"2026-01-01 00:00:00 python {' '.join(s.argv(cfg, Path('runs/x'), [])[1:])}" for s in stages(cfg)]
    expected = "python -m reports reproduce --experiment doom --preset tiny --run-dir runs/x"
    assert one_command(run, logged[:3]) == expected
    assert one_command(run, logged + [logged[0] + " --es.generations 5"]) is None  # a flag reproduce does not add
