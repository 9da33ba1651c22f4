#!/usr/bin/python3
"""The ipyparallel side of tests/bench/run: one workload per call against a
running ipyparallel cluster (or, for `startup`, one it starts and stops
itself), printing one JSON object. The work matches the mccluster side.

Usage: ipp_bench.py PROFILE_DIR WORKLOAD [ENGINES]
"""
import json
import os
import signal
import subprocess
import sys
import time

import ipyparallel as ipp
import numpy as np


def noop(x=None):
    return x


def pi_numpy(samples, seed):
    """Points of the unit square inside the quarter circle, in numpy chunks."""
    import numpy as np
    rng = np.random.default_rng(seed)
    hits, left = 0, samples
    while left:
        n = min(left, 1 << 20)
        x, y = rng.random(n), rng.random(n)
        hits += int(np.count_nonzero(x * x + y * y < 1.0))
        left -= n
    return {"hits": hits, "samples": samples}


def walker(steps, seed, bins=50):
    """The seed notebook's Metropolis-Hastings walk over gauss3 in pure Python
    with math.exp; the points are binned on the engine, as mccluster's
    --reduce hist2d does."""
    import math
    import random
    rnd = random.Random(seed)

    def f(x, y):
        return sum(math.exp(-(((cx - x) / wx) ** 2 + ((cy - y) / wy) ** 2) / 2)
                   for cx, cy, wx, wy in ((0.5, 0.2, 0.15, 0.04), (0.7, 0.7, 0.05, 0.05),
                                          (0.3, 0.7, 0.05, 0.07)))
    x, y = rnd.random(), rnd.random()
    fx = f(x, y)
    points = []
    for i in range(steps + 100):
        nx, ny = x + 0.1 * (2 * rnd.random() - 1), y + 0.1 * (2 * rnd.random() - 1)
        fn = f(nx, ny)
        if fn >= fx or rnd.random() * fx < fn:
            x, y, fx = nx, ny, fn
        if i >= 100:
            points.append((x, y))
    counts = [[0] * bins for _ in range(bins)]
    for px, py in points:
        if 0 <= px < 1 and 0 <= py < 1:
            counts[int(py * bins)][int(px * bins)] += 1
    return counts


def rate(count, seconds):
    return count / seconds


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def startup(profile, engines):
    """ipcontroller and ENGINES ipengines (what `ipcluster start -n` runs),
    until a client sees every engine registered; then stopped by pid."""
    env = dict(os.environ)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    t0 = time.perf_counter()
    procs = [subprocess.Popen(["ipcontroller", "--profile-dir=" + profile, "--ip=127.0.0.1"], **quiet)]
    try:
        connector = os.path.join(profile, "security", "ipcontroller-client.json")
        while not os.path.exists(connector):
            time.sleep(0.005)
        procs += [subprocess.Popen(["ipengine", "--profile-dir=" + profile], **quiet) for _ in range(engines)]
        client = None
        while client is None:
            try:
                client = ipp.Client(profile_dir=profile, timeout=5)
            except Exception:
                time.sleep(0.01)
        while len(client.ids) < engines:
            time.sleep(0.005)
        seconds = time.perf_counter() - t0
        client.close()
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    return {"seconds": seconds}


def main():
    profile, workload = sys.argv[1], sys.argv[2]
    engines = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    if workload == "startup":
        print(json.dumps(startup(profile, engines)))
        return
    client = ipp.Client(profile_dir=profile, timeout=30)
    client.wait_for_engines(engines, timeout=60)
    lview, dview = client.load_balanced_view(), client[:]
    out = {}
    if workload == "lb_map_chunksize1":
        n = 10000
        out["per_s"] = rate(n, timed(lambda: lview.map_sync(noop, range(n), chunksize=1)))
    elif workload == "lb_map_chunksize100":
        n = 200000
        out["per_s"] = rate(n, timed(lambda: lview.map_sync(noop, range(n), chunksize=100)))
    elif workload == "direct_map":
        n = 10000
        out["per_s"] = rate(n, timed(lambda: dview.map_sync(noop, range(n))))
    elif workload == "apply_rtt":
        for name, view in (("lb", lview), ("direct", client[0])):
            for _ in range(10):
                view.apply_sync(noop)
            us = []
            for _ in range(1000):
                t0 = time.perf_counter()
                view.apply_sync(noop)
                us.append((time.perf_counter() - t0) * 1e6)
            us.sort()
            out[name + "_us_median"] = us[len(us) // 2]
            out[name + "_us_p99"] = us[int(len(us) * 0.99) - 1]
    elif workload == "cold_apply":
        # A new process that imports the client, connects, applies and exits,
        # as a script that calls the cluster once does.
        code = ("import ipyparallel as ipp; c = ipp.Client(profile_dir=%r); "
                "c.load_balanced_view().apply_sync(lambda: None); c.close()" % profile)
        us = sorted(timed(lambda: subprocess.run(["/usr/bin/python3", "-c", code], check=True)) * 1e6
                    for _ in range(5))
        out["us_median"] = us[2]
    elif workload == "pi":
        n = 10 ** 7
        result = []
        seconds = timed(lambda: result.extend(lview.map_sync(pi_numpy, [n] * 100, range(100))))
        out["per_s"] = rate(100 * n, seconds)
        out["pi"] = 4 * sum(r["hits"] for r in result) / (100 * n)
    elif workload == "walkers":
        steps = 10 ** 6
        hist = []
        seconds = timed(lambda: hist.extend(lview.map_sync(walker, [steps] * 10, range(10))))
        out["per_s"] = rate(10 * steps, seconds)
        out["points_binned"] = sum(sum(map(sum, h)) for h in hist)
    elif workload == "scatter_gather":
        # The median of 3 after an untimed round, as mccluster's bench_data 10000000 3.
        a = np.arange(10 ** 7, dtype=np.float64) * 0.5
        dview.scatter("x", a, block=True)
        dview.gather("x", block=True)
        scatter, gather = [], []
        for _ in range(3):
            scatter.append(rate(a.nbytes / 1e6, timed(lambda: dview.scatter("x", a, block=True))))
            back = []
            gather.append(rate(a.nbytes / 1e6, timed(lambda: back.append(dview.gather("x", block=True)))))
            if not np.array_equal(back[0], a):
                sys.exit("ipp_bench: gather returned other values")
        out["scatter_mb_per_s"] = sorted(scatter)[1]
        out["gather_mb_per_s"] = sorted(gather)[1]
    else:
        sys.exit("ipp_bench: unknown workload " + workload)
    client.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
