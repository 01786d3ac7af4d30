"""Deployment of a meta-learned initialisation on synapse arrays: against the software inner loop."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason='meta-learning needs the extra: pip install "memsim[jax]"')
pytest.importorskip("sklearn", reason='the digits tasks need scikit-learn: pip install "memsim[jax]"')

from memsim.arrays import IdealArray, UpdatePolicy, preset_array  # noqa: E402
from memsim.datasets.fewshot import double_tasks, episodes  # noqa: E402
from memsim.meta import deploy, evaluate, layer_matrix, matrix_params  # noqa: E402
from memsim.snn.surrogate import Net, init_params  # noqa: E402


@pytest.fixture(scope="module")
def setup():
    tasks = double_tasks(per_class=6, steps=4, seed=0)
    net = Net(tasks.sample_shape[1:], hidden=(8,))
    ep = episodes(tasks, "test", n_way=5, k_shot=1, n_query=4, n_episodes=4, seed=1)
    return net, init_params(net, seed=2), ep


def test_layer_matrix_round_trip():
    w, b = np.arange(24.0).reshape(3, 2, 4), np.arange(4.0)
    m = layer_matrix(w, b)
    assert m.shape == (7, 4) and np.array_equal(m[-1], b)
    w2, b2 = matrix_params(m, w.shape)  # float32 holds these small integers exactly
    assert np.array_equal(np.asarray(w2), w) and np.array_equal(np.asarray(b2), b)


@pytest.mark.parametrize("bits", [None, 3])
def test_ideal_array_deployment_equals_the_software_inner_loop(setup, bits):
    net, params, ep = setup
    # Reference: evaluate(), the vmapped software inner loop (quantise_update for bits); the deployment
    # path (arrays, NumPy, one episode at a time) computes the same float32 weights up to summation order,
    # so the query decisions agree exactly unless a logit margin is below ~1e-6 (none here)
    soft = evaluate(net, params, 0.3, ep, steps=(0, 1, 2), bits=bits)
    dep = deploy(net, params, 0.3, ep, IdealArray, steps=2, policy=None if bits is None else UpdatePolicy(bits=bits))
    np.testing.assert_array_equal(dep.accuracy, soft)
    assert np.all(dep.write_error == 0)


def test_device_deployment_programs_the_initialisation_within_one_pulse(setup):
    net, params, ep = setup
    dep = deploy(net, params, 0.3, ep, lambda r, c: preset_array("vteam", r, c), steps=1,
                 policy=UpdatePolicy(bits=4), seed=0)
    # write_weights verifies to one set-pulse weight step (~1/300 of w_max for this preset); the initial
    # weights span headroom * w_max = 0.5 w_max, so the relative RMS error is below 2 / 300 * 2 ~ 0.013
    assert np.all(dep.write_error < 0.015)
    assert dep.accuracy.shape == (2, 4) and np.all((dep.accuracy >= 0) & (dep.accuracy <= 1))
    assert np.all(dep.update_error > 0)  # device writes are not exact


def test_bad_deploy_arguments(setup):
    net, params, ep = setup
    with pytest.raises(ValueError, match="headroom"):
        deploy(net, params, 0.3, ep, IdealArray, headroom=0)
    with pytest.raises(ValueError, match="array_for"):
        deploy(net, params, 0.3, ep, lambda r, c: np.zeros((r, c)))
