"""Ctrl-C during a wait: KeyboardInterrupt in the waiting process within a
moment, and the cluster (and the job) keep running."""
import os
import signal
import subprocess
import sys
import time

import mccluster

CHILD = r"""
import sys, mccluster
rc = mccluster.Client(profile_dir=sys.argv[1])
ar = rc.load_balanced_view().map_async("sleep", [1500])
print(ar.job_id, flush=True)
try:
    ar.wait()
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    print("ids", rc.ids, flush=True)
"""


def test_ctrl_c_in_wait(cluster, rc):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(mccluster.__file__)),
                                                     env.get("PYTHONPATH")] if p)
    child = subprocess.Popen([sys.executable, "-c", CHILD, cluster.profile_dir], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env, text=True)
    try:
        job = child.stdout.readline().strip()
        assert job.startswith("j"), child.stderr.read()
        time.sleep(0.3)
        t = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=10)
        assert time.monotonic() - t < 2
    finally:
        if child.poll() is None:
            child.kill()
    assert "interrupted" in out, out + err
    assert "ids [0, 1]" in out
    assert child.returncode == 0
    # the cluster keeps running, and so does the job
    assert cluster.proc.poll() is None
    assert rc.ids == [0, 1]
    assert rc.get_result(job).get(timeout=10) == [None]
