"""Tests of memsim.solve.factor: pattern-reusing SPD factorisations and the CSC scatter map."""

import sys

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from memsim.solve.factor import SparseSPDFactor, csc_scatter_map

# Relative residual ||A x - b|| / ||b|| accepted from a factorisation.  A backward-stable solve in
# double precision (eps = 2.2e-16) leaves a residual of at most about eps * cond(A); the reduced
# Laplacians below (conductances log-uniform in [1e-5, 1] S, 119 unknowns) have cond(A) from ~3e4
# to ~2e5 (asserted < 3e5), so the bound is ~1e-11 to 7e-11.
RTOL_RESIDUAL = 1e-10
MAX_COND = 3e5

CHOLMOD_SKIP_REASON = (
    "scikit-sparse (CHOLMOD) is not installed: apt-get install libsuitesparse-dev; "
    'pip install "memsim[cholmod]"'
)


@pytest.fixture(params=["splu", "cholmod"])
def backend(request):
    if request.param == "cholmod":
        pytest.importorskip("sksparse.cholmod", reason=CHOLMOD_SKIP_REASON, exc_type=ImportError)
    return request.param


def reduced_laplacian_coo(n_nodes, n_extra, seed):
    """COO entries of a random connected graph's Laplacian with node 0 grounded (removed).

    Edges may repeat (parallel devices).
    Returns (rows, cols, edge_u, edge_v, n) with entry values given by `coo_values`.
    """
    rng = np.random.default_rng(seed)
    tree_v = np.arange(1, n_nodes)
    tree_u = np.array([rng.integers(0, v) for v in tree_v])  # random spanning tree: connected
    extra_u = rng.integers(0, n_nodes, n_extra)
    extra_v = (extra_u + rng.integers(1, n_nodes, n_extra)) % n_nodes  # no self-loops
    u = np.concatenate([tree_u, extra_u])
    v = np.concatenate([tree_v, extra_v])
    rows = np.concatenate([u, v, u, v])
    cols = np.concatenate([v, u, u, v])
    keep = (rows != 0) & (cols != 0)  # ground node 0: drop its row and column
    return rows[keep] - 1, cols[keep] - 1, keep, u.size, n_nodes - 1


def coo_values(g, keep):
    return np.concatenate([-g, -g, g, g])[keep]


def random_problem(seed, n_nodes=120, n_extra=200):
    rows, cols, keep, n_edges, n = reduced_laplacian_coo(n_nodes, n_extra, seed)
    pattern, pos = csc_scatter_map(rows, cols, n)
    rng = np.random.default_rng(seed + 1000)

    def draw():
        g = 10.0 ** rng.uniform(-5.0, 0.0, n_edges)  # S, log-uniform like R_on/R_off spreads
        vals = coo_values(g, keep)
        data = np.bincount(pos, weights=vals, minlength=pattern.nnz)
        a_ref = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsc()
        return data, a_ref

    return pattern, draw, rng


def rel_residual(a, x, b):
    return np.linalg.norm(a @ x - b) / np.linalg.norm(b)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solve_matches_spsolve(backend, seed):
    pattern, draw, rng = random_problem(seed)
    data, a = draw()
    assert np.linalg.cond(a.toarray()) < MAX_COND  # the range RTOL_RESIDUAL is argued for
    f = SparseSPDFactor(pattern, backend=backend)
    assert f.backend == backend
    f.factorize(data)
    b = rng.standard_normal(f.n)
    x = f.solve(b)
    x_ref = spsolve(a, b)
    assert x.shape == b.shape
    assert rel_residual(a, x, b) <= RTOL_RESIDUAL
    assert rel_residual(a, x_ref, b) <= RTOL_RESIDUAL
    # Forward error <~ eps * cond(A) < 7e-11 relative for both solutions; 1e-8 leaves a margin.
    np.testing.assert_allclose(x, x_ref, rtol=0, atol=1e-8 * np.abs(x_ref).max())


