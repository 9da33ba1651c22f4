"""client: ipyparallel's Client, views and AsyncResult over libmcclient.

Work is named by kernel ("square", "pi", "walker", or a plugin's), never sent
as Python code: view.map_sync("square", range(100)) is ipyparallel's
view.map_sync(square, range(100)). Waits go in slices of WAIT_SLICE_MS, so a
Ctrl-C is seen within that and leaves the job and the cluster running.
"""
import ctypes
import os
import re
import shlex
import shutil
import sys
import tempfile
import threading
import time

import numpy as np

from . import _lib
from .errors import (ClusterTimeoutError, KernelLibraryError, MCClusterError, NoClusterError, RemoteError,
                     UnknownEngineError, error_for)

# How long one wait call may block in the library, in ms: Python sees signals
# (KeyboardInterrupt) between calls.
WAIT_SLICE_MS = 100

# Keyword arguments of map and apply that are options of the job, not of the
# kernel (a kernel argument of the same name goes in kernel_kwargs=).
_OPTIONS = ("block", "chunksize", "seed", "priority", "retries", "reduce", "out", "kernel_kwargs")


def hist2d(bins=(50, 50), range=(0.0, 1.0, 0.0, 1.0)):
    """A reduce= value: engines bin each result's n x 2 points, the controller adds the counts.
    bins: nx or (nx, ny); range: (x0, x1, y0, y1). The result is an int64 array of ny rows by nx columns."""
    if isinstance(bins, int):
        bins = (bins, bins)
    return {"op": "hist2d", "bins": [int(bins[0]), int(bins[1])], "range": [float(x) for x in range]}


def ref(name):
    """An argument that the engine running the task replaces by the value of name in its namespace
    (push a large array once, then pass ref("x") to each task)."""
    if not isinstance(name, str):
        raise TypeError("ref takes a namespace name, a string")
    return {"$ref": name}


def _check_kernel(kernel):
    if not isinstance(kernel, str):
        raise TypeError("mccluster runs kernels by name: give a kernel name such as 'square' (see "
                        "Client.kernels()), not %s" % type(kernel).__name__)
    return kernel


def _seq_spec(seq):
    """A map's sequence as the submit spec writes it: a range stays a range."""
    if isinstance(seq, range):
        return {"range": [seq.start, seq.stop, seq.step]}
    if isinstance(seq, np.ndarray):
        return seq.tolist()
    if isinstance(seq, (str, bytes, dict)) or not hasattr(seq, "__iter__"):
        raise TypeError("map needs a sequence (a list, range, tuple or numpy array), not %s" % type(seq).__name__)
    return list(seq)


def _library_name(path):
    """The library name of a file as `mcclient kernels add` gives it: "mymodel" of "dir/libmymodel.so" or
    "mymodel.c"; None when that is no kernel name."""
    base = os.path.basename(path)
    if base.startswith("lib") and len(base) > 6 and base.endswith(".so"):
        base = base[3:]
    name = base.rsplit(".", 1)[0] if "." in base else base
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name) else None


def _compile(source, out, cflags):
    """libmcclient's mc_kernels_compile (what `mcclient kernels add FILE.c` runs): the compiler's messages,
    or KernelLibraryError with them."""
    flags = [f.encode() for f in cflags]
    argv = (ctypes.c_char_p * max(1, len(flags)))(*flags)
    messages = ctypes.c_void_p()
    rc = _lib.kernels_compile(source.encode(), out.encode(), argv, len(flags), ctypes.byref(messages))
    text = ""
    if messages.value:
        text = ctypes.string_at(messages.value).decode(errors="replace")
        _lib.libc.free(messages)
    if rc != 0:
        cc = os.environ.get("CC") or "cc"
        raise KernelLibraryError(source, "does not compile (%s): nothing was sent" % cc, text, 5)
    return text


def _resolve_arrays(value, take):
    """Replace each {"$array": k} by take(k), the library's typed array k as numpy."""
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("$array"), int):
            return take(value["$array"])
        return {k: _resolve_arrays(v, take) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_arrays(v, take) for v in value]
    return value


