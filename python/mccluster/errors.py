"""errors: what mccluster raises. Every error of the controller or an engine is
an MCClusterError with the protocol's error code (proto/mc_proto.md, section 7);
the common ones have their own class, which also derives from the built-in
exception a Python user would catch."""

# Error codes of mc_proto.md section 7 (and -1: no reply in time).
NO_REPLY = -1
BAD_ARGUMENT = 5
UNKNOWN_JOB = 6
UNKNOWN_ENGINE = 7
UNKNOWN_KERNEL = 8
NO_ENGINES = 12
DENIED = 15


class MCClusterError(Exception):
    """An error reported by libmcclient, the controller or an engine."""
    def __init__(self, message, code=0):
        super().__init__(message)
        self.code = code


class NoClusterError(MCClusterError, ConnectionError):
    """No controller answers for the profile (not started, stopped, or unreachable)."""


class ClusterTimeoutError(MCClusterError, TimeoutError):
    """A wait, or a reply, did not come in time."""


class UnknownKernelError(MCClusterError, LookupError):
    """No engine has a kernel of that name."""


class UnknownEngineError(MCClusterError, IndexError):
    """A target is not a registered engine."""


class BadArgumentError(MCClusterError, ValueError):
    """The controller or library refused an argument; the message names it."""


class UnknownJobError(MCClusterError, LookupError):
    """No such job (or it was purged)."""


class KernelLibraryError(MCClusterError):
    """Client.kernels_add failed: the C file does not compile (messages: the compiler's), the file
    cannot be read, or an engine refused the library (another ABI, no mc_plugin, a clashing name).
    path: the file; reason: why, in one line."""
    def __init__(self, path, reason, messages="", code=0):
        text = "%s: %s" % (path, reason)
        if messages:
            text += "\n" + messages.rstrip("\n")
        super().__init__(text, code)
        self.path = path
        self.reason = reason
        self.messages = messages


_BY_CODE = {NO_REPLY: ClusterTimeoutError, BAD_ARGUMENT: BadArgumentError, UNKNOWN_JOB: UnknownJobError,
            UNKNOWN_ENGINE: UnknownEngineError, UNKNOWN_KERNEL: UnknownKernelError}


def error_for(code, message):
    """The exception for a library error code and message."""
    return _BY_CODE.get(code, MCClusterError)(message, code)


class RemoteError(MCClusterError):
    """Tasks of a job failed on engines. Each distinct error is listed once, with how many
    tasks failed with it and on which engines (ipyparallel's CompositeError, folded).

    errors: list of dicts {"error", "count", "engines", "tasks"}; job: the job id;
    result: the results of the items that succeeded (None for failed ones)."""
    def __init__(self, job, errors, result=None, failed=None, total=None):
        self.job = job
        self.errors = errors
        self.result = result
        n = failed if failed is not None else sum(e.get("count", 1) for e in errors)
        head = "%s: %d of %s items failed" % (job, n, total if total is not None else "?") \
            if total is not None else "%s: %d tasks failed" % (job, n)
        lines = [head]
        for e in errors:
            engines = e.get("engines", [])
            # The error's first line; after it, the last lines the task printed, when it did (mc_proto.md,
            # "What a kernel prints"), indented under it.
            first, _, printed = str(e.get("error", "?")).partition("\n")
            lines.append("  [%d x] %s (engine%s %s)" % (e.get("count", 1), first,
                                                          "" if len(engines) == 1 else "s",
                                                          ",".join(str(x) for x in engines)))
            lines.extend("      " + line for line in printed.rstrip("\n").split("\n") if printed)
        super().__init__("\n".join(lines), 10)

    def __iter__(self):
        return iter(self.errors)


CompositeError = RemoteError