def test_refactorize_reuses_pattern(backend):
    pattern, draw, rng = random_problem(7)
    f = SparseSPDFactor(pattern, backend=backend)
    b = rng.standard_normal(f.n)
    xs = []
    for _ in range(3):
        data, a = draw()
        f.factorize(data)
        x = f.solve(b)
        assert rel_residual(a, x, b) <= RTOL_RESIDUAL
        xs.append(x)
    assert f.n_factorizations == 3
    assert not np.allclose(xs[0], xs[1])  # the new values were really used


def test_multiple_right_hand_sides(backend):
    pattern, draw, rng = random_problem(3)
    data, a = draw()
    f = SparseSPDFactor(pattern, backend=backend)
    f.factorize(data)
    b = rng.standard_normal((f.n, 4))
    x = f.solve(b)
    assert x.shape == (f.n, 4)
    assert rel_residual(a, x, b) <= RTOL_RESIDUAL
    for j in range(4):  # same as one column at a time (tolerance: rounding of the same factor)
        np.testing.assert_allclose(x[:, j], f.solve(b[:, j]), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(f.solve(np.asfortranarray(b)), x, rtol=1e-12, atol=1e-12)
    assert f.solve(np.zeros((f.n, 0))).shape == (f.n, 0)


def test_pattern_is_canonicalised(backend):
    # Unsorted, duplicated COO pattern: the data order is the sorted, merged CSC's.
    a = sp.csc_matrix(np.array([[4.0, -1, 0], [-1, 4, -2], [0, -2, 5]]))
    coo = a.tocoo()
    order = np.random.default_rng(0).permutation(coo.nnz)
    dup = sp.coo_matrix(
        (np.ones(coo.nnz + 1), (np.r_[coo.row[order], 1], np.r_[coo.col[order], 1])), shape=(3, 3)
    )
    f = SparseSPDFactor(dup, backend=backend)
    p = f.pattern
    assert p.has_sorted_indices and np.all(p.data == 1.0)
    np.testing.assert_array_equal(p.indptr, a.indptr)
    np.testing.assert_array_equal(p.indices, a.indices)
    f.factorize(a.data)
    b = np.array([1.0, 2.0, 3.0])
    assert rel_residual(a, f.solve(b), b) <= 1e-14  # cond(a) ~ 3, so eps-level


def test_empty_system(backend):
    f = SparseSPDFactor(sp.csc_matrix((0, 0)), backend=backend)
    f.factorize(np.zeros(0))
    assert f.solve(np.zeros(0)).shape == (0,)
    assert f.solve(np.zeros((0, 3))).shape == (0, 3)


def test_not_positive_definite_raises_cholmod():
    pytest.importorskip("sksparse.cholmod", reason=CHOLMOD_SKIP_REASON, exc_type=ImportError)
    a = sp.csc_matrix(np.array([[1.0, 2.0, 0], [2.0, 1.0, 0], [0, 0, 1.0]]))  # eigenvalue -1
    f = SparseSPDFactor(a, backend="cholmod")
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        f.factorize(a.data)
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        f.factorize(-a.data)
    with pytest.raises(RuntimeError, match="call factorize"):
        f.solve(np.ones(3))  # a failed factorisation leaves nothing to solve with


def test_singular_raises(backend):
    a = sp.csc_matrix(np.array([[1.0, 1.0], [1.0, 1.0]]))
    f = SparseSPDFactor(a, backend=backend)
    with pytest.raises(np.linalg.LinAlgError):
        f.factorize(np.zeros(4))
    assert f.n_factorizations == 0


def test_auto_backend_and_missing_cholmod(monkeypatch):
    try:
        import sksparse.cholmod  # noqa: F401

        expected = "cholmod"
    except ImportError:
        expected = "splu"
    a = sp.identity(3, format="csc")
    assert SparseSPDFactor(a).backend == expected
    monkeypatch.setitem(sys.modules, "sksparse", None)  # simulate scikit-sparse absent
    monkeypatch.setitem(sys.modules, "sksparse.cholmod", None)
    assert SparseSPDFactor(a).backend == "splu"
    with pytest.raises(ImportError) as err:
        SparseSPDFactor(a, backend="cholmod")
    msg = str(err.value)
    assert 'pip install "memsim[cholmod]"' in msg and "apt-get install libsuitesparse-dev" in msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    ("pattern", "kwargs", "match"),
    [
        (sp.csc_matrix(np.ones((2, 3))), {}, "square"),
        (sp.csc_matrix(np.array([[1.0, 1.0], [0.0, 1.0]])), {}, "symmetric"),
        (sp.csc_matrix(np.array([[1.0, 1.0], [1.0, 0.0]])), {}, "diagonal"),
        (np.eye(2), {}, "sparse"),
        (sp.identity(2, format="csc"), {"backend": "umfpack"}, "backend"),
    ],
)
def test_bad_pattern_raises(pattern, kwargs, match):
    with pytest.raises(ValueError, match=match):
        SparseSPDFactor(pattern, **kwargs)


