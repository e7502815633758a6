"""bench/controller_soup.py: the soup is the members' parameter mean; bad input exits 2 and writes nothing."""
import json

import numpy as np

from bench import controller_soup


def _member(path, params):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"params": params}))
    return path


def test_soup_is_the_mean_of_the_members(tmp_path, capsys):
    a = _member(tmp_path / "a" / "best.json", [1.0, 0.0, 2.0])
    b = _member(tmp_path / "b" / "best.json", [0.0, 1.0, 0.0])  # authors' [params, score] format too:
    c = tmp_path / "c.json"
    c.write_text(json.dumps([[2.0, 2.0, 1.0], 123.0]))
    out = tmp_path / "soup" / "best.json"
    assert controller_soup.main([str(a), str(b), str(c), "--out", str(out)]) == 0
    soup = json.loads(out.read_text())
    assert np.allclose(soup["params"], [1.0, 1.0, 1.0]) and soup["sources"] == [str(a), str(b), str(c)]
    printed = capsys.readouterr().out
    assert " 0.00" in printed  # a and b: (1, 0, 2) . (0, 1, 0) = 0


def test_bad_input_exits_2_and_writes_nothing(tmp_path):
    a = _member(tmp_path / "a.json", [1.0, 2.0])
    short = _member(tmp_path / "short.json", [1.0])
    out = tmp_path / "soup" / "best.json"
    assert controller_soup.main([str(a), "--out", str(out)]) == 2  # one member
    assert controller_soup.main([str(a), str(short), "--out", str(out)]) == 2  # another shape
    assert controller_soup.main([str(a), str(tmp_path / "missing.json"), "--out", str(out)]) == 2
    assert not out.parent.exists()
    out.parent.mkdir()
    out.write_text("{}")
    assert controller_soup.main([str(a), str(a), "--out", str(out)]) == 2  # never overwrites
    assert out.read_text() == "{}"
