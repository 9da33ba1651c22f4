"""cluster: Cluster(n=4), a private ipclusterd for the length of a with block.

    with mccluster.Cluster(n=4) as rc:
        rc[:].map_sync("square", range(8))

It starts ipclusterd -n N on a profile directory of its own (a new private
temporary one unless profile_dir is given), in a session of its own (a Ctrl-C
in the terminal reaches Python, not the cluster), waits for its engines,
yields a connected Client and on exit, also when the body raised, stops the
controller by its pid (which stops its engines) and removes the directory
it made.
"""
import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import time

from .client import Client
from .errors import ClusterTimeoutError, MCClusterError


def _ipclusterd():
    """The ipclusterd to run: $MC_BIN/ipclusterd, the build or install this package came with, or $PATH's."""
    for d in (os.environ.get("MC_BIN"),):
        if d and os.path.exists(os.path.join(d, "ipclusterd")):
            return os.path.join(d, "ipclusterd")
    try:
        from . import _paths
        p = os.path.join(_paths.BINDIR, "ipclusterd")
        if os.path.exists(p):
            return p
    except ImportError:
        pass
    p = shutil.which("ipclusterd")
    if not p:
        raise MCClusterError("cannot find ipclusterd (set MC_BIN to the directory that holds it)")
    return p


class Cluster:
    """A controller with n local engines on a private profile, for a with block (ipyparallel's Cluster).

    n: engines; profile_dir: None for a new temporary one; args: more ipclusterd options
    (e.g. ["--kernel-path", DIR]); timeout: seconds to wait for the engines."""

    def __init__(self, n=4, profile_dir=None, args=(), timeout=30.0, program=None):
        self.n = int(n)
        self.args = list(args)
        self.timeout = timeout
        self.program = program or _ipclusterd()
        self._own_dir = profile_dir is None
        self.profile_dir = profile_dir
        self.proc = None
        self.client = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self):
        """Start the controller and its engines; returns once all n engines are registered."""
        if self.proc:
            return self
        if self._own_dir:
            self.profile_dir = tempfile.mkdtemp(prefix="mccluster-")     # mode 0700
        os.makedirs(self.profile_dir, mode=0o700, exist_ok=True)
        self._out_path = os.path.join(self.profile_dir, "ipclusterd.out")
        out = open(self._out_path, "wb")
        try:
            self.proc = subprocess.Popen([self.program, "-n", str(self.n), "--profile-dir", self.profile_dir]
                                         + self.args, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            out.close()
        atexit.register(self.stop)
        deadline = time.monotonic() + self.timeout
        try:
            while True:
                text = self._output()
                if "ready" in text:
                    break
                if self.proc.poll() is not None:
                    raise MCClusterError("ipclusterd exited with status %s: %s" % (self.proc.returncode,
                                                                                   text.strip()[-500:]))
                if time.monotonic() > deadline:
                    raise ClusterTimeoutError("ipclusterd -n %d not ready within %.0f s: %s"
                                              % (self.n, self.timeout, text.strip()[-500:]), -1)
                time.sleep(0.02)
            self.client = Client(profile_dir=self.profile_dir, timeout=max(3.0, self.timeout / 2))
        except BaseException:
            self.stop()
            raise
        return self

    def _output(self):
        try:
            with open(self._out_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        """Close the client, stop the controller (SIGTERM, then SIGKILL after 10 s) and its engines."""
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.proc:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        atexit.unregister(self.stop)
        if self._own_dir and self.profile_dir and os.path.isdir(self.profile_dir):
            shutil.rmtree(self.profile_dir, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self.client

    def __exit__(self, *exc):
        self.stop()
        return False

    def __repr__(self):
        return "<Cluster n=%d profile_dir=%s pid=%s>" % (self.n, self.profile_dir, self.pid)
