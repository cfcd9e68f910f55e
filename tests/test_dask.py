"""calibrate_many on Dask gives exactly the serial results (seeds travel with the tasks)."""

from __future__ import annotations

import pytest

from tradesim_nb.datasets import binance_spot_files
from tradesim_nb.impact import (
    CalibrationTask,
    calibrate_many,
    calibrate_serial,
    simulate_orders,
)


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    path = tmp_path_factory.mktemp("orders") / "orders.csv"
    simulate_orders(3000, seed=9).to_csv(path, index=False)
    return ([CalibrationTask("synthetic", seed=s, eta=e, gamma=g, n=800)
             for s, (e, g) in enumerate([(2.5e-6, 2.5e-7), (1e-6, 5e-7), (5e-6, 1e-7)])]
            + [CalibrationTask("athl-simulated", seed=s, n=4000) for s in range(3)]
            + [CalibrationTask("orders", seed=1, paths=(str(path),),
                               options=(("bootstrap", 20),)),
               CalibrationTask("recording", seed=2,
                               paths=tuple(str(p) for p in binance_spot_files()),
                               options=(("bootstrap", 30),))])


def test_local_cluster_equals_serial(tasks):
    serial = calibrate_serial(tasks)
    parallel = calibrate_many(tasks)  # its own LocalCluster, closed afterwards
    assert len(parallel) == len(tasks)
    assert [f.to_dict() for f in parallel] == [f.to_dict() for f in serial]
    # different seeds really give different fits (the equality above is not vacuous)
    assert serial[3].gamma.estimate != serial[4].gamma.estimate


def test_given_client_is_used_and_left_open(tasks):
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        out = calibrate_many(tasks[:4], client=client)
        assert client.status == "running"
        assert [f.to_dict() for f in out] == [f.to_dict() for f in calibrate_serial(tasks[:4])]


def test_task_validation():
    with pytest.raises(ValueError, match="kind"):
        CalibrationTask("magic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="paths"):
        CalibrationTask("recording")
    with pytest.raises(ValueError, match="tasks"):
        calibrate_many(["not a task"])  # type: ignore[list-item]
    assert calibrate_many([]) == []
