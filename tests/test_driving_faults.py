"""bench/driving_faults.py: the faults of an episode against hand-counted ones, the car's state as the env reports
it, a replay of what `controller evaluate` scored that gives the same episodes, and bad input (exit 2)."""
import json
import math
import shutil

import numpy as np
import pytest

from bench.driving_faults import episode_faults, main


def _state(x, heading, on_road, speed=10.0, steer=0.0, brake=0.0):
    return {"x": x, "y": 0.0, "heading": heading, "speed": speed, "wheels_on_road": on_road, "steer": steer,
            "gas": 0.5, "brake": brake, "skidding": 0}


def test_faults_against_hand_counted_steps():
    # A straight track along x (heading 0 at every tile), the car driving along it.
    track = np.array([[0.0, 0.0, x, 0.0] for x in range(10)])
    states = ([_state(1, 0.0, 4)] + [_state(2, 0.1, 0, 5.0)] * 3  # 3 steps off the road: an excursion of 3
              + [_state(3, 0.0, 2, steer=-0.4)] + [_state(4, 0.0, 0, 5.0, brake=1.0)] * 2  # 2 more off: too short
              + [_state(5, math.pi, 4), _state(5, -3.0, 4)]  # facing back twice in a row: one spin
              + [_state(6, 2 * math.pi + 0.2, 4)]  # a full turn round is facing the track again
              + [_state(7, 2.0, 1, 20.0)])  # 2 rad off the track's heading: backwards again, a second spin
    faults = episode_faults(states, track, excursion=3, windows=((3, 1), (1, 0)))
    assert faults["off_road"] == 5 and faults["excursions"] == 1
    assert faults["backwards"] == 3 and faults["spins"] == 2
    assert faults["speed_on_road"] == pytest.approx((10.0 * 5 + 20.0) / 6)
    # lead-ups (speed, |steer|, gas, brake, skidding) of each spin: 3 to 2 steps before it, then the last step
    np.testing.assert_allclose(faults["lead_up"], [[[7.5, 0.4 / 2, 0.5, 1 / 2, 0], [5, 0, 0.5, 1, 0]],
                                                   [[10, 0, 0.5, 0, 0], [10, 0, 0.5, 0, 0]]])
    # on the road and facing the track's way: steps 0, 4 and 9
    np.testing.assert_allclose(faults["on_road"]["sum"], [30, 0.4, 1.5, 0, 0])
    assert faults["on_road"]["count"] == 3


def test_car_state_at_the_start_of_a_track():
    from envs.carracing import CarRacing64Env

    env = CarRacing64Env()
    try:
        env.reset(seed=3)
        state = env.car_state()
        track = env.track
        assert state["wheels_on_road"] == 4 and state["speed"] == 0.0
        assert state["heading"] == pytest.approx(track[0, 1], abs=0.01)  # placed on tile 0, facing along it
        assert math.hypot(state["x"] - track[0, 2], state["y"] - track[0, 3]) < 1e-3
        env.step([0.5, 0.3, 0.95])
        state = env.car_state()  # the game steers by -steer and raises the gas by at most 0.1 a step
        assert (state["steer"], state["gas"], state["brake"]) == pytest.approx((-0.5, 0.1, 0.95))
    finally:
        env.close()


@pytest.mark.slow
def test_replays_the_episodes_that_evaluate_scored(car_run, tmp_path):
    from common.cli import save_run_config
    from common.config import make_config
    from controller.__main__ import main as controller_main
    from controller.model import controller_shape

    run = tmp_path / "run"
    shutil.copytree(car_run, run)
    cfg = make_config("carracing", "tiny", {"rnn.hidden_size": 32, "env.max_steps": 40, "es.workers": 1})
    save_run_config(cfg, run)
    params = np.random.default_rng(0).normal(0, 0.3, controller_shape(cfg).num_params)
    (run / "controller").mkdir()
    (run / "controller" / "best.json").write_text(json.dumps({"params": params.tolist(), "generation": 1}))
    with pytest.raises(SystemExit) as done:
        controller_main(["evaluate", "--run-dir", str(run), "--evaluate.split", "validation",
                         "--evaluate.episodes", "3"])
    assert done.value.code == 0
    evaluation = next((run / "controller").glob("evaluation_real_validation*.json"))
    out = tmp_path / "faults.txt"
    assert main([str(evaluation), "--run-dir", str(run), "--workers", "1", "--out", str(out)]) == 0
    text = out.read_text()
    assert "3 episodes replayed in gymnasium's game, 3 with the file's score and length" in text
    assert "all 3: score" in text
    (run / "controller" / "best.json").write_text(json.dumps({"params": (params + 1).tolist(), "generation": 2}))
    assert main([str(evaluation), "--run-dir", str(run), "--workers", "1"]) == 2  # not the C that was scored


def test_bad_input_exits_2(car_run, tmp_path, capsys):
    evaluation = tmp_path / "evaluation.json"
    evaluation.write_text(json.dumps({"backend": "envpool", "seeds": [1], "scores": [1.0], "lengths": [1]}))
    assert main([str(evaluation), "--run-dir", str(car_run)]) == 2
    assert "not gymnasium's game" in capsys.readouterr().err
    evaluation.write_text(json.dumps({"backend": "gymnasium", "seeds": [1], "scores": [1.0], "lengths": [1]}))
    assert main([str(evaluation), "--run-dir", str(tmp_path)]) == 2  # no run there
    assert "no CarRacing run" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.json"), "--run-dir", str(car_run)]) == 2
    assert main([str(evaluation), "--run-dir", str(car_run), "--excursion", "0"]) == 2
