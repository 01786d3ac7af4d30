"""The compiled sparse ``L D L^T`` (memsim.solve.ldl) against its NumPy twin and NumPy's solver.

References: :func:`ldl_numpy` (dense ``L D L^T`` in NumPy, the twin of ``ldl_numeric``), the
nonzero pattern of that dense factor (for ``ldl_symbolic``: with random values no entry cancels,
so the numeric nonzeros are the structural ones), and :func:`numpy.linalg.solve`.

Tolerances: the test matrices are weighted grid Laplacians plus a diagonal of at least 0.1 with
weights in [0.01, 1.01], so kappa <= (8 * 1.01 + 1.1) / 0.1 ~ 100; factors and solutions of
two backward-stable algorithms then agree to a few kappa * eps ~ 1e-13 of their scale, asserted
at 1e-11 (a hundredfold margin for the different order of the sums).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.sparse as sp

from memsim.solve.ldl import (
    factor_flops,
    fill_reducing_order,
    ldl_groups,
    ldl_numeric,
    ldl_numpy,
    ldl_solve,
    ldl_symbolic,
)

TOL = 1e-11


def grid_matrix(rows, cols, seed, extra=0):
    """SPD matrix: weighted grid Laplacian, ``extra`` random long-range edges, diagonal + [0.1, 1.1]."""
    rng = np.random.default_rng(seed)
    n = rows * cols
    idx = np.arange(n).reshape(rows, cols)
    u = np.concatenate([idx[:-1].ravel(), idx[:, :-1].ravel(), rng.integers(0, n, extra)])
    v = np.concatenate([idx[1:].ravel(), idx[:, 1:].ravel(), rng.integers(0, n, extra)])
    keep = u != v
    u, v = u[keep], v[keep]
    w = rng.random(u.size) + 0.01
    lap = sp.coo_matrix((-w, (u, v)), shape=(n, n))
    lap = lap + lap.T
    lap = lap - sp.diags(np.asarray(lap.sum(axis=1)).ravel()) + sp.diags(0.1 + rng.random(n))
    a = sp.csc_matrix(lap)
    a.sum_duplicates()
    a.sort_indices()
    return a


def factorise(a, perm):
    n = a.shape[0]
    perm = np.asarray(perm, dtype=np.int64)
    pinv = np.empty(n, dtype=np.int64)
    pinv[perm] = np.arange(n)
    ip, ix = a.indptr.astype(np.int64), a.indices.astype(np.int64)
    parent, lp = ldl_symbolic(ip, ix, perm, pinv)
    nnz = int(lp[-1])
    li, lx, d = np.zeros(nnz, np.uint32), np.zeros(nnz), np.zeros(n)
    ws = (np.zeros(n), np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64))
    status = ldl_numeric(ip, ix, a.data, perm, pinv, parent, lp, li, lx, d, *ws)
    return status, parent, lp, li, lx, d


@pytest.mark.parametrize("ordering", ["natural", "random", "fill-reducing"])
@pytest.mark.parametrize("seed", [0, 1])
def test_ldl_matches_dense_numpy_twin(ordering, seed):
    a = grid_matrix(7, 9, seed, extra=6)
    n = a.shape[0]
    if ordering == "natural":
        perm = np.arange(n)
    elif ordering == "random":
        perm = np.random.default_rng(seed).permutation(n)
    else:
        perm = fill_reducing_order(a)[0]
    status, parent, lp, li, lx, d = factorise(a, perm)
    assert status == n
    dense = a.toarray()[np.ix_(perm, perm)]
    assert np.linalg.cond(dense) < 200  # the bound the tolerance rests on
    l_ref, d_ref = ldl_numpy(dense)
    l_sparse = sp.csc_matrix((lx, li.astype(np.int64), lp), shape=(n, n)).toarray() + np.eye(n)
    # symbolic: exactly the structural nonzeros of the dense factor (rows sorted in each column)
    np.testing.assert_array_equal(np.tril(l_sparse, -1) != 0, np.tril(l_ref, -1) != 0)
    assert all(np.all(np.diff(li[lp[j]:lp[j + 1]].astype(np.int64)) > 0) for j in range(n))
    np.testing.assert_allclose(l_sparse, l_ref, rtol=0, atol=TOL)
    np.testing.assert_allclose(d, d_ref, rtol=TOL, atol=0)
    b = np.random.default_rng(seed + 10).standard_normal(n)
    ref = np.linalg.solve(a.toarray(), b)
    for groups in (np.ones(n, np.int64), ldl_groups(parent, lp)):
        x, work = np.empty(n), np.empty(n)
        ldl_solve(lp, li, lx, d, perm, groups, b, x, work)
        np.testing.assert_allclose(x, ref, rtol=0, atol=TOL * np.abs(ref).max())


def test_ldl_groups_follow_supernode_chains():
    # a dense 6 x 6: every column is a chain of the next, runs of at most 4
    a = sp.csc_matrix(np.full((6, 6), -0.1) + np.eye(6) * 2)
    _, parent, lp, *_ = factorise(a, np.arange(6))
    assert ldl_groups(parent, lp).tolist() == [4, 2]
    assert ldl_groups(parent, lp, max_size=1).tolist() == [1] * 6
    # a tridiagonal (path): column j has the single entry j + 1, the next has one too: no chain
    # except the last two (column n - 2 holds {n - 1}, and column n - 1 holds nothing)
    t = sp.csc_matrix(sp.diags([-1.0, 3.0, -1.0], [-1, 0, 1], shape=(5, 5)))
    _, parent, lp, *_ = factorise(t, np.arange(5))
    assert ldl_groups(parent, lp).tolist() == [1, 1, 1, 2]


def test_ldl_numeric_reports_the_first_non_positive_pivot():
    a = sp.csc_matrix(np.array([[2.0, 1.0, 0.0], [1.0, 2.0, 3.0], [0.0, 3.0, 1.0]]))  # indefinite
    status = factorise(a, np.arange(3))[0]
    l_ref = np.linalg.eigvalsh(a.toarray())
    assert l_ref.min() < 0
    assert status == 2  # D = [2, 1.5, 1 - 9/1.5 = -5]
    with pytest.raises(np.linalg.LinAlgError):
        ldl_numpy(a.toarray())


def test_fill_reducing_order_reduces_fill_with_and_without_cholmod(monkeypatch):
    a = grid_matrix(30, 30, 3)
    natural = factorise(a, np.arange(a.shape[0]))[2]
    perm, pinv, parent, lp = fill_reducing_order(a)
    assert sorted(perm.tolist()) == list(range(a.shape[0]))
    np.testing.assert_array_equal(pinv[perm], np.arange(a.shape[0]))
    # the natural order of a 30 x 30 grid is banded (bandwidth 30): ~30 n entries; minimum degree
    # orderings give O(n log n), here under half of it
    assert factor_flops(lp) < factor_flops(natural) / 2
    monkeypatch.setitem(sys.modules, "sksparse", None)  # scikit-sparse absent: SuperLU's MMD
    perm2, _, _, lp2 = fill_reducing_order(a)
    assert sorted(perm2.tolist()) == list(range(a.shape[0]))
    assert factor_flops(lp2) < factor_flops(natural) / 2
    status = factorise(a, perm2)[0]
    assert status == a.shape[0]
