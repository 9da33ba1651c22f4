"""Every call of the package against a real 2-engine cluster: views, map and apply
in their blocking and asynchronous forms, AsyncResult, job options, reductions,
namespaces with numpy arrays, remote errors."""
import io
import sys
import time

import numpy as np
import pytest

import mccluster


def test_ids_and_views(rc):
    assert rc.ids == [0, 1]
    assert len(rc) == 2
    assert rc[:].targets == [0, 1]
    assert rc[0].targets == 0
    assert rc[::2].targets == [0]
    assert rc[[1]].targets == [1]
    assert rc.direct_view().targets == "all"
    assert len(rc[:]) == 2 and len(rc[0]) == 1 and len(rc.load_balanced_view()) == 2
    assert repr(rc[:]) == "<DirectView [0, 1]>"
    assert any(k["name"] == "walker" for k in rc.kernels())
    assert {"gauss3", "ring", "banana"} <= {t["name"] for t in rc.targets()}     # the walker's built-in targets
    assert all(k["kind"] == "kernel" for k in rc.kernels()[:-len(rc.targets())])  # kernels first
    assert {e["id"] for e in rc.engines()} == {0, 1}


def test_map(rc):
    squares = [x * x for x in range(100)]
    dview, lview = rc[:], rc.load_balanced_view()
    assert dview.map_sync("square", range(100)) == squares
    assert lview.map_sync("square", range(100)) == squares
    assert lview.map_sync("square", list(range(100)), chunksize=7) == squares
    assert rc.direct_view("all").map_sync("square", np.arange(10)) == squares[:10]
    ar = dview.map_async("square", range(10))
    assert isinstance(ar, mccluster.AsyncResult)
    assert ar.get() == squares[:10]
    assert isinstance(dview.map("square", range(3)), mccluster.AsyncResult)    # block is False by default
    dview.block = True
    try:
        assert dview.map("square", range(3)) == [0, 1, 4]
    finally:
        dview.block = False
    assert lview.map("square", range(3), block=True) == [0, 1, 4]


def test_apply(rc):
    dview, lview = rc[:], rc.load_balanced_view()
    assert dview.apply_sync("square", 2) == [4, 4]
    assert rc[1].apply_sync("square", 3) == 9
    assert rc[1].map_sync("square", [3]) == [9]                 # a map gives a list, on one engine too
    assert lview.apply_sync("square", 4) == 16
    assert lview.apply_async("square", 5).get() == 25
    assert dview.apply("square", 6).get() == [36, 36]
    assert lview.apply_sync("square", np.arange(4)) == [0, 1, 4, 9]


def test_kernel_kwargs_and_seed(rc):
    lview = rc.load_balanced_view()
    a = lview.map_sync("walker", range(3), target="gauss3", steps=200, seed=7)
    b = lview.map_sync("walker", range(3), target="gauss3", steps=200, seed=7, chunksize=3)
    assert all(isinstance(x, np.ndarray) and x.dtype == np.float64 and x.shape[1] == 2 for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))          # same seed, same bits
    ar = lview.map_async("walker", range(2), steps=100, seed=11, priority=5, retries=1)
    ar.get()
    assert ar.seed == 11
    lview.set_flags(seed=3)
    try:
        assert lview.map_async("square", [1]).seed == 3
    finally:
        lview.seed = None


def test_reduce_and_out(rc):
    lview, dview = rc.load_balanced_view(), rc[:]
    s = lview.map_sync("pi", range(10), samples=10_000, reduce="sum")
    assert s["samples"] == 100_000 and 3.0 < 4 * s["hits"] / s["samples"] < 3.3
    h = lview.map_sync("walker", range(4), steps=1000, reduce=mccluster.hist2d(bins=(20, 10)))
    assert isinstance(h, np.ndarray) and h.dtype == np.int64 and h.shape == (10, 20)
    assert 0 < h.sum() <= 4 * 1000
    dview.map_sync("walker", range(2), steps=50, burn_in=0, out="chains")
    chains = dview.pull("chains", block=True)
    assert len(chains) == 2 and all(len(c) == 1 for c in chains)


def test_async_result(rc):
    lview = rc.load_balanced_view()
    ar = lview.map_async("sleep", [300, 300])
    assert not ar.ready()
    assert ar.wait(0.05) is False
    with pytest.raises(mccluster.ClusterTimeoutError):
        ar.get(timeout=0.05)
    assert ar.msg_ids == [ar.job_id] and ar.job_id.startswith("j")
    assert ar.wait(10) is True and ar.ready() and ar.successful()
    assert ar.progress == 2 and len(ar) == 2
    assert 0.25 < ar.elapsed < 10
    assert ar.get(1) == [None, None]
    # the job outlives its AsyncResult: any client can fetch it by id
    assert rc.get_result(ar.job_id).get() == [None, None]
    assert rc.wait([ar]) is True


