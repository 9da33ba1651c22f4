"""_lib: libmcclient through ctypes, and the JSON values it speaks.

The library takes and gives jansson values (json_t *). They cross here as
JSON text: Python's json module on this side, jansson's json_loads and
json_dumps (exported by libjansson, which libmcclient links) on the other.
Typed arrays never go through JSON: they cross as mc_array_t pointing at a
numpy buffer (sent without copying) or at a block the library allocated,
which numpy then owns without a copy (freed when the array is collected).
"""
import ctypes
import ctypes.util
import json
import os
import weakref

import numpy as np

MAX_DIMS = 8
DTYPE_F64 = 1
DTYPE_I64 = 2
_NUMPY_OF = {DTYPE_F64: np.dtype("<f8"), DTYPE_I64: np.dtype("<i8")}

# jansson flags (jansson.h)
_JSON_DECODE_ANY = 0x4
_JSON_COMPACT = 0x20
_JSON_ENCODE_ANY = 0x200
_JSON_REAL_PRECISION_17 = (17 & 0x1F) << 11


class Array(ctypes.Structure):
    """mc_array_t of mc_array.h."""
    _fields_ = [("dtype", ctypes.c_int),
                ("ndim", ctypes.c_uint32),
                ("shape", ctypes.c_uint64 * MAX_DIMS),
                ("data", ctypes.c_void_p),
                ("size", ctypes.c_size_t),
                ("frame", ctypes.c_uint32)]


class _JsonHead(ctypes.Structure):
    """The head of jansson's json_t: its type and reference count."""
    _fields_ = [("type", ctypes.c_int), ("refcount", ctypes.c_size_t)]


def _candidates():
    """Where to look for libmcclient.so.0, first match wins."""
    env = os.environ.get("MCCLUSTER_LIB")
    if env:
        yield env
    try:
        from . import _paths
        yield os.path.join(_paths.LIBDIR, "libmcclient.so.0")
    except ImportError:
        pass
    yield "libmcclient.so.0"        # the loader's path (ldconfig, LD_LIBRARY_PATH)


def _load():
    errors = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            errors.append("%s: no such file" % path)
            continue
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(str(e))
    raise ImportError("mccluster: cannot load libmcclient.so.0 (set MCCLUSTER_LIB to its path): "
                      + "; ".join(errors))


lib = _load()
libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
libc.free.argtypes = [ctypes.c_void_p]
libc.free.restype = None

_P = ctypes.c_void_p
_S = ctypes.c_char_p


def _proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


# jansson, found through libmcclient's own dependencies
json_loads = _proto("json_loads", _P, _S, ctypes.c_size_t, _P)
json_dumps = _proto("json_dumps", _P, _P, ctypes.c_size_t)
json_delete = _proto("json_delete", None, _P)

client_new = _proto("mc_client_new", _P, _S, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t)
client_destroy = _proto("mc_client_destroy", None, ctypes.POINTER(_P))
client_call = _proto("mc_client_call", _P, _P, _S, _P, ctypes.c_int)
client_keep_arrays = _proto("mc_client_keep_arrays", None, _P, ctypes.c_bool)
client_take_array = _proto("mc_client_take_array", ctypes.c_int, _P, ctypes.c_size_t, ctypes.POINTER(Array))
client_errcode = _proto("mc_client_errcode", ctypes.c_int, _P)
client_error = _proto("mc_client_error", _S, _P)
client_submit = _proto("mc_client_submit", _P, _P, _P, ctypes.c_bool)
client_status = _proto("mc_client_status", _P, _P, _S)
client_wait = _proto("mc_client_wait", _P, _P, _S, ctypes.c_int)
client_result = _proto("mc_client_result", _P, _P, _S, ctypes.c_bool)
client_abort = _proto("mc_client_abort", _P, _P, _S)
client_renice = _proto("mc_client_renice", _P, _P, _S, ctypes.c_int)
client_push = _proto("mc_client_push", ctypes.c_int, _P, _S, _P, _P)
client_push_array = _proto("mc_client_push_array", ctypes.c_int, _P, _S, ctypes.POINTER(Array), _P)
client_scatter = _proto("mc_client_scatter", ctypes.c_int, _P, _S, _P, _P, ctypes.c_bool)
client_scatter_array = _proto("mc_client_scatter_array", ctypes.c_int, _P, _S, ctypes.POINTER(Array), _P,
                              ctypes.c_bool)
client_pull = _proto("mc_client_pull", _P, _P, ctypes.POINTER(_S), ctypes.c_size_t, _P)
client_gather = _proto("mc_client_gather", _P, _P, _S, _P, ctypes.c_bool)
client_gather_array = _proto("mc_client_gather_array", ctypes.c_int, _P, _S, _P, ctypes.c_bool,
                             ctypes.POINTER(Array))
