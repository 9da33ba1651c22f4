"""Bad input raises a Python exception that names the problem; a cluster that is
not running is said so within the timeout; Cluster stops everything on exit,
also when the body raises."""
import json
import os
import signal
import tempfile
import time

import numpy as np
import pytest

import mccluster


def test_unknown_kernel(rc):
    with pytest.raises(mccluster.UnknownKernelError, match="nosuch"):
        rc.load_balanced_view().map_sync("nosuch", [1])
    with pytest.raises(LookupError, match="nosuch"):
        rc[:].apply_sync("nosuch")


def test_bad_targets(rc):
    with pytest.raises(mccluster.UnknownEngineError, match="no engine 99"):
        rc[99]
    with pytest.raises(IndexError):
        rc[[0, 7]]
    with pytest.raises(TypeError, match="engine targets"):
        rc["zero"]
    with pytest.raises(TypeError):
        rc[1.5]
    with pytest.raises(ValueError):
        rc.load_balanced_view(targets=[0])


def test_wrong_types(rc):
    dview, lview = rc[:], rc.load_balanced_view()
    with pytest.raises(TypeError, match="kernel name"):
        lview.map_sync(lambda x: x * x, range(4))
    with pytest.raises(TypeError, match="sequence"):
        lview.map_sync("square", 5)
    with pytest.raises(TypeError, match="cannot be sent"):
        lview.apply_sync("echo", object())
    with pytest.raises(ValueError):
        lview.apply_sync("echo", float("nan"))
    with pytest.raises(TypeError, match="chunksize"):
        lview.map_sync("square", range(3), chunksize="big")
    with pytest.raises(ValueError, match="reduce"):
        lview.map_sync("square", range(3), reduce="product")
    with pytest.raises(TypeError, match="dict"):
        dview.push([1, 2])
    with pytest.raises(TypeError, match="cannot be sent"):
        dview.push({"a": object()})
    with pytest.raises(mccluster.BadArgumentError, match="1a"):
        dview.push({"1a": 1})
    with pytest.raises(TypeError, match="sequence"):
        dview.scatter("a", 3)
    with pytest.raises(TypeError, match="cannot be sent"):
        dview.scatter("a", np.array([object(), object()]))
    with pytest.raises(TypeError, match="float64 or int64"):
        dview.push({"a": np.array([1 + 2j])})
    with pytest.raises(ValueError, match="dist"):
        dview.gather("a", dist="x")
    with pytest.raises(mccluster.MCClusterError, match="nothere"):
        dview.pull("nothere", block=True)
    with pytest.raises(mccluster.MCClusterError, match="nothere"):
        dview.gather("nothere", block=True)
    with pytest.raises(mccluster.BadArgumentError):
        lview.map_sync("square", range(3), priority=5000)
    with pytest.raises(mccluster.UnknownJobError):
        rc.get_result("j999999").get()


def test_execute_is_not_there(rc):
    with pytest.raises(NotImplementedError, match="kernel"):
        rc[:].execute("a = 1")


def test_no_cluster():
    d = tempfile.mkdtemp(prefix="mc-py-none-")
    try:
        t = time.monotonic()
        with pytest.raises(mccluster.NoClusterError) as info:
            mccluster.Client(profile_dir=d, timeout=1)
        assert time.monotonic() - t < 2
        assert isinstance(info.value, ConnectionError) and str(info.value)
    finally:
        os.rmdir(d)


def test_cluster_stops_when_the_body_raises():
    c = mccluster.Cluster(n=1)
    with pytest.raises(RuntimeError, match="in the body"):
        with c as rc:
            assert rc.ids == [0]
            pid, profile = c.pid, c.profile_dir
            raise RuntimeError("in the body")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not os.path.exists(profile)


def test_silent_controller_is_said_within_the_timeout():
    with mccluster.Cluster(n=1) as rc:
        profile = rc.profile_dir
        with open(os.path.join(profile, "client.json")) as f:
            pid = json.load(f)["pid"]           # the controller
        os.kill(pid, signal.SIGSTOP)
        try:
            t = time.monotonic()
            with pytest.raises(mccluster.NoClusterError, match="no controller answers"):
                mccluster.Client(profile_dir=profile, timeout=1)
            assert time.monotonic() - t < 2
        finally:
            os.kill(pid, signal.SIGCONT)


def test_stopped_cluster_is_said_within_the_timeout():
    profile = tempfile.mkdtemp(prefix="mc-py-stop-")
    try:
        c = mccluster.Cluster(n=1, profile_dir=profile)
        with c as rc:
            assert rc.load_balanced_view().apply_sync("square", 3) == 9
            ar = rc.load_balanced_view().map_async("sleep", [5000])
            c.proc.terminate()
            c.proc.wait(10)
            t = time.monotonic()
            with pytest.raises(mccluster.NoClusterError, match="does not answer"):
                ar.get(timeout=15)
            assert time.monotonic() - t < 10
        t = time.monotonic()
        with pytest.raises(mccluster.NoClusterError, match="no connection file|no controller|exited"):
            mccluster.Client(profile_dir=profile, timeout=2)
        assert time.monotonic() - t < 3
    finally:
        import shutil
        shutil.rmtree(profile, ignore_errors=True)
