"""bench/track_pace.py: each kind of episode's track length (rebuilt from its seed) and pace against hand-computed
values; a file played in envpool's game exits 2."""
import json

from bench.track_pace import main
from envs.carracing import CarRacing64Env


def _tiles(seed: int) -> int:
    env = CarRacing64Env()
    try:
        env.reset(seed=seed)
        return env.track_tiles
    finally:
        env.close()


def test_track_length_and_pace_per_kind_of_episode(tmp_path, capsys):
    # Both ran all 1000 steps (-100 of step cost): seed 5 visited half its tiles (far), seed 6 95% (near).
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"backend": "gymnasium", "seeds": [5, 6], "scores": [400.0, 850.0],
                                "lengths": [1000, 1000]}))
    assert main([str(path), "--out", str(tmp_path / "pace.txt")]) == 0
    far, near = _tiles(5), _tiles(6)
    text = capsys.readouterr().out
    # pace: tiles visited per 100 steps = 100 x fraction x tiles / 1000
    assert (f"near 1: tracks of {near:.1f} tiles ({near}-{near}), pace {0.095 * near:.1f} tiles per 100 steps "
            f"({0.095 * near:.1f}-{0.095 * near:.1f}); far 1: tracks of {far:.1f} tiles ({far}-{far}), pace "
            f"{0.05 * far:.1f}" in text)
    assert "finished" not in text.split("e.json: ")[1]
    assert (tmp_path / "pace.txt").read_text().splitlines()[-1] == text.strip().splitlines()[-1]


def test_a_file_played_in_envpool_exits_2(tmp_path, capsys):
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"backend": "envpool", "seeds": [5], "scores": [400.0], "lengths": [1000]}))
    assert main([str(path)]) == 2
    assert "not gymnasium's game" in capsys.readouterr().err
