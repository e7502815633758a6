"""bench/z_noise.py: the noise that sampled z adds to a linear C's pre-tanh output, against hand-computed values;
bad input exits 2."""
import numpy as np

from bench.z_noise import main, noise_table


def test_noise_and_signal_against_hand_computed_values():
    # Two frames, two dimensions: dimension 0 used (sigma 0.1, mu moves), dimension 1 at the prior (sigma 1, mu 0).
    mu = np.array([[1.0, 0.0], [-1.0, 0.0]])
    logvar = np.log(np.array([[0.01, 1.0], [0.01, 1.0]]))
    w_z = np.array([[0.5, 0.0],    # action 0 reads the used dimension
                    [0.0, 2.0]])   # action 1 reads the unused one
    table = noise_table(mu, logvar, w_z)
    np.testing.assert_allclose(table["sigma_median"], [0.1, 1.0])
    np.testing.assert_allclose(table["mu_std"], [1.0, 0.0])
    np.testing.assert_allclose(table["noise_std"], [0.05, 2.0])  # sqrt(0.5^2 0.1^2), sqrt(2^2 1^2)
    np.testing.assert_allclose(table["signal_std"], [0.5, 0.0])  # std of (0.5, -0.5); mu_1 never moves


def test_bad_input_exits_2(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    assert "no run there" in capsys.readouterr().err
    assert main([str(tmp_path), "--episodes", "0"]) == 2
