"""Sparse ``L D L^T`` factorisation of SPD matrices in compiled code.

The time loop of large networks (:mod:`memsim.solve.sparse_step`) refactorises
and solves the reduced Laplacian ``L_FF`` inside one numba kernel, so the
factorisation itself must be callable from numba. These kernels are the
up-looking algorithm of Davis's LDL package (T. A. Davis, "Algorithm 849: a
concise sparse Cholesky factorization package", ACM TOMS 31(4), 2005):

:func:`ldl_symbolic`
    elimination tree and column counts of ``L`` for ``A[p][:, p]``, once per
    sparsity pattern;
:func:`ldl_numeric`
    ``A[p][:, p] = L D L^T`` (``L`` unit lower triangular, CSC, rows sorted),
    row by row; each row of ``L`` is a sparse triangular solve whose pattern is
    the reach of the row's entries in the elimination tree;
:func:`ldl_solve`
    ``A x = b`` from the factors.

The permutation ``p`` is a fill-reducing ordering computed once per pattern by
:func:`fill_reducing_order` (CHOLMOD's AMD or METIS orderings when
scikit-sparse is installed, the smaller fill wins; SuperLU's multiple minimum
degree otherwise).

Twins (compared in the tests): :func:`ldl_numpy` (dense ``L D L^T`` in NumPy)
for :func:`ldl_numeric`, and the nonzero pattern of that dense factor for
:func:`ldl_symbolic`; :func:`ldl_solve` against :func:`numpy.linalg.solve`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

from memsim.solve.factor import mmd_ordering

#: Smallest system whose ordering also tries METIS (on crossbars its analysis, ~5 us per row,
#: costs more than it saves in solves below this size).
_METIS_MIN_ROWS = 20_000

__all__ = ["ldl_symbolic", "ldl_numeric", "ldl_solve", "ldl_groups", "ldl_numpy", "fill_reducing_order", "factor_flops"]


@njit(cache=True)
def ldl_symbolic(indptr, indices, perm, pinv):
    """Elimination tree and column pointers of ``L`` for ``A[perm][:, perm]``.

    Parameters
    ----------
    indptr, indices : CSC structure of a structurally symmetric ``A`` (n x n).
    perm, pinv : (n,) int64 new -> old ordering and its inverse.

    Returns
    -------
    parent : (n,) int64 elimination tree (-1 at roots).
    lp : (n + 1,) int64 column pointers of the strict lower triangle of ``L``.
    """
    n = perm.shape[0]
    parent = np.empty(n, dtype=np.int64)
    lnz = np.zeros(n, dtype=np.int64)
    flag = np.empty(n, dtype=np.int64)
    for k in range(n):
        parent[k] = -1
        flag[k] = k
        kk = perm[k]
        for p in range(indptr[kk], indptr[kk + 1]):
            i = pinv[indices[p]]
            if i < k:
                # walk from i towards the root until a node already visited for row k
                while flag[i] != k:
                    if parent[i] == -1:
                        parent[i] = k
                    lnz[i] += 1
                    flag[i] = k
                    i = parent[i]
    lp = np.empty(n + 1, dtype=np.int64)
    lp[0] = 0
    for k in range(n):
        lp[k + 1] = lp[k] + lnz[k]
    return parent, lp


@njit(cache=True, error_model="numpy")
def ldl_numeric(indptr, indices, data, perm, pinv, parent, lp, li, lx, d, y, pattern, flag, lnz):
    """Numeric ``A[perm][:, perm] = L D L^T`` into ``li, lx, d``.

    ``indptr, indices, data`` are the CSC matrix ``A`` (both triangles; only
    the upper one, in permuted order, is read). ``parent, lp`` come from
    :func:`ldl_symbolic`; ``li`` (int), ``lx`` (float) have ``lp[n]``
    entries; ``y`` (float), ``pattern``, ``flag``, ``lnz`` (int) are
    workspaces of length n. Returns ``n`` on success, else the first column
    ``k`` whose pivot ``D[k]`` is not positive (``A`` is not positive
    definite).
    """
    n = perm.shape[0]
    for k in range(n):
        y[k] = 0.0
        top = n
        flag[k] = k
        lnz[k] = 0
        kk = perm[k]
        for p in range(indptr[kk], indptr[kk + 1]):
            i = pinv[indices[p]]
            if i <= k:
                y[i] += data[p]
                ln = 0
                while flag[i] != k:
                    pattern[ln] = i
                    ln += 1
                    flag[i] = k
                    i = parent[i]
                while ln > 0:
                    top -= 1
                    ln -= 1
                    pattern[top] = pattern[ln]
        dk = y[k]
        y[k] = 0.0
        for t in range(top, n):
            i = pattern[t]
            yi = y[i]
            y[i] = 0.0
            p2 = lp[i] + lnz[i]
            for p in range(np.uint64(lp[i]), np.uint64(p2)):
                y[np.uint64(li[p])] -= lx[p] * yi
            l_ki = yi / d[i]
            dk -= l_ki * yi
            li[p2] = k
            lx[p2] = l_ki
            lnz[i] += 1
        if not dk > 0.0:
            return k
        d[k] = dk
    return n


def ldl_groups(parent: np.ndarray, lp: np.ndarray, max_size: int = 4) -> np.ndarray:
    """Sizes of runs of consecutive columns of ``L`` that :func:`ldl_solve` treats together.

    Column ``j`` joins column ``j + 1`` when ``j + 1`` is its parent and its pattern is
    ``{j + 1}`` plus that of ``j + 1`` (a chain of a supernode): the entries below such a run
    share their rows, so a solve reads and writes each of those rows once per run.

    Examples
    --------
    >>> ldl_groups(np.array([1, 2, -1]), np.array([0, 2, 3, 3])).tolist()  # a dense 3 x 3
    [3]
    """
    n = parent.shape[0]
    lnz = np.diff(lp)
    link = np.zeros(n, dtype=bool)
    if n > 1:
        link[:-1] = (parent[:-1] == np.arange(1, n)) & (lnz[:-1] == lnz[1:] + 1)
    sizes = []
    j = 0
    while j < n:
        size = 1
        while size < max_size and link[j + size - 1]:
            size += 1
        sizes.append(size)
        j += size
    return np.array(sizes, dtype=np.int64)


@njit(cache=True, error_model="numpy")
def ldl_solve(lp, li, lx, d, perm, groups, b, x, work):
    """``x = A^-1 b`` from ``A[perm][:, perm] = L D L^T``; ``work`` has length n.

    ``groups`` are the run sizes of :func:`ldl_groups` (at most 4; all ones:
    column by column). Positions are unsigned so that numba skips its test
    for negative (wrap-around) indices.
    """
    n = d.shape[0]
    one = np.uint64(1)
    for k in range(n):
        work[k] = b[perm[k]]
    y = np.zeros(4)
    j = 0
    for size in groups:  # L y = P b
        for c in range(size):  # the unit triangle of the run
            yc = work[j + c]
            y[c] = yc
            base = np.uint64(lp[j + c])
            for c2 in range(c + 1, size):
                work[j + c2] -= lx[base + np.uint64(c2 - c - 1)] * yc
        q = np.uint64(lp[j + size - 1])
        ln = np.uint64(lp[j + size]) - q
        if size == 1:
            y0 = y[0]
            if y0 != 0.0:
                for t in range(ln):
                    work[np.uint64(li[q + t])] -= lx[q + t] * y0
        elif size == 2:
            y0, y1 = y[0], y[1]
            o0 = np.uint64(lp[j]) + one
            for t in range(ln):
                work[np.uint64(li[q + t])] -= lx[o0 + t] * y0 + lx[q + t] * y1
        elif size == 3:
            y0, y1, y2 = y[0], y[1], y[2]
            o0, o1 = np.uint64(lp[j]) + np.uint64(2), np.uint64(lp[j + 1]) + one
            for t in range(ln):
                work[np.uint64(li[q + t])] -= lx[o0 + t] * y0 + lx[o1 + t] * y1 + lx[q + t] * y2
        else:
            y0, y1, y2, y3 = y[0], y[1], y[2], y[3]
            o0, o1 = np.uint64(lp[j]) + np.uint64(3), np.uint64(lp[j + 1]) + np.uint64(2)
            o2 = np.uint64(lp[j + 2]) + one
            for t in range(ln):
                work[np.uint64(li[q + t])] -= lx[o0 + t] * y0 + lx[o1 + t] * y1 + lx[o2 + t] * y2 + lx[q + t] * y3
        j += size
    for k in range(n):
        work[k] /= d[k]
    j = n
    for gi in range(groups.shape[0] - 1, -1, -1):  # L^T z = D^-1 y
        size = groups[gi]
        j -= size
        q = np.uint64(lp[j + size - 1])
        ln = np.uint64(lp[j + size]) - q
        if size == 1:
            t0 = work[j]
            for t in range(ln):
                t0 -= lx[q + t] * work[np.uint64(li[q + t])]
            work[j] = t0
            continue
        if size == 2:
            o0 = np.uint64(lp[j]) + one
            t0, t1 = work[j], work[j + 1]
            for t in range(ln):
                wi = work[np.uint64(li[q + t])]
                t0 -= lx[o0 + t] * wi
                t1 -= lx[q + t] * wi
            y[0], y[1] = t0, t1
        elif size == 3:
            o0, o1 = np.uint64(lp[j]) + np.uint64(2), np.uint64(lp[j + 1]) + one
            t0, t1, t2 = work[j], work[j + 1], work[j + 2]
            for t in range(ln):
                wi = work[np.uint64(li[q + t])]
                t0 -= lx[o0 + t] * wi
                t1 -= lx[o1 + t] * wi
                t2 -= lx[q + t] * wi
            y[0], y[1], y[2] = t0, t1, t2
        else:
            o0, o1 = np.uint64(lp[j]) + np.uint64(3), np.uint64(lp[j + 1]) + np.uint64(2)
            o2 = np.uint64(lp[j + 2]) + one
            t0, t1, t2, t3 = work[j], work[j + 1], work[j + 2], work[j + 3]
            for t in range(ln):
                wi = work[np.uint64(li[q + t])]
                t0 -= lx[o0 + t] * wi
                t1 -= lx[o1 + t] * wi
                t2 -= lx[o2 + t] * wi
                t3 -= lx[q + t] * wi
            y[0], y[1], y[2], y[3] = t0, t1, t2, t3
        for c in range(size - 1, -1, -1):  # the unit triangle of the run, transposed
            tc = y[c]
            base = np.uint64(lp[j + c])
            for c2 in range(c + 1, size):
                tc -= lx[base + np.uint64(c2 - c - 1)] * work[j + c2]
            work[j + c] = tc
    for k in range(n):
        x[perm[k]] = work[k]


def ldl_numpy(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``a = L D L^T`` in NumPy (twin of :func:`ldl_numeric`).

    Parameters
    ----------
    a : (n, n) symmetric positive definite array.

    Returns
    -------
    L : (n, n) unit lower triangular.  D : (n,) pivots.

    Examples
    --------
    >>> L, D = ldl_numpy(np.array([[4.0, 2.0], [2.0, 3.0]]))
    >>> L.tolist(), D.tolist()
    ([[1.0, 0.0], [0.5, 1.0]], [4.0, 2.0])
    """
    a = np.array(a, dtype=float)
    n = a.shape[0]
    L = np.eye(n)
    D = np.empty(n)
    for k in range(n):
        D[k] = a[k, k] - (L[k, :k] ** 2) @ D[:k]
        if not D[k] > 0.0:
            raise np.linalg.LinAlgError(f"matrix is not positive definite (pivot {k})")
        L[k + 1:, k] = (a[k + 1:, k] - L[k + 1:, :k] @ (D[:k] * L[k, :k])) / D[k]
    return L, D


