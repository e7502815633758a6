"""bench/paper_budget.py: the work it counts per stage (hand-computed for the paper preset), the episodes of a search
cut at a kept generation, and a missing folder exits 2 and writes nothing."""
import json

from bench import paper_budget
from common.config import make_config


def test_stage_work_counts_the_paper_presets_work():
    car, doom = make_config("carracing", "paper"), make_config("doom", "paper")
    assert paper_budget.stage_work(car, "collect") == 10_000
    assert paper_budget.stage_work(car, "vae_train") == 10 * 10_000
    assert paper_budget.stage_work(car, "rnn_train") == 4000 * 100 * 999  # steps x batch x length
    assert paper_budget.stage_work(car, "controller_train") == 1800 * 64 * 16 + 72 * 1024  # + 72 evaluations
    assert paper_budget.stage_work(doom, "rnn_train") == 400 * 10_000  # epochs x episodes
    small = make_config("doom", "small")
    assert paper_budget.stage_work(small, "vae_train") == 3 * 1000  # V trains on the first 1000 of 5,200


def test_search_episodes_stop_at_the_kept_generation(tmp_path):
    es = dict(population_size=4, num_rollouts=2, eval_rollouts=8)
    (tmp_path / "config.json").write_text(json.dumps({"es": es}))
    (tmp_path / "history.csv").write_text("generation,wall_seconds\n" + "".join(f"{g},{g}\n" for g in range(1, 6)))
    (tmp_path / "eval_history.csv").write_text("generation,eval_score\n2,1.0\n4,2.0\n")
    assert paper_budget.search_episodes(tmp_path) == (5 * 8 + 2 * 8, 5)
    assert paper_budget.search_episodes(tmp_path, 3) == (3 * 8 + 1 * 8, 3)


def test_committed_runs_project_and_a_missing_folder_exits_2(tmp_path, capsys):
    out = tmp_path / "budget.txt"
    assert paper_budget.main(["--doom", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert not out.exists() and "no such folder" in capsys.readouterr().err
    assert paper_budget.main(["--out", str(out)]) == 0
    text = out.read_text()
    assert text.count("paper preset, these stages") == 2
    assert "This project's chosen C" in text and "Doom's dream" in text


def test_a_bad_lineage_exits_2(capsys):
    assert paper_budget.main(["--lineage", "reports/results/carracing-chosen/controller:abc"]) == 2
    assert "whole number" in capsys.readouterr().err
    assert paper_budget.main(["--lineage", "reports/results/doom"]) == 2
    assert "not a controller folder" in capsys.readouterr().err