client_delete = _proto("mc_client_delete", ctypes.c_int, _P, ctypes.POINTER(_S), ctypes.c_size_t, _P)
client_names = _proto("mc_client_names", _P, _P, _P)
client_kernels_add = _proto("mc_client_kernels_add", _P, _P, _S, ctypes.c_char_p, ctypes.c_size_t)
client_kernels_remove = _proto("mc_client_kernels_remove", _P, _P, _S)
# int mc_kernels_compile (source, out, cflags, count, char **messages): messages is malloc'd (libc.free).
kernels_compile = _proto("mc_kernels_compile", ctypes.c_int, _S, _S, ctypes.POINTER(_S), ctypes.c_size_t,
                         ctypes.POINTER(_P))


def decref(value):
    """json_decref, which jansson.h defines inline (so no library exports it)."""
    if not value:
        return
    head = _JsonHead.from_address(value)
    if head.refcount == ctypes.c_size_t(-1).value:      # a static value (true, false, null)
        return
    if head.refcount <= 1:
        json_delete(value)
    else:
        head.refcount -= 1


def _default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, range):
        return list(obj)
    if isinstance(obj, (tuple, set, frozenset)):
        return list(obj)
    raise TypeError("a value of type %s cannot be sent to an engine (use numbers, strings, bools, None, "
                    "lists, dicts with string keys, or numpy arrays)" % type(obj).__name__)


def to_json(value):
    """A new json_t * for a Python value (the caller decrefs it); TypeError or ValueError when it has no JSON form."""
    try:
        text = json.dumps(value, default=_default, allow_nan=False)
    except ValueError as e:
        raise ValueError("cannot send %r: %s" % (value, e)) from None
    p = json_loads(text.encode(), _JSON_DECODE_ANY, None)
    if not p:
        raise ValueError("cannot send %s: libmcclient refused its JSON" % text[:80])
    return p


def from_json(p, free=True, seen=None):
    """The Python value of a json_t * (decref'd when free); seen[0] is set when it may hold {"$array": k}."""
    if not p:
        return None
    try:
        s = json_dumps(p, _JSON_ENCODE_ANY | _JSON_COMPACT | _JSON_REAL_PRECISION_17)
        if not s:
            raise MemoryError("json_dumps failed")
        try:
            text = ctypes.string_at(s)
            if seen is not None:
                seen[0] = b'"$array"' in text
            return json.loads(text.decode())
        finally:
            libc.free(s)
    finally:
        if free:
            decref(p)


class JsonArg:
    """A borrowed json_t * argument, made from a Python value, freed on exit (None stays NULL)."""
    def __init__(self, value):
        self.p = None if value is None else to_json(value)

    def __enter__(self):
        return self.p

    def __exit__(self, *exc):
        decref(self.p)
        self.p = None


class _Owner:
    """Keeps a block libmcclient allocated until numpy lets go of it."""
    __slots__ = ("__weakref__",)


def array_from_owned(arr):
    """A numpy array over an mc_array_t whose data the caller owns (malloc'd): no copy; freed with the array."""
    dtype = _NUMPY_OF.get(arr.dtype)
    if dtype is None:
        libc.free(arr.data)
        raise ValueError("unknown array dtype %d" % arr.dtype)
    shape = tuple(arr.shape[i] for i in range(arr.ndim))
    if not arr.size or not arr.data:
        libc.free(arr.data)
        return np.zeros(shape, dtype)
    buf = (ctypes.c_char * arr.size).from_address(arr.data)
    weakref.finalize(buf, libc.free, arr.data)
    out = np.frombuffer(buf, dtype=dtype).reshape(shape)
    return out


def array_to_mc(value):
    """(mc_array_t, the contiguous numpy array it points into) for a numpy array of numbers."""
    a = np.asarray(value)
    if a.dtype.kind == "f":
        a = np.ascontiguousarray(a, dtype="<f8")
        dtype = DTYPE_F64
    elif a.dtype.kind in "iub":
        a = np.ascontiguousarray(a, dtype="<i8")
        dtype = DTYPE_I64
    else:
        raise TypeError("only arrays of numbers travel as typed arrays (float64 or int64), not %s" % a.dtype)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim > MAX_DIMS:
        raise ValueError("an array has at most %d dimensions, this one %d" % (MAX_DIMS, a.ndim))
    arr = Array()
    arr.dtype = dtype
    arr.ndim = a.ndim
    for i, n in enumerate(a.shape):
        arr.shape[i] = n
    arr.data = a.ctypes.data
    arr.size = a.nbytes
    return arr, a