def test_wait_interactive(rc, monkeypatch):
    err = io.StringIO()
    err.isatty = lambda: True
    monkeypatch.setattr(sys, "stderr", err)
    ar = rc.load_balanced_view().map_async("sleep", [100] * 4)
    ar.wait_interactive(interval=0.05)
    text = err.getvalue()
    assert ar.ready() and "4/4 tasks" in text and "\r" in text and "100.0%" in text


def test_abort_and_renice(rc):
    ar = rc.load_balanced_view().map_async("sleep", [200] * 20)
    assert ar.renice(3)["priority"] == 3
    ar.abort()
    assert ar.wait(10)
    assert ar.status()["state"] == "aborted"
    with pytest.raises(mccluster.RemoteError):
        ar.get()


def test_remote_errors(rc):
    with pytest.raises(mccluster.RemoteError) as info:
        rc.load_balanced_view().map_sync("fail", ["disk full", "bad input", "disk full", "disk full"])
    e = info.value
    assert isinstance(e, mccluster.CompositeError)
    by = {x["error"]: x for x in e.errors}
    assert by["disk full"]["count"] == 3 and by["bad input"]["count"] == 1
    text = str(e)
    assert text.count("disk full") == 1 and "[3 x] disk full" in text and "engine" in text
    assert "4 of 4 items failed" in text
    ar = rc[:].apply_async("fail", "boom")
    assert ar.wait(10) and not ar.successful()


def test_push_pull(rc):
    dview = rc[:]
    dview.push({"a": 1, "b": [1, 2], "c": "text", "x": np.arange(6.0).reshape(3, 2), "i": np.arange(4)})
    assert dview.pull("a").get() == [1, 1]
    assert dview["b"] == [[1, 2], [1, 2]]
    x = rc[0]["x"]
    assert isinstance(x, np.ndarray) and x.dtype == np.float64 and x.shape == (3, 2)
    assert np.array_equal(x, np.arange(6.0).reshape(3, 2))
    assert rc[1].pull("i", block=True).dtype == np.int64
    both = dview.pull(["a", "c", "i"], block=True)
    assert both[0][:2] == [1, "text"] and np.array_equal(both[1][2], np.arange(4))
    dview["a"] = 2
    assert dview["a"] == [2, 2]
    rc[1].push({"a": 3}, block=True)
    assert dview["a"] == [2, 3]
    assert {"a", "b", "x"} <= set(dview.names()[0]["names"])
    dview.delete("b", block=True)
    assert "b" not in dview.names()[0]["names"]


def test_scatter_gather(rc):
    dview = rc[:]
    data = np.arange(16)
    dview.scatter("a", data)
    parts = dview["a"]
    assert [p.tolist() for p in parts] == [list(range(8)), list(range(8, 16))]
    g = dview.gather("a").get()
    assert isinstance(g, np.ndarray) and g.dtype == np.int64 and np.array_equal(g, data)
    f = np.random.default_rng(1).random((1001, 2))
    dview.scatter("f", f, block=True)
    assert np.array_equal(dview.gather("f", block=True), f)
    dview.scatter("r", np.arange(10.0), dist="r")
    assert rc[0]["r"].tolist() == [0, 2, 4, 6, 8]
    assert np.array_equal(dview.gather("r", dist="r", block=True), np.arange(10.0))
    dview.scatter("l", [0, 1, 2, 3, 4])
    assert dview["l"] == [[0, 1, 2], [3, 4]]
    assert dview.gather("l", block=True) == [0, 1, 2, 3, 4]
    # kernels read namespace values by reference; results can stay there (out=)
    dview.apply_sync("square", mccluster.ref("a"), out="a")
    assert np.array_equal(dview.gather("a", block=True), data * data)


def test_large_gather_is_one_array(rc):
    x = np.random.default_rng(2).random(1_000_000)
    rc[:].scatter("big", x, block=True)
    t = time.monotonic()
    y = rc[:].gather("big", block=True)
    assert np.array_equal(x, y) and y.flags["C_CONTIGUOUS"]
    assert time.monotonic() - t < 10


def test_write_png(tmp_path):
    counts = np.arange(12).reshape(3, 4)
    path = mccluster.write_png(counts, str(tmp_path / "h.png"), scale=2)
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    import struct
    assert struct.unpack(">II", data[16:24]) == (8, 6)          # width, height: 4 x 3 bins of 2 x 2 pixels
    with pytest.raises(ValueError):
        mccluster.write_png(np.arange(3), str(tmp_path / "bad.png"))


def test_wait_interactive_in_a_notebook(rc, monkeypatch):
    """In a Jupyter kernel the bar is one display, updated in place."""
    ipd = pytest.importorskip("IPython.display")
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(obj)

    monkeypatch.setitem(sys.modules, "ipykernel", sys.modules.get("ipykernel") or type(sys)("ipykernel"))
    monkeypatch.setattr(ipd, "display", lambda obj, display_id=False: Handle())
    ar = rc.load_balanced_view().map_async("sleep", [100] * 3)
    ar.wait_interactive(interval=0.05)
    assert shown and "3/3 tasks" in shown[-1] and ar.ready()
