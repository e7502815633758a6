"""bench/paired_scores.py: the paired difference, the --cap counts and the --solved split against hand-computed
values; evaluations of other seeds exit 2."""
import json

import pytest

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


def test_the_distance_below_solved_split_over_kinds_of_episode(tmp_path, capsys):
    # As CarRacing scores them (-0.1 per step, 1000 for all tiles): a lap finished at step 800 (920.0), one that
    # ran to step 1000 having visited 95% of the tiles (850.0) and one 50% (400.0); mean 723.3, 176.7 below 900.
    a = _write(tmp_path / "a.json", [1, 2, 3], [920.0, 850.0, 400.0], [800, 1000, 1000])
    assert main([a, a, "--cap", "1000", "--solved", "900"]) == 0
    assert (f"{a}: 176.7 below 900: near 1 (mean 850.0, +16.7), far 1 (mean 400.0, +166.7), finished 1 (mean "
            f"920.0, -6.7), left the playfield 0 (near: ran to step 1000 having visited >= 90% of the tiles; far: "
            f"fewer)"
            in capsys.readouterr().out)
    with pytest.raises(SystemExit) as stop:
        main([a, a, "--solved", "900"])
    assert stop.value.code == 2


def test_other_seeds_exit_2(tmp_path, capsys):
    a = _write(tmp_path / "a.json", [1, 2], [1.0, 2.0], [5, 5])
    b = _write(tmp_path / "b.json", [2, 1], [1.0, 2.0], [5, 5])
    assert main([a, b]) == 2
    assert "not played on the same seeds" in capsys.readouterr().err


def test_an_unreadable_file_exits_2_naming_it(tmp_path, capsys):
    a = _write(tmp_path / "a.json", [1], [1.0], [5])
    (tmp_path / "b.json").write_text("{not json")
    assert main([a, str(tmp_path / "b.json")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'b.json'}: ")


def test_three_controllers_each_against_the_first_and_the_highest_mean(tmp_path, capsys):
    a = _write(tmp_path / "a.json", [1, 2], [100.0, 200.0], [5, 5])
    b = _write(tmp_path / "b.json", [1, 2], [130.0, 190.0], [5, 5])
    c = _write(tmp_path / "c.json", [1, 2], [90.0, 250.0], [5, 5])
    assert main([a, b, c]) == 0
    text = capsys.readouterr().out
    # b - a: 30, -10: mean +10.0, sample std 28.28, standard error 20.0; c - a: -10, 50: +20.0 ± 30.0
    assert "second - first, paired by seed: +10.0 ± 20.0 (standard error); the second is higher on 1 of 2" in text
    assert "third - first, paired by seed: +20.0 ± 30.0 (standard error); the third is higher on 1 of 2" in text
    assert f"highest mean: {c} (170.0)" in text


def test_one_file_exits_2(tmp_path):
    a = _write(tmp_path / "a.json", [1], [1.0], [5])
    with pytest.raises(SystemExit) as stop:
        main([a])
    assert stop.value.code == 2
