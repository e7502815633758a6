"""bench/v_latent_use.py: the per-dimension KL of V's first-frame posteriors, against hand-computed values."""
import numpy as np

from bench import v_latent_use


def test_kl_per_dimension_by_hand():
    # KL(N(mu, e^lv) || N(0,1)) = (mu^2 + e^lv - 1 - lv) / 2: mu 1, lv 0 -> 0.5; mu 0, lv -2 -> (e^-2 + 1) / 2.
    mu = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    logvar = np.array([[0.0, -2.0, 0.0], [0.0, -2.0, 0.0]])
    use = v_latent_use.latent_use(mu, logvar)
    expected = 0.5 + (np.exp(-2.0) + 1.0) / 2
    assert np.isclose(use["kl_total"], expected)
    assert use["dims_over_0.1"] == 2 and use["dims_over_0.5"] == 1  # 0.5 is not over 0.5
    assert np.allclose(use["largest"], [(np.exp(-2.0) + 1.0) / 2, 0.5, 0.0])


def test_authors_initial_z_sits_at_the_kl_floor():
    mu, logvar = v_latent_use.authors_initial_z()
    assert mu.shape == logvar.shape == (1000, 64)
    # kl_tolerance 0.5 x 64 dimensions: the authors' V trained down to the 32-nat floor of its KL loss
    assert abs(v_latent_use.latent_use(mu, logvar)["kl_total"] - 32.0) < 0.5
