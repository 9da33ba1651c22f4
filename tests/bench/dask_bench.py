#!/usr/bin/python3
"""The Dask side of tests/bench/run: one workload per call against a running
Dask distributed cluster (a LocalCluster of ENGINES single-threaded worker
processes, which `serve` starts and keeps until SIGTERM), printing one JSON
object. The work matches the mccluster and ipyparallel sides (the pi and
walker functions are ipp_bench.py's, shipped by value); where Dask has a
faster documented path (scatter and gather with direct=True) it is measured
too, under its own keys.

Usage: dask_bench.py serve DIR ENGINES       (writes DIR/scheduler.json: address, pid)
       dask_bench.py DIR WORKLOAD [ENGINES]
       dask_bench.py DIR startup 8            (a cluster of its own, started and closed)
MC_BENCH_SCALE (default 1) scales every size down for a smoke run.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import cloudpickle
import numpy as np
from distributed import Client, LocalCluster

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipp_bench                        # noqa: E402  (its pi_numpy and walker)

cloudpickle.register_pickle_by_value(ipp_bench)
SCALE = float(os.environ.get("MC_BENCH_SCALE", "1"))


def sized(n):
    return max(1, int(n * SCALE))


def noop(x=None):
    return x


def noop_chunk(items):
    """A chunk of items in one task: what chunksize does in the other two."""
    return [noop(x) for x in items]


def rate(count, seconds):
    return count / seconds


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def new_cluster(engines):
    """What the comparison runs: one single-threaded worker process per engine
    (each under its nanny), the scheduler in this process, loopback only."""
    return LocalCluster(n_workers=engines, threads_per_worker=1, processes=True, host="127.0.0.1",
                        dashboard_address=None, silence_logs=40)


def serve(directory, engines):
    cluster = new_cluster(engines)
    with Client(cluster) as client:
        client.wait_for_workers(engines, timeout=120)
    path = os.path.join(directory, "scheduler.json")
    with open(path + ".tmp", "w") as f:
        json.dump({"address": cluster.scheduler_address, "pid": os.getpid()}, f)
    os.rename(path + ".tmp", path)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    cluster.close(timeout=10)


def startup(engines):
    """A LocalCluster of ENGINES workers, until a client sees them all."""
    t0 = time.perf_counter()
    cluster = new_cluster(engines)
    client = Client(cluster)
    client.wait_for_workers(engines, timeout=120)
    seconds = time.perf_counter() - t0
    client.close()
    cluster.close(timeout=10)
    return {"seconds": seconds}


def scatter_gather(client, engines, out):
    """1e7 float64 in one block per worker, as ipyparallel's dview.scatter and
    mccluster's scatter split it, and gathered back into one array: the
    default path (through the scheduler) and the direct one (client to
    workers, hash=False). Median of 3 after an untimed round, each."""
    a = np.arange(sized(10 ** 7), dtype=np.float64) * 0.5
    blocks = np.array_split(a, engines)
    for name, kw in (("", {}), ("_direct", {"direct": True, "hash": False})):
        scatter, gather = [], []
        for i in range(4):
            futures, back = [], []
            s = timed(lambda: futures.extend(client.scatter(blocks, **kw)))
            g = timed(lambda: back.append(np.concatenate(client.gather(futures, direct=kw.get("direct")))))
            if not np.array_equal(back[0], a):
                sys.exit("dask_bench: gather returned other values")
            if i:
                scatter.append(rate(a.nbytes / 1e6, s))
                gather.append(rate(a.nbytes / 1e6, g))
            del futures[:], back[:]
            deadline = time.monotonic() + 10      # the last round's blocks are released before the next
            while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) \
                    and time.monotonic() < deadline:
                time.sleep(0.01)
        out["scatter%s_mb_per_s" % name] = sorted(scatter)[1]
        out["gather%s_mb_per_s" % name] = sorted(gather)[1]


def main():
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
        return
    directory, workload = sys.argv[1], sys.argv[2]
    engines = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    if workload == "startup":
        print(json.dumps(startup(engines)))
        return
    address = json.load(open(os.path.join(directory, "scheduler.json")))["address"]
    client = Client(address, timeout=30)
    client.wait_for_workers(engines, timeout=60)
    workers = sorted(client.scheduler_info()["workers"])
    out = {}
    if workload == "lb_map_chunksize1":
        n = sized(10000)
        out["per_s"] = rate(n, timed(lambda: client.gather(client.map(noop, range(n), pure=False))))
    elif workload == "lb_map_chunksize100":
        n = sized(200000)
        chunks = [range(i, min(i + 100, n)) for i in range(0, n, 100)]
        out["per_s"] = rate(n, timed(lambda: client.gather(client.map(noop_chunk, chunks, pure=False))))
    elif workload == "direct_map":
        # One block per worker, pinned to it: what a direct view's map sends.
        n = sized(10000)
        blocks = [range(n)[k::len(workers)] for k in range(len(workers))]
        out["per_s"] = rate(n, timed(lambda: client.gather(
            [client.submit(noop_chunk, b, workers=[w], allow_other_workers=False, pure=False)
             for w, b in zip(workers, blocks)])))
    elif workload == "apply_rtt":
        for name, kw in (("lb", {}), ("direct", {"workers": [workers[0]], "allow_other_workers": False})):
            for _ in range(10):
                client.submit(noop, pure=False, **kw).result()
            us = []
            for _ in range(sized(1000)):
                t0 = time.perf_counter()
                client.submit(noop, pure=False, **kw).result()
                us.append((time.perf_counter() - t0) * 1e6)
            us.sort()
            out[name + "_us_median"] = us[len(us) // 2]
            out[name + "_us_p99"] = us[max(0, int(len(us) * 0.99) - 1)]
    elif workload == "cold_apply":
        # A new process that imports the client, connects, submits one no-op,
        # waits for it and exits, as a script that calls the cluster once does.
        code = ("from distributed import Client; c = Client(%r); "
                "c.submit(lambda: None, pure=False).result(); c.close()" % address)
        us = sorted(timed(lambda: subprocess.run(["/usr/bin/python3", "-c", code], check=True,
                                                 stderr=subprocess.DEVNULL)) * 1e6 for _ in range(5))
        out["us_median"] = us[2]
    elif workload == "pi":
        n = sized(10 ** 7)
        result = []
        seconds = timed(lambda: result.extend(client.gather(client.map(ipp_bench.pi_numpy, [n] * 100, range(100),
                                                                       pure=False))))
        out["per_s"] = rate(100 * n, seconds)
        out["pi"] = 4 * sum(r["hits"] for r in result) / (100 * n)
    elif workload == "walkers":
        steps = sized(10 ** 6)
        hist = []
        seconds = timed(lambda: hist.extend(client.gather(client.map(ipp_bench.walker, [steps] * 10, range(10),
                                                                     pure=False))))
        out["per_s"] = rate(10 * steps, seconds)
        out["points_binned"] = sum(sum(map(sum, h)) for h in hist)
    elif workload == "scatter_gather":
        scatter_gather(client, len(workers), out)
    else:
        sys.exit("dask_bench: unknown workload " + workload)
    client.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
