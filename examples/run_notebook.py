#!/usr/bin/python3
"""Run a notebook's code cells in order, in one namespace, as a script would
(no Jupyter needed), against a private cluster started for it: its cells'
`mccluster.Client()` finds it through $MCCLUSTER_DIR. For CI (ctest
example_notebook); matplotlib draws off screen.

Usage: run_notebook.py NOTEBOOK.ipynb [ENGINES]
"""
import json
import os
import sys
import tempfile

import mccluster


def main():
    path = sys.argv[1]
    engines = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    os.environ.setdefault("MPLBACKEND", "Agg")
    with open(path) as f:
        cells = [c for c in json.load(f)["cells"] if c["cell_type"] == "code"]
    with mccluster.Cluster(n=engines) as rc, tempfile.TemporaryDirectory() as work:
        os.environ["MCCLUSTER_DIR"] = rc.profile_dir
        os.chdir(work)                               # where a cell writes its pictures
        ns = {"__name__": "__main__"}
        for i, cell in enumerate(cells):
            code = "".join(cell["source"])
            exec(compile(code, "%s cell %d" % (os.path.basename(path), i + 1), "exec"), ns)
        print("%s: %d code cells ran" % (path, len(cells)))


if __name__ == "__main__":
    main()
