"""Many models at once: scikit-learn's GridSearchCV of ffnn estimators on a Dask cluster.

``joblib.parallel_backend("dask")`` sends the search's fits to a ``dask.distributed``
LocalCluster (two workers, one thread each); the search must pick the same parameters
with the same scores as the sequential one, and every fit must run with one BLAS
thread (threadpoolctl), so that workers do not fight over the cores.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")
threadpoolctl = pytest.importorskip("threadpoolctl")

from sklearn.model_selection import GridSearchCV  # noqa: E402

from ffnn import MLPRegressor  # noqa: E402

GRID = {"hidden_layer_sizes": [(4,), (16,)], "alpha": [1e-4, 1e-1]}


class BLASThreads(MLPRegressor):
    """MLPRegressor recording how many BLAS threads its fit saw."""

    seen: ClassVar[list[int]] = []

    def fit(self, x, y, sample_weight=None):  # type: ignore[no-untyped-def]
        info = threadpoolctl.threadpool_info()
        BLASThreads.seen.append(max((p["num_threads"] for p in info
                                     if p["user_api"] == "blas"), default=1))
        return super().fit(x, y, sample_weight)


def search(n_jobs: int) -> GridSearchCV:
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(120, 2))
    y = np.sin(x[:, 0]) + 0.3 * x[:, 1] ** 2
    est = BLASThreads(max_iter=40, learning_rate=1e-2, random_state=0, batch_size=32)
    return GridSearchCV(est, GRID, cv=3, n_jobs=n_jobs).fit(x, y)


@pytest.mark.filterwarnings("ignore::ffnn.exceptions.ConvergenceWarning")
def test_grid_search_on_dask_equals_the_sequential_search() -> None:
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        serial = search(n_jobs=1)
        BLASThreads.seen.clear()
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                           dashboard_address=None)
        with cluster, distributed.Client(cluster), joblib.parallel_backend("dask"):
            parallel = search(n_jobs=-1)
    assert parallel.best_params_ == serial.best_params_
    np.testing.assert_allclose(parallel.cv_results_["mean_test_score"],
                               serial.cv_results_["mean_test_score"], rtol=1e-6)
    assert len(BLASThreads.seen) == 3 * 4 + 1  # every fold of every setting, then the refit
    assert set(BLASThreads.seen) == {1}
