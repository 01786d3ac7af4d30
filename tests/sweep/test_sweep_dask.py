"""A sweep on a dask.distributed LocalCluster gives the same table as the process pool."""

from __future__ import annotations

import pandas as pd
import pytest
import sweep_points as sp

from memsim.sweep import run

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install 'memsim[dask]'); dask sweep not tested"
)


def _numbers(df):
    return df.drop(columns=[c for c in df.columns if c.endswith("wall_s")])


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(processes=False, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as c:
        yield c


def test_dask_local_cluster_gives_the_process_pool_table(cluster, tmp_path):
    pool = run(sp.noisy, sp.space(), tmp_path / "pool", workers=2, progress=False)
    with distributed.Client(cluster) as client:
        on_dask = run(sp.noisy, sp.space(), tmp_path / "dask", scheduler=client, progress=False)
        assert client.status == "running"  # a client passed in is left open
    pd.testing.assert_frame_equal(_numbers(pool), _numbers(on_dask))
    assert (on_dask["status"] == "error").sum() == 2  # failing points recorded there too


def test_dask_by_cluster_and_resume(cluster, tmp_path):
    first = run(sp.noisy, sp.space(n_a=2), tmp_path, scheduler=cluster, progress=False)
    both = run(sp.noisy, sp.space(n_a=4), tmp_path, scheduler=cluster.scheduler_address, progress=False)
    assert len(both) == 8
    pd.testing.assert_frame_equal(both.iloc[:4].reset_index(drop=True), first, check_dtype=False)
