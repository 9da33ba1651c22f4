#!/usr/bin/python3
"""Monte Carlo pi, serial against an mccluster, in the steps of the lecture
(seeds/001: direct map, load-balanced map, map_async, apply, scatter of chunk
sizes), with `import mccluster` instead of `import ipyparallel as ipp` and the
kernel "pi" instead of the notebook's sample_multiple function.

    python3 examples/pi.py                  # a private 4-engine cluster, 1e8 samples
    python3 examples/pi.py --profile-dir ~/.mccluster/default   # a running cluster
    python3 examples/pi.py --samples 1e6 --serial 1e4 --engines 2   # what CI runs
"""
import argparse
import random
import time

import numpy as np

import mccluster


def serial(samples):
    """The lecture's first cell: one point at a time in pure Python."""
    hits = 0
    for _ in range(int(samples)):
        x = random.uniform(-1.0, 1.0)
        y = random.uniform(-1.0, 1.0)
        if x ** 2 + y ** 2 <= 1.0:
            hits += 1
    return 4.0 * hits / samples


def estimate(results, samples):
    """pi from the kernel's {"hits", "samples"} results (a list of them, or one summed)."""
    if isinstance(results, dict):
        results = [results]
    hits = sum(r["hits"] for r in results)
    return 4.0 * hits / sum(r["samples"] for r in results)


def timed(label, fn, samples):
    t = time.perf_counter()
    pi = fn()
    dt = time.perf_counter() - t
    print("%-34s pi = %.6f   %8.3f s   %6.0f M samples/s" % (label, pi, dt, samples / dt / 1e6))
    return pi


def run(rc, samples, serial_samples, seed):
    dview = rc[:]
    lview = rc.load_balanced_view()
    timed("serial, pure Python (%.0e samples)" % serial_samples, lambda: serial(serial_samples), serial_samples)

    # 2.1 dview.map: ntasks = len(dview), each engine one chunk
    ntasks = len(dview)
    chunk = int(samples // ntasks)
    timed("direct map (%d tasks)" % ntasks,
          lambda: estimate(dview.map_sync("pi", range(ntasks), samples=chunk, seed=seed), chunk * ntasks),
          chunk * ntasks)
    # 2.2 lview.map
    ntasks = len(lview)
    timed("load-balanced map (%d tasks)" % ntasks,
          lambda: estimate(lview.map_sync("pi", range(ntasks), samples=chunk, seed=seed), chunk * ntasks),
          chunk * ntasks)
    # 2.3 and 2.4: map_async, ready() before and after
    ntasks = 10
    chunk = int(samples // ntasks)
    for name, view in (("direct", dview), ("load-balanced", lview)):
        ar = view.map_async("pi", range(ntasks), samples=chunk, seed=seed)
        print("   %s map_async: ready() at once: %s" % (name, ar.ready()))
        timed("%s map_async (%d tasks)" % (name, ntasks), lambda: estimate(ar.get(), samples), chunk * ntasks)
        print("   ready() after get(): %s, elapsed %.3f s, progress %d/%d" % (ar.ready(), ar.elapsed,
                                                                                ar.progress, len(ar)))
    # 2.5 dview.apply: every engine runs one chunk
    chunk = int(samples // len(dview))
    timed("direct apply (%d engines)" % len(dview),
          lambda: estimate(dview.apply_sync("pi", samples=chunk, seed=seed), chunk * len(dview)),
          chunk * len(dview))
    # 2.6 lview.apply: ONE engine runs one chunk (the lecture's 0.39 = pi / ntasks surprise)
    res = lview.apply_sync("pi", samples=chunk, seed=seed)
    print("   load-balanced apply runs once: %d of %d samples, pi = %.6f" % (res["samples"], samples,
                                                                               estimate(res, chunk)))
    # scatter of chunk sizes: 50 tasks dealt over the engines as ipyparallel deals them
    ntasks = 50
    chunk = int(samples // ntasks)
    dview.scatter("chunk_size", [chunk] * ntasks, block=True)
    parts = dview["chunk_size"]
    print("   scatter of %d chunk sizes: %s per engine" % (ntasks, [len(p) for p in parts]))

    def per_engine():
        ars = [rc[e].map_async("pi", range(len(p)), samples=chunk, seed=seed + e) for e, p in zip(dview.targets, parts)]
        hits = [[r["hits"] for r in ar.get()] for ar in ars]
        print("   hits per engine and chunk: %s ..." % [h[:3] for h in hits])
        return 4.0 * sum(map(sum, hits)) / (chunk * ntasks)
    timed("scattered chunks (%d tasks)" % ntasks, per_engine, chunk * ntasks)
    # mccluster's own: the sum done at the controller, and a reproducible seed
    s = timed("map with reduce='sum' (100 tasks)",
              lambda: estimate(lview.map_sync("pi", range(100), samples=samples // 100, seed=seed, reduce="sum"),
                               samples), samples)
    assert abs(s - np.pi) < 0.05, s
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=float, default=1e8)
    ap.add_argument("--serial", type=float, default=1e5, help="samples of the pure-Python loop")
    ap.add_argument("--engines", type=int, default=4, help="engines of the private cluster")
    ap.add_argument("--profile-dir", help="use the running cluster of this profile instead")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    if a.profile_dir:
        run(mccluster.Client(profile_dir=a.profile_dir), int(a.samples), int(a.serial), a.seed)
    else:
        with mccluster.Cluster(n=a.engines) as rc:
            run(rc, int(a.samples), int(a.serial), a.seed)


if __name__ == "__main__":
    main()
