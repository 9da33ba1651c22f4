"""Fixtures of the Python tests: a private cluster (mccluster.Cluster) per module,
always stopped, even when a test fails."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
# From the source tree without the build's copy on PYTHONPATH: the package
# next to these tests (it then needs MCCLUSTER_LIB and MC_BIN).
try:
    import mccluster  # noqa: F401
except ImportError:
    sys.path.insert(0, os.path.dirname(HERE))
    import mccluster  # noqa: F401


@pytest.fixture(scope="module")
def cluster():
    c = mccluster.Cluster(n=2)
    c.start()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def rc(cluster):
    return cluster.client