def factor_flops(lp: np.ndarray) -> int:
    """Multiply-adds of one numeric factorisation with column pointers ``lp``: sum of lnz_j^2."""
    lnz = np.diff(lp)
    return int(np.sum(lnz.astype(np.float64) ** 2) + lnz.sum())


def fill_reducing_order(pattern: sp.csc_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A fill-reducing ordering of a symmetric pattern and its symbolic factorisation.

    Candidates: CHOLMOD's AMD and (from 20,000 rows, where its fill is much
    smaller and its analysis costs less than a factorisation) METIS orderings when scikit-sparse is installed, SuperLU's
    multiple minimum degree otherwise; the one with the fewest
    factorisation flops (:func:`factor_flops`) is kept.

    Parameters
    ----------
    pattern : scipy.sparse.csc_matrix, (n, n), structurally symmetric, sorted indices.

    Returns
    -------
    perm, pinv, parent, lp : int64 arrays (new -> old ordering, its inverse,
        elimination tree and column pointers of ``L``, see :func:`ldl_symbolic`).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> a = sp.csc_matrix(sp.diags([-1.0, 2.0, -1.0], [-1, 0, 1], shape=(5, 5)))
    >>> perm, pinv, parent, lp = fill_reducing_order(a)
    >>> int(lp[-1])  # a path has no fill: n - 1 off-diagonal entries
    4
    """
    p = sp.csc_matrix(pattern)
    n = p.shape[0]
    indptr = p.indptr.astype(np.int64)
    indices = p.indices.astype(np.int64)
    candidates = []
    try:
        from sksparse import cholmod
    except ImportError:
        cholmod = None
    if cholmod is not None and n:
        work = sp.csc_matrix((np.ones(p.nnz), p.indices, p.indptr), shape=p.shape)
        for method in ("amd", "metis") if n >= _METIS_MIN_ROWS else ("amd",):
            try:
                candidates.append(np.asarray(cholmod.analyze(work, mode="simplicial", ordering_method=method).P()))
            except cholmod.CholmodError:  # METIS may be missing from this CHOLMOD build
                continue
    if not candidates:
        candidates.append(mmd_ordering(p) if n else np.arange(0))
    best = None
    for perm in candidates:
        perm = perm.astype(np.int64)
        pinv = np.empty(n, dtype=np.int64)
        pinv[perm] = np.arange(n)
        parent, lp = ldl_symbolic(indptr, indices, perm, pinv)
        flops = factor_flops(lp)
        if best is None or flops < best[0]:
            best = (flops, perm, pinv, parent, lp)
    return best[1], best[2], best[3], best[4]
