"""bench/track_pace.py: each kind of episode's track length (rebuilt from its seed), turning and pace against
hand-computed values; a file played in envpool's game exits 2."""
import json
import math

import numpy as np

from bench.track_pace import main, turning_per_tile
from envs.carracing import CarRacing64Env


def _track(seed: int) -> np.ndarray:
    env = CarRacing64Env()
    try:
        env.reset(seed=seed)
        return env.track
    finally:
        env.close()


def _tiles(seed: int) -> int:
    return len(_track(seed))


def _headings(*heading):
    return [(0.0, h, 0.0, 0.0) for h in heading]


def test_turning_per_tile_against_hand_values():
    # changes 0.1, 0.2, 0, -0.3 (back to the first tile): mean |change| 0.15 rad
    assert math.isclose(turning_per_tile(_headings(0, 0.1, 0.3, 0.3)), math.degrees(0.15))
    # across the +-pi seam: +0.1 then -0.1, not 2 pi - 0.1
    assert math.isclose(turning_per_tile(_headings(math.pi - 0.05, -math.pi + 0.05)), math.degrees(0.1))
    # a lap whose last heading is a full turn above its first (as the generator closes a loop): changes 1, 1,
    # 2 pi - 2 (-2 modulo a turn) and -2 pi (0): mean |change| 1 rad
    assert math.isclose(turning_per_tile(_headings(0, 1, 2, 2 * math.pi)), math.degrees(1.0))
    assert 0 < turning_per_tile(_track(5)) < 17.8


def test_track_length_and_pace_per_kind_of_episode(tmp_path, capsys):
    # Both ran all 1000 steps (-100 of step cost): seed 5 visited half its tiles (far), seed 6 95% (near).
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"backend": "gymnasium", "seeds": [5, 6], "scores": [400.0, 850.0],
                                "lengths": [1000, 1000]}))
    assert main([str(path), "--out", str(tmp_path / "pace.txt")]) == 0
    far, near = _tiles(5), _tiles(6)
    turn_far, turn_near = turning_per_tile(_track(5)), turning_per_tile(_track(6))
    text = capsys.readouterr().out
    # pace: tiles visited per 100 steps = 100 x fraction x tiles / 1000
    assert (f"near 1: tracks of {near:.1f} tiles ({near}-{near}) turning {turn_near:.2f} degrees per tile, pace "
            f"{0.095 * near:.1f} tiles per 100 steps ({0.095 * near:.1f}-{0.095 * near:.1f}); far 1: tracks of "
            f"{far:.1f} tiles ({far}-{far}) turning {turn_far:.2f} degrees per tile, pace {0.05 * far:.1f}" in text)
    assert "finished" not in text.split("e.json: ")[1]
    assert "correlates" not in text  # two episodes fit three numbers: no line for it
    assert (tmp_path / "pace.txt").read_text().splitlines()[-1] == text.strip().splitlines()[-1]


def test_a_file_played_in_envpool_exits_2(tmp_path, capsys):
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"backend": "envpool", "seeds": [5], "scores": [400.0], "lengths": [1000]}))
    assert main([str(path)]) == 2
    assert "not gymnasium's game" in capsys.readouterr().err


def test_the_pace_against_turning_and_length(tmp_path, capsys):
    # Three finished laps of 800, 900 and 950 steps: every tile visited, so the pace is 100 x tiles / steps.
    seeds, steps = [5, 6, 7], [800, 900, 950]
    tracks = [_track(seed) for seed in seeds]
    tiles = np.array([len(t) for t in tracks], float)
    turning = np.array([turning_per_tile(t) for t in tracks])
    scores = [1000 - 0.1 * n for n in steps]
    path = tmp_path / "e.json"
    path.write_text(json.dumps({"backend": "gymnasium", "seeds": seeds, "scores": scores, "lengths": steps}))
    assert main([str(path)]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    pace = 100 * tiles / np.array(steps)
    # three episodes, three unknowns: the fit is exact, so it must give back each episode's pace
    numbers = line.split("least squares: pace = ")[1].replace(" x turning", "").replace(" x tiles / 100", "").split()
    a, b, c = float(numbers[0]), float(numbers[1]), float(numbers[2]) / 100
    assert np.allclose(a + b * turning + c * tiles, pace, atol=0.2)
    assert f"correlates {np.corrcoef(pace, turning)[0, 1]:+.2f} with the turning per tile" in line
    assert f"{np.corrcoef(pace, tiles)[0, 1]:+.2f} with the track's tiles" in line
