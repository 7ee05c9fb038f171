import numpy as np
import pytest


@pytest.fixture
def published_lesson_states():
    """The lesson's printed states after epochs 0, 30, ..., 150.

    External data, typed in from the lesson text
    (shared/seed/000_11dd565624849ec6.txt), not computed by skadam.
    """
    return np.array(
        [
            [2.80000003, 3.80000002],
            [0.27175946, -0.35494334],
            [-0.07373187, -0.06706317],
            [-0.02001478, 0.0301726],
            [0.00082782, -0.0039881],
            [0.00094425, -0.00038352],
        ]
    )


@pytest.fixture(scope="module")
def loopback_cluster():
    """A Dask ``LocalCluster`` for one test module, every socket on 127.0.0.1.

    Two single-threaded worker processes: process workers pickle every task
    and result, as a real cluster does, which an in-process cluster would
    not. Dask is imported here, so that tests without a cluster never load it.
    """
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.comm.timeouts.connect": "20s"}):
        cluster = LocalCluster(
            processes=True,
            n_workers=2,
            threads_per_worker=1,
            host="127.0.0.1",
            # ":0" alone would bind the dashboard to every interface.
            dashboard_address="127.0.0.1:0",
            worker_dashboard_address="127.0.0.1:0",
        )
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def rng():
    """The suite's one seeded generator: every test that draws data uses it."""
    return np.random.default_rng(0)