class Client:
    """A connection to the controller of a profile (ipyparallel's Client).

    profile_dir: the profile directory (None: $MCCLUSTER_DIR or ~/.mccluster/default);
    timeout: seconds to wait for the controller to answer (NoClusterError after that)."""

    def __init__(self, profile_dir=None, timeout=3.0):
        if timeout is None or timeout <= 0:
            timeout = 3.0
        err = ctypes.create_string_buffer(512)
        self._lock = threading.RLock()
        self._p = _lib.client_new(profile_dir.encode() if profile_dir else None, int(timeout * 1000), err,
                                  len(err))
        if not self._p:
            raise NoClusterError(err.value.decode(errors="replace") or "cannot connect", -1)
        # Typed arrays in replies come as {"$array": k}, taken as numpy arrays without element-wise work.
        _lib.client_keep_arrays(self._p, True)
        self.profile_dir = profile_dir

    # --- plumbing -------------------------------------------------------
    def _handle(self):
        if not self._p:
            raise MCClusterError("this client is closed")
        return self._p

    def _error(self):
        code = _lib.client_errcode(self._p)
        text = (_lib.client_error(self._p) or b"").decode(errors="replace") or "libmcclient failed"
        if code == -1 and ("exited" in text or "stopped answering" in text or "restarted" in text):
            return NoClusterError(text, code)
        return error_for(code, text)

    def _json(self, p):
        """A json_t * the library returned as a Python value, its typed arrays as numpy arrays; the
        library's error when NULL. Called with the lock held, before the next request."""
        if not p:
            raise self._error()
        text_has_arrays = [False]
        value = _lib.from_json(p, seen=text_has_arrays)
        return _resolve_arrays(value, self._take_array) if text_has_arrays[0] else value

    def _take_array(self, k):
        arr = _lib.Array()
        self._check(_lib.client_take_array(self._p, k, ctypes.byref(arr)))
        return _lib.array_from_owned(arr)

    def _call(self, op, body=None, timeout_ms=-1):
        with self._lock, _lib.JsonArg(body) as b:
            return self._json(_lib.client_call(self._handle(), op.encode(), b, timeout_ms))

    def _check(self, rc):
        if rc != 0:
            raise self._error()

    def close(self):
        """Disconnect (jobs go on; their results stay at the controller)."""
        with self._lock:
            if self._p:
                p = ctypes.c_void_p(self._p)
                _lib.client_destroy(ctypes.byref(p))
                self._p = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # --- the cluster ----------------------------------------------------
    @property
    def ids(self):
        """The registered engines' ids."""
        return self._call("ids")

    def __len__(self):
        return len(self.ids)

    def __bool__(self):
        return True

    def engines(self):
        """Each engine: id, host, pid, state, done, failed, ..."""
        return self._call("engines")

    def kernels(self):
        """The kernels and walker targets the engines offer, kernels first: each a dict with name, kind
        ("kernel" or "target"), origin ("built-in", "file", or "client" for one added with kernels_add), hash (its
        library's version), doc and engines; a kernel has its typed args, a target (what walker's target= takes:
        "gauss3", "lib.name") its dim, params (-1: any number) and log (a log density, else a density)."""
        return self._call("kernels")

    def targets(self):
        """The walker targets of kernels() only (kind "target"), by name."""
        return [k for k in self.kernels() if k.get("kind") == "target"]

    def kernels_add(self, path, cflags=None, name=None):
        """Add a library of kernels and walker targets to every engine, now and as engines join (the CLI's
        `mcclient kernels add`). path: a .c file, compiled here by libmcclient exactly as the CLI does (cc -O2
        -fPIC -shared -Wall -Wextra against mc_kernel.h, then cflags: a list or a string), or a .so shipped as
        it is. name: the library's name (default: the file's, without lib and .c/.so); its targets are then
        "name.target". Adding a name again replaces that library for tasks that start afterwards.
        Returns the controller's answer {"name", "hash", "engines", "added"}; raises KernelLibraryError
        naming the file and why (the compiler's messages, or an engine's refusal)."""
        path = os.fspath(path)
        source, shared = path.endswith(".c"), path.endswith(".so")
        if not (source or shared):
            raise ValueError("kernels_add takes a FILE.c to compile or a FILE.so, not %r" % path)
        if cflags is not None and not source:
            raise ValueError("compiler flags go with a .c file only")
        if isinstance(cflags, str):
            cflags = shlex.split(cflags)
        name = name or _library_name(path)
        if not name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", name):
            raise ValueError("%s: the library's name must be a letter or _ then letters, digits or _ (at most "
                             "63; give one with name=)" % path)
        tmp = None
        try:
            if source:
                if not os.path.isfile(path):
                    raise KernelLibraryError(path, "no such file")
                tmp = tempfile.mkdtemp(prefix="mccluster-kernels.")
                built = os.path.join(tmp, name + ".so")
                _compile(path, built, list(cflags or []))
            else:
                built = path
            try:
                with open(built, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise KernelLibraryError(path, e.strerror or str(e)) from None
        finally:
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
        with self._lock:
            p = _lib.client_kernels_add(self._handle(), name.encode(), data, len(data))
            if not p:
                e = self._error()
                raise KernelLibraryError(path, str(e), code=e.code) from None
            return self._json(p)

    def kernels_remove(self, name):
        """Remove a library added with kernels_add from every engine: {"name", "engines"}."""
        with self._lock:
            return self._json(_lib.client_kernels_remove(self._handle(), str(name).encode()))

    def queue_status(self):
        """Tasks waiting and running, per engine, user and job."""
        return self._call("queue")

    def jobs(self, limit=20):
        """Status objects of recent jobs, newest first."""
        return self._call("jobs", {"limit": limit})

    def shutdown(self):
        """Stop the controller and its engines."""
        self._call("shutdown")

    def wait_for_engines(self, n, timeout=20.0):
        """Wait until at least n engines are registered."""
        deadline = time.monotonic() + timeout
        while len(self.ids) < n:
            if time.monotonic() > deadline:
                raise ClusterTimeoutError("%d of %d engines after %.1f s" % (len(self.ids), n, timeout), -1)
            time.sleep(0.05)

    # --- views ----------------------------------------------------------
    def _targets(self, key):
        ids = self.ids
        if isinstance(key, slice):
            return ids[key]
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
            if isinstance(key, (list, tuple, range)):
                return [self._targets(int(k) if isinstance(k, np.integer) else k) for k in key]
            raise TypeError("engine targets are an int, a slice or a list of ints, not %s" % type(key).__name__)
        if int(key) not in ids:
            raise UnknownEngineError("no engine %d (engines: %s)" % (key, ",".join(map(str, ids))), 7)
        return int(key)

    def __getitem__(self, key):
        """rc[0], rc[::2], rc[:], rc[[0, 2]]: a DirectView on those engines."""
        return DirectView(self, self._targets(key))

    def direct_view(self, targets="all"):
        """A DirectView; targets "all" means every engine registered when each call is made."""
        return DirectView(self, targets if targets == "all" else self._targets(targets))

    def load_balanced_view(self, targets=None):
        """A LoadBalancedView: each task goes to whichever engine has room."""
        if targets is not None:
            raise ValueError("a load-balanced view of mccluster uses every engine (use rc[targets] for direct work)")
        return LoadBalancedView(self)

    # --- jobs -----------------------------------------------------------
    def submit(self, spec):
        """Submit a job spec (proto/mc_proto.md, "submit") and return its AsyncResult at once."""
        with self._lock, _lib.JsonArg(spec) as s:
            reply = self._json(_lib.client_submit(self._handle(), s, False))
        return AsyncResult(self, reply["job"], spec)

    def get_result(self, job):
        """The AsyncResult of a job by its id (jobs outlive their clients)."""
        return AsyncResult(self, job, None)

    def _status(self, job):
        with self._lock:
            return self._json(_lib.client_status(self._handle(), job.encode()))

    def _wait(self, job, timeout_ms):
        with self._lock:
            return self._json(_lib.client_wait(self._handle(), job.encode(), int(timeout_ms)))

    def _result(self, job, meta=False):
        if meta:
            return self._call("result", {"job": job, "wait": False, "meta": True})
        with self._lock:
            return self._json(_lib.client_result(self._handle(), job.encode(), False))

    def _alive(self, timeout=2.0):
        """Raise NoClusterError unless a controller answers for the profile within timeout seconds (a
        new connection: it says at once when the connection file is gone or names a process that exited)."""
        try:
            Client(self.profile_dir, timeout).close()
        except MCClusterError as e:
            raise NoClusterError("the controller of profile %s does not answer (%s); its jobs and results are "
                                 "kept in its store for when it is back" % (self.profile_dir or "default", e),
                                 -1) from None

    def abort(self, job):
        with self._lock:
            return self._json(_lib.client_abort(self._handle(), str(job).encode()))

    def renice(self, job, priority):
        with self._lock:
            return self._json(_lib.client_renice(self._handle(), str(job).encode(), int(priority)))

    def wait(self, jobs, timeout=None):
        """Wait for AsyncResults (or job ids); True when all finished in time."""
        if isinstance(jobs, (str, AsyncResult)):
            jobs = [jobs]
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        for j in jobs:
            ar = j if isinstance(j, AsyncResult) else self.get_result(j)
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not ar.wait(left):
                return False
        return True

    # --- namespaces -----------------------------------------------------
    def _targets_json(self, targets):
        return None if targets is None or targets == "all" else ([targets] if isinstance(targets, int)
                                                                  else list(targets))

    def _push(self, ns, targets):
        if not isinstance(ns, dict):
            raise TypeError("push takes a dict of names to values, not %s" % type(ns).__name__)
        with self._lock, _lib.JsonArg(self._targets_json(targets)) as t:
            for name, value in ns.items():
                if not isinstance(name, str):
                    raise TypeError("namespace names are strings, not %s" % type(name).__name__)
                if isinstance(value, np.ndarray) and value.dtype.kind in "fiubc":
                    arr, keep = _lib.array_to_mc(value)
                    self._check(_lib.client_push_array(self._handle(), name.encode(), ctypes.byref(arr), t))
                    del keep
                else:
                    with _lib.JsonArg(value) as v:
                        if v is None:
                            v = _lib.to_json(None)
                        self._check(_lib.client_push(self._handle(), name.encode(), v, t))

    def _names(self, targets):
        with self._lock, _lib.JsonArg(self._targets_json(targets)) as t:
            return self._json(_lib.client_names(self._handle(), t))

    def _gather_array(self, name, targets, round_robin):
        arr = _lib.Array()
        with self._lock, _lib.JsonArg(self._targets_json(targets)) as t:
            self._check(_lib.client_gather_array(self._handle(), name.encode(), t, round_robin,
                                                 ctypes.byref(arr)))
        return _lib.array_from_owned(arr)

    def _pull_json(self, names, targets):
        arr = (ctypes.c_char_p * len(names))(*[n.encode() for n in names])
        with self._lock, _lib.JsonArg(self._targets_json(targets)) as t:
            return self._json(_lib.client_pull(self._handle(), arr, len(names), t))

    def _pull(self, names, targets):
        """Per target (in order), the list of the values of names; typed arrays as numpy."""
        if isinstance(names, str):
            names = [names]
        for n in names:
            if not isinstance(n, str):
                raise TypeError("names to pull are strings, not %s" % type(n).__name__)
        info = self._names(targets)
        out = []
        for entry in info:
            eid, have = entry["id"], entry["names"]
            arrays = [n for n in names if have.get(n, {}).get("type") in ("f64", "i64")]
            rest = [n for n in names if n not in arrays]
            values = {}
            if rest:
                got = self._pull_json(rest, [eid])[0]
                got = [got] if len(rest) == 1 else got
                values.update(zip(rest, got))
            for n in arrays:
                values[n] = self._gather_array(n, [eid], False)
            out.append([values[n] for n in names])
        return out

    def _scatter(self, name, seq, targets, round_robin):
        if not isinstance(name, str):
            raise TypeError("the name to scatter to is a string, not %s" % type(name).__name__)
        with self._lock, _lib.JsonArg(self._targets_json(targets)) as t:
            if isinstance(seq, np.ndarray) and seq.dtype.kind in "fiub":
                arr, keep = _lib.array_to_mc(seq)
                self._check(_lib.client_scatter_array(self._handle(), name.encode(), ctypes.byref(arr), t,
                                                      round_robin))
                del keep
                return
            if isinstance(seq, (str, bytes, dict)) or not hasattr(seq, "__iter__"):
                raise TypeError("scatter needs a sequence (a list, range, tuple or numpy array), not %s"
                                % type(seq).__name__)
            with _lib.JsonArg(list(seq)) as s:
                self._check(_lib.client_scatter(self._handle(), name.encode(), s, t, round_robin))

    def _gather(self, name, targets, round_robin):
        if not isinstance(name, str):
            raise TypeError("the name to gather is a string, not %s" % type(name).__name__)
        info = self._names(targets)
        types = {e["names"].get(name, {}).get("type") for e in info}
        if len(types) == 1 and types <= {"f64", "i64"}:
            return self._gather_array(name, targets, round_robin)
        with self._lock, _lib.JsonArg(self._targets_json(targets)) as t:
            return self._json(_lib.client_gather(self._handle(), name.encode(), t, round_robin))

    def _delete(self, names, targets):
        if isinstance(names, str):
            names = [names]
        arr = (ctypes.c_char_p * len(names))(*[n.encode() for n in names])
        with self._lock, _lib.JsonArg(self._targets_json(targets)) as t:
            self._check(_lib.client_delete(self._handle(), arr, len(names), t))


class _Done:
    """The AsyncResult of an operation that finished when it was called (namespace operations)."""
    def __init__(self, value, label):
        self._value = value
        self._label = label
        self.elapsed = 0.0

    def get(self, timeout=None):
        return self._value

    def wait(self, timeout=None):
        return True

    def ready(self):
        return True

    def successful(self):
        return True

    def __repr__(self):
        return "<AsyncResult: %s:finished>" % self._label


class View:
    """What DirectView and LoadBalancedView share: map and apply of kernels, with job options."""

    def __init__(self, client, targets):
        self.client = client
        self.targets = targets
        self.block = False
        # Job options used for every job of this view unless a call gives its own.
        self.chunksize = None
        self.seed = None
        self.priority = None
        self.retries = None

    def set_flags(self, **flags):
        """Set view options: block, chunksize, seed, priority, retries."""
        for k, v in flags.items():
            if k not in ("block", "chunksize", "seed", "priority", "retries"):
                raise TypeError("unknown view flag %r" % k)
            setattr(self, k, v)

    def _spec(self, kind, kernel, args, kwargs, seq=None):
        opts = {k: kwargs.pop(k) for k in list(kwargs) if k in _OPTIONS}
        kernel_kwargs = dict(kwargs)
        kernel_kwargs.update(opts.pop("kernel_kwargs", None) or {})
        spec = {"kind": kind, "kernel": _check_kernel(kernel), "args": list(args), "kwargs": kernel_kwargs}
        if seq is not None:
            spec["seq"] = _seq_spec(seq)
        targets = self._spec_targets()
        if targets is not None:
            spec["targets"] = targets
        for k in ("chunksize", "seed", "priority", "retries"):
            v = opts.get(k, getattr(self, k))
            if v is not None:
                if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                    raise TypeError("%s must be an int, not %s" % (k, type(v).__name__))
                spec[k] = int(v)
        reduce = opts.get("reduce")
        if reduce is not None:
            if reduce == "hist2d":
                reduce = hist2d()
            if not (reduce == "sum" or isinstance(reduce, dict)):
                raise ValueError("reduce is 'sum', 'hist2d' or mccluster.hist2d(bins, range), not %r" % (reduce,))
            spec["reduce"] = reduce
        if opts.get("out") is not None:
            if not isinstance(opts["out"], str):
                raise TypeError("out= names a value in the engines' namespaces: a string")
            spec["out"] = opts["out"]
        return spec, opts.get("block", self.block)

    def _spec_targets(self):
        return None

    def _run(self, spec, block):
        ar = self.client.submit(spec)
        ar._single_target = self._single() and spec["kind"] == "apply"     # rc[0].apply: the value
        return ar.get() if block else ar

    def _single(self):
        return False

    # map ---------------------------------------------------------------
    def map(self, kernel, seq, *args, **kwargs):
        """kernel(item, *args, **kwargs) for each item of seq: the results in order (block) or an AsyncResult.
        Options: block, chunksize, seed, priority, retries, reduce ('sum', 'hist2d' or hist2d(...)),
        out (a name: results stay on the engines), kernel_kwargs (kernel arguments named like an option)."""
        spec, block = self._spec("map", kernel, args, kwargs, seq)
        return self._run(spec, block)

    def map_sync(self, kernel, seq, *args, **kwargs):
        kwargs["block"] = True
        return self.map(kernel, seq, *args, **kwargs)

    def map_async(self, kernel, seq, *args, **kwargs):
        kwargs["block"] = False
        return self.map(kernel, seq, *args, **kwargs)

    # apply -------------------------------------------------------------
    def apply(self, kernel, *args, **kwargs):
        """kernel(*args, **kwargs): on every target of a DirectView (a list, one per target), or on one
        engine of a LoadBalancedView (the value). Same options as map."""
        spec, block = self._spec("apply", kernel, args, kwargs)
        return self._run(spec, block)

    def apply_sync(self, kernel, *args, **kwargs):
        kwargs["block"] = True
        return self.apply(kernel, *args, **kwargs)

    def apply_async(self, kernel, *args, **kwargs):
        kwargs["block"] = False
        return self.apply(kernel, *args, **kwargs)


class DirectView(View):
    """Work on chosen engines, and their namespaces (ipyparallel's DirectView)."""

    def _single(self):
        return isinstance(self.targets, int)

    def _spec_targets(self):
        return "all" if self.targets == "all" else ([self.targets] if isinstance(self.targets, int)
                                                    else list(self.targets))

    def _ns_targets(self):
        return None if self.targets == "all" else self.targets

    def __len__(self):
        if self.targets == "all":
            return len(self.client.ids)
        return 1 if isinstance(self.targets, int) else len(self.targets)

    def __repr__(self):
        return "<DirectView %s>" % (self.targets,)

    def _done(self, value, label, block):
        b = self.block if block is None else block
        return value if b else _Done(value, label)

    def push(self, ns, targets=None, block=None):
        """Set each name of the dict ns on every target (numpy arrays travel as typed arrays)."""
        self.client._push(ns, self._ns_targets() if targets is None else targets)
        return self._done(None, "push", block)

    def pull(self, names, targets=None, block=None):
        """The value of a name (or a list of values for a list of names) on each target; one target: the value."""
        t = self._ns_targets() if targets is None else targets
        per = self.client._pull(names, t)
        values = [p[0] if isinstance(names, str) else p for p in per]
        if isinstance(t, int):
            values = values[0]
        return self._done(values, "pull", block)

    def scatter(self, key, seq, targets=None, block=None, dist="b", flatten=False):
        """Split seq into one contiguous part per target (dist='r': round robin) and set key = part."""
        if dist not in ("b", "r"):
            raise ValueError("dist is 'b' (blocks) or 'r' (round robin), not %r" % (dist,))
        if flatten:
            raise ValueError("flatten is not supported: each engine gets a list or an array")
        self.client._scatter(key, seq, self._ns_targets() if targets is None else targets, dist == "r")
        return self._done(None, "scatter", block)

    def gather(self, key, targets=None, block=None, dist="b"):
        """The parts of key on the targets joined into one list, or one numpy array when they are typed arrays."""
        if dist not in ("b", "r"):
            raise ValueError("dist is 'b' (blocks) or 'r' (round robin), not %r" % (dist,))
        value = self.client._gather(key, self._ns_targets() if targets is None else targets, dist == "r")
        return self._done(value, "gather", block)

    def delete(self, names, targets=None, block=None):
        self.client._delete(names, self._ns_targets() if targets is None else targets)
        return self._done(None, "delete", block)

    def names(self):
        """Each target's names with type, size and bytes."""
        return self.client._names(self._ns_targets())

    def execute(self, code, *args, **kwargs):
        raise NotImplementedError("mccluster engines run kernels, not Python code: call a kernel by name "
                                  "(view.apply('square', 2)), or add one in C (see README, 'Kernels')")

    def __getitem__(self, key):
        return self.pull(key, block=True)

    def __setitem__(self, key, value):
        self.push({key: value}, block=True)


class LoadBalancedView(View):
    """Tasks to whichever engine has room (ipyparallel's LoadBalancedView)."""

    def __init__(self, client):
        super().__init__(client, None)

    def __len__(self):
        return len(self.client.ids)

    def __repr__(self):
        return "<LoadBalancedView>"


class AsyncResult:
    """A job under way (ipyparallel's AsyncResult). get() gives its results, or raises RemoteError
    listing each distinct error once with its count and engines."""

    def __init__(self, client, job, spec):
        self._client = client
        self.job = job
        self._spec = spec
        self._single_target = False
        self._status = None
        self._result = None
        self._output = None         # (stdout, stderr) once fetched: lists of one string per task
        self._t0 = time.monotonic()

    # identity
    @property
    def msg_ids(self):
        return [self.job]

    @property
    def job_id(self):
        return self.job

    def __repr__(self):
        return "<AsyncResult: %s %s%s>" % (self.job, (self._spec or {}).get("kernel", ""),
                                           ":finished" if self._finished() else "")

    # state
    def _finished(self):
        return self._status is not None and self._status.get("finished") is not None

    def status(self):
        """The job's status object: state, total, done, failed, seed, times, priority."""
        if not self._finished():
            self._status = self._client._status(self.job)
        return self._status

    def ready(self):
        """Has the job finished?"""
        return self.status().get("finished") is not None

    def wait(self, timeout=None):
        """Wait up to timeout seconds (None or < 0: until done). True when it finished."""
        if self._finished():
            return True
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        while True:
            left_ms = WAIT_SLICE_MS if deadline is None else min(WAIT_SLICE_MS,
                                                                  max(0, (deadline - time.monotonic()) * 1000))
            try:
                self._status = self._client._wait(self.job, int(left_ms))
            except ClusterTimeoutError:
                # No reply at all (the library gave up after its own grace): is the controller there?
                self._client._alive()
                continue
            if self._finished():
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False

    def successful(self):
        """True when every task succeeded (the job must have finished)."""
        if not self.ready():
            raise AssertionError("%s has not finished" % self.job)
        return self._status.get("state") == "done"

    @property
    def progress(self):
        """Items finished (succeeded or failed) so far."""
        s = self.status()
        return int(s.get("done", 0)) + int(s.get("failed", 0))

    def __len__(self):
        return int(self.status().get("total", 0))

    @property
    def elapsed(self):
        """Seconds since the job was submitted, until it finished."""
        s = self.status()
        if s.get("finished") is not None and s.get("submitted") is not None:
            return float(s["finished"]) - float(s["submitted"])
        if s.get("submitted") is not None:
            return max(0.0, time.time() - float(s["submitted"]))
        return time.monotonic() - self._t0

    @property
    def seed(self):
        """The job's seed (drawn by the controller when none was given): the same seed gives the same bits."""
        return self.status().get("seed")

    def abort(self):
        """Cancel the job's waiting tasks and stop its running ones."""
        return self._client.abort(self.job)

    def renice(self, priority):
        """Change the job's priority (-1000..1000, higher first)."""
        return self._client.renice(self.job, priority)

    # results
    def get(self, timeout=None):
        """The results: a list for a map and for apply on a DirectView, the value of a load-balanced
        apply (or of a one-engine view), the one value of a reduce. Raises ClusterTimeoutError when not
        done within timeout seconds, RemoteError when tasks failed."""
        if self._result is None:
            if not self.wait(timeout):
                raise ClusterTimeoutError("%s has not finished within %s s" % (self.job, timeout), -1)
            self._result = self._client._result(self.job)
        r = self._result
        errors = r.get("errors") or []
        if errors:
            raise RemoteError(self.job, errors, result=r.get("results"), failed=r.get("failed"),
                              total=r.get("total"))
        return self._shape(r)

    def _shape(self, r):
        results = r.get("results")
        spec = self._spec or {}
        if spec.get("reduce") is not None:
            value = results[0] if isinstance(results, list) and len(results) == 1 else results
            if isinstance(spec["reduce"], dict) and isinstance(value, list):
                value = np.asarray(value, dtype=np.int64)
            return value
        if r.get("single") or self._single_target:
            return results[0] if isinstance(results, list) and results else results
        return results

    @property
    def result(self):
        return self.get()

    # what the tasks printed
    def _printed(self):
        """Fetch, once, what each task printed (the result with its metadata), once the job is done."""
        if self._output is None:
            if not self.wait(None):
                raise ClusterTimeoutError("%s has not finished" % self.job, -1)
            r = self._client._result(self.job, meta=True)
            meta = r.pop("meta", None) or []
            if self._result is None:
                self._result = r
            n = max([int(r.get("total") or 0)] + [int(t.get("task", -1)) + 1 for t in meta])
            out, err = [""] * n, [""] * n
            for t in meta:
                m = t.get("meta") or {}
                k = int(t.get("task", -1))
                if 0 <= k < n and isinstance(m, dict):
                    out[k] = m.get("stdout") or ""
                    err[k] = m.get("stderr") or ""
            self._output = (out, err)
        return self._output

    @property
    def stdout(self):
        """What each task printed on its standard output: one string per task, in task order ("" for a task
        that printed nothing), as ipyparallel's AsyncResult.stdout. Waits for the job; fetched once."""
        return self._printed()[0]

    @property
    def stderr(self):
        """What each task printed on its standard error, as stdout."""
        return self._printed()[1]

    def wait_interactive(self, interval=0.1, timeout=None):
        """Wait with a progress bar: a widget-free bar in a notebook, one line redrawn on a terminal."""
        out = _ProgressBar(self.job)
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        try:
            while True:
                step = interval if deadline is None else min(interval, max(0.0, deadline - time.monotonic()))
                done = self.wait(step)
                s = self._status
                out.show(int(s.get("done", 0)) + int(s.get("failed", 0)), int(s.get("total", 0)), self.elapsed)
                if done or (deadline is not None and time.monotonic() >= deadline):
                    break
        finally:
            out.close()


class _ProgressBar:
    """Progress of a job: updated in place in a Jupyter notebook, or redrawn with \\r on a terminal."""
    WIDTH = 40

    def __init__(self, label):
        self.label = label
        self.handle = None
        self.last = None
        if "ipykernel" in sys.modules:
            try:
                from IPython.display import display
                self.handle = display("", display_id=True)
            except Exception:
                self.handle = None
        self.tty = sys.stderr.isatty()

    def _line(self, done, total, elapsed):
        frac = done / total if total else 1.0
        n = int(frac * self.WIDTH)
        return "%s [%s%s] %d/%d tasks %5.1f%% %.2fs" % (self.label, "#" * n, "." * (self.WIDTH - n), done, total,
                                                         100 * frac, elapsed)

    def show(self, done, total, elapsed):
        line = self._line(done, total, elapsed)
        if line == self.last:
            return
        self.last = line
        if self.handle is not None:
            self.handle.update(line)
        elif self.tty:
            sys.stderr.write("\r" + line)
            sys.stderr.flush()

    def close(self):
        if self.handle is None:
            if self.tty:
                sys.stderr.write("\n")
            elif self.last:
                sys.stderr.write(self.last + "\n")
            sys.stderr.flush()