def test_bad_data_and_rhs_raise(backend):
    f = SparseSPDFactor(sp.identity(3, format="csc"), backend=backend)
    with pytest.raises(RuntimeError, match="factorize"):
        f.solve(np.ones(3))
    for bad in (np.ones(2), np.ones((3, 1)), np.array([1.0, np.nan, 1.0]), np.ones(3) + 0j):
        with pytest.raises(ValueError, match="data"):
            f.factorize(bad)
    f.factorize(np.ones(3))
    for bad in (np.ones(2), np.ones((2, 2)), np.ones((3, 1, 1)), np.ones(3) + 1j):
        with pytest.raises(ValueError, match="b must"):
            f.solve(bad)


@pytest.mark.parametrize("seed", [0, 1])
def test_scatter_map_equals_coo_sum(seed):
    rng = np.random.default_rng(seed)
    n, m = 30, 400  # 400 entries in 900 slots: many duplicates
    rows, cols = rng.integers(0, n, m), rng.integers(0, n, m)
    vals = rng.uniform(0.5, 1.5, m)  # positive: no cancellation to an explicit zero
    pattern, pos = csc_scatter_map(rows, cols, n)
    ref = sp.coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsc()
    ref.sum_duplicates()
    assert pattern.shape == (n, n) and pattern.has_sorted_indices
    np.testing.assert_array_equal(pattern.indptr, ref.indptr)
    np.testing.assert_array_equal(pattern.indices, ref.indices)
    data = np.zeros(pattern.nnz)
    np.add.at(data, pos, vals)
    # Summation order may differ from scipy's: a few ulps (values ~1, at most ~5 terms).
    np.testing.assert_allclose(data, ref.data, rtol=1e-14)
    np.testing.assert_allclose(np.bincount(pos, vals, pattern.nnz), ref.data, rtol=1e-14)


def test_scatter_map_edge_cases_and_bad_input():
    pattern, pos = csc_scatter_map(np.zeros(0, int), np.zeros(0, int), 4)
    assert pattern.nnz == 0 and pattern.shape == (4, 4) and pos.shape == (0,)
    pattern, pos = csc_scatter_map(np.zeros(0, int), np.zeros(0, int), 0)
    assert pattern.shape == (0, 0)
    with pytest.raises(ValueError, match="equal length"):
        csc_scatter_map(np.array([0, 1]), np.array([0]), 2)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        csc_scatter_map(np.array([0, 2]), np.array([0, 1]), 2)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        csc_scatter_map(np.array([0, -1]), np.array([0, 1]), 2)
    with pytest.raises(ValueError, match="integer"):
        csc_scatter_map(np.array([0.0, 1.0]), np.array([0, 1]), 2)
    with pytest.raises(ValueError, match="n must"):
        csc_scatter_map(np.zeros(0, int), np.zeros(0, int), -1)
