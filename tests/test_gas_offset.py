"""bench/gas_offset.py: only the gas output moves, by the offset on its bias; bad input exits 2 and writes nothing."""
import json

import numpy as np

from bench import gas_offset
from common.config import make_config
from controller.model import act
from controller.shape import controller_shape


def test_offset_moves_only_the_gas_output(tmp_path):
    shape = controller_shape(make_config("carracing"))
    rng = np.random.default_rng(0)
    params = rng.normal(0, 0.1, shape.num_params)
    src = tmp_path / "best.json"
    src.write_text(json.dumps({"params": params.tolist(), "generation": 16}))
    out = tmp_path / "controller-gas" / "best.json"
    assert gas_offset.main([str(src), "--offset", "0.5", "--out", str(out)]) == 0
    shifted = json.loads(out.read_text())
    assert shifted["generation"] == 16 and shifted["gas_offset"] == 0.5
    x = rng.normal(0, 1, (4, shape.input_size)).astype(np.float32)
    before = np.asarray(act(params.astype(np.float32), x, shape))
    after = np.asarray(act(np.asarray(shifted["params"], np.float32), x, shape))
    # tanh(y + 0.5) for the gas column (index 1), steer and brake unchanged
    np.testing.assert_allclose(after[:, 1], np.tanh(np.arctanh(before[:, 1]) + 0.5), atol=1e-5)
    np.testing.assert_allclose(after[:, [0, 2]], before[:, [0, 2]], atol=1e-6)


def test_bad_input_exits_2_and_writes_nothing(tmp_path):
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"params": [1.0, 2.0]}))  # not a CarRacing C
    out = tmp_path / "gas" / "best.json"
    assert gas_offset.main([str(short), "--offset", "0.1", "--out", str(out)]) == 2
    assert gas_offset.main([str(tmp_path / "missing.json"), "--offset", "0.1", "--out", str(out)]) == 2
    assert not out.parent.exists()
