#!/usr/bin/python3
"""Gather of COUNT float64 values from Python (issue 19): the mccluster
package's rc[:].gather (a numpy array over the library's block, no copy)
against libmcclient's mc_client_gather_array called directly in the same
process, rounds alternating after one untimed round, bytes checked. Runs
against the cluster of $MCCLUSTER_DIR; PYTHONPATH must find the package
(tests/bench/run gives it build/python). Prints JSON: each side's rounds in
MB/s, their medians and python/c.

Usage: py_gather.py [COUNT [ROUNDS]]
"""
import ctypes
import json
import statistics
import sys
import time

import numpy as np

import mccluster
from mccluster import _lib


def main():
    count = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10_000_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rc = mccluster.Client()
    dview = rc[:]
    values = np.arange(count, dtype=np.float64) * 0.5
    dview.scatter("x", values, block=True)
    mb = values.nbytes / 1e6

    def c_gather():
        arr = _lib.Array()
        with rc._lock:
            if _lib.client_gather_array(rc._p, b"x", None, False, ctypes.byref(arr)):
                raise RuntimeError(_lib.client_error(rc._p).decode())
        ok = arr.size == values.nbytes and ctypes.string_at(arr.data, 64) == values[:8].tobytes()
        _lib.libc.free(arr.data)
        return ok

    def py_gather():
        back = dview.gather("x", block=True)
        ok = back.shape == values.shape and back[:8].tobytes() == values[:8].tobytes()
        del back                            # its block is freed now, as c_gather frees its own
        return ok

    py, c = [], []
    for r in range(-1, rounds):
        # Each round the other side goes first, so that neither always finds the memory the other freed.
        for side in ((py_gather, py), (c_gather, c)) if r % 2 else ((c_gather, c), (py_gather, py)):
            t = time.perf_counter()
            ok = side[0]()
            dt = time.perf_counter() - t
            assert ok, "gather returned other bytes"
            if r >= 0:
                side[1].append(mb / dt)
    check = dview.gather("x", block=True)
    assert isinstance(check, np.ndarray) and np.array_equal(check, values), "gather returned other values"
    out = {"values": count, "megabytes": round(mb, 1), "engines": len(rc.ids), "rounds": rounds,
           "python_mb_per_s_rounds": [round(v) for v in py], "c_mb_per_s_rounds": [round(v) for v in c],
           "python_mb_per_s": statistics.median(py), "c_mb_per_s": statistics.median(c)}
    out["python_over_c"] = out["python_mb_per_s"] / out["c_mb_per_s"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
