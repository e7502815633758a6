"""bench/paired_scores.py: the paired difference and the --cap counts against hand-computed values; evaluations
of other seeds exit 2."""
import json

from bench.paired_scores import main


def _write(path, seeds, scores, lengths):
    path.write_text(json.dumps({"seeds": seeds, "scores": scores, "lengths": lengths}))
    return str(path)


def test_paired_difference_and_episodes_ended_before_the_cap(tmp_path, capsys):
    a = _write(tmp_path / "a.json", [1, 2, 3], [100.0, 200.0, 300.0], [1000, 1000, 900])
    b = _write(tmp_path / "b.json", [1, 2, 3], [110.0, 230.0, 290.0], [800, 1000, 700])
    assert main([a, b, "--cap", "1000"]) == 0
    text = capsys.readouterr().out
    # differences 10, 30, -10: mean +10.0, sample std 20, standard error 20 / sqrt(3) = 11.5
    assert "paired by seed: +10.0 ± 11.5 (standard error); the second is higher on 2 of 3 seeds" in text
    assert "a.json: median 200.0; 1 of 3 episodes ended before step 1000; the 2 that ran to it average 150.0" in text
    assert "b.json: median 230.0; 2 of 3 episodes ended before step 1000; the 1 that ran to it average 230.0" in text


def test_other_seeds_exit_2(tmp_path, capsys):
    a = _write(tmp_path / "a.json", [1, 2], [1.0, 2.0], [5, 5])
    b = _write(tmp_path / "b.json", [2, 1], [1.0, 2.0], [5, 5])
    assert main([a, b]) == 2
    assert "not played on the same seeds" in capsys.readouterr().err
