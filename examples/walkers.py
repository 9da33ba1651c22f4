#!/usr/bin/python3
"""Ten Metropolis-Hastings random walkers over the lecture's sum of three 2-D
Gaussians (seeds/000), on an mccluster: the walkers run as the kernel "walker"
(target="gauss3"), their points come back as numpy arrays and are drawn with
matplotlib's imshow when it is installed, else as mccluster's built-in PNG.

    python3 examples/walkers.py                 # a private 4-engine cluster, 10 x 1e5 steps
    python3 examples/walkers.py --steps 1e4 --engines 2 --png /tmp/walk.png   # what CI runs
"""
import argparse
import time

import numpy as np

import mccluster

RESOLUTION = 50


def histogram(points):
    """The notebook's plot_points, without the drawing: 50 x 50 counts over the unit square."""
    h2, _, _ = np.histogram2d(points[:, 0], points[:, 1], [RESOLUTION, RESOLUTION], range=[[0, 1], [0, 1]])
    return h2.T                                  # rows are y, as imshow(..., origin="lower") wants


def draw(counts, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        mccluster.write_png(counts, path)
        return "mccluster.write_png"
    plt.imshow(counts, origin="lower", interpolation="nearest", extent=(0, 1, 0, 1))
    plt.savefig(path)
    plt.close()
    return "matplotlib imshow"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--walkers", type=int, default=10)
    ap.add_argument("--steps", type=float, default=1e5)
    ap.add_argument("--engines", type=int, default=4)
    ap.add_argument("--profile-dir", help="use the running cluster of this profile instead")
    ap.add_argument("--png", default="walk.png")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--builtin-png", action="store_true", help="draw with mccluster.write_png even with matplotlib")
    a = ap.parse_args()
    steps = int(a.steps)
    cluster = None if a.profile_dir else mccluster.Cluster(n=a.engines).start()
    try:
        rc = mccluster.Client(profile_dir=a.profile_dir) if a.profile_dir else cluster.client
        lview = rc.load_balanced_view()
        starts = np.random.default_rng(a.seed).random((a.walkers, 2))

        # The notebook's Exercise 3, each walker a task: points come back as numpy arrays.
        t = time.perf_counter()
        ar = lview.map_async("walker", range(a.walkers), target="gauss3", steps=steps, seed=a.seed)
        chains = ar.get()
        dt = time.perf_counter() - t
        points = np.concatenate(chains)
        print("%d walkers x %d steps: %d points in %.3f s (%.1f M steps/s), arrays %s"
              % (a.walkers, steps, len(points), dt, a.walkers * steps / dt / 1e6, chains[0].dtype))
        counts = histogram(points)

        # Each from its own start, as the notebook's `for start in starts`.
        from_starts = [lview.apply_async("walker", target="gauss3", steps=steps, start=list(s), seed=a.seed)
                       for s in starts]
        more = np.concatenate([r.get() for r in from_starts])
        print("from %d random starts: %d points" % (len(starts), len(more)))

        # The notebook's %%px cell and c[:]["points"]: each engine keeps its walk, then they are pulled.
        dview = rc[:]
        dview.apply_sync("walker", target="gauss3", steps=steps, seed=a.seed, out="points")
        pulled = np.concatenate(dview["points"])
        print("c[:]['points'] from %d engines: %d points" % (len(dview), len(pulled)))

        # mccluster's own: engines bin their points, the controller adds the counts.
        binned = lview.map_sync("walker", range(a.walkers), target="gauss3", steps=steps, seed=a.seed,
                                reduce=mccluster.hist2d(bins=RESOLUTION, range=(0, 1, 0, 1)))
        assert binned.shape == (RESOLUTION, RESOLUTION)
        assert int(binned.sum()) == int(counts.sum()), (binned.sum(), counts.sum())   # same seed, same points
        print("reduce=hist2d: %d points binned on the engines, same counts as numpy's: %s"
              % (binned.sum(), np.array_equal(binned, counts.astype(np.int64))))

        if a.builtin_png:
            how = "mccluster.write_png"
            mccluster.write_png(counts, a.png)
        else:
            how = draw(counts, a.png)
        print("picture: %s (%s)" % (a.png, how))
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
