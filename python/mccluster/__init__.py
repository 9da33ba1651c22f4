"""mccluster: ipyparallel's Client, views and AsyncResult over mccluster's C client
library (libmcclient), with kernels named instead of Python functions and numpy
arrays moved as typed arrays.

    import mccluster
    rc = mccluster.Client()                 # or: with mccluster.Cluster(n=4) as rc:
    dview, lview = rc[:], rc.load_balanced_view()
    dview.map_sync("square", range(100))
    lview.map_async("walker", range(10), target="gauss3", steps=10_000).get()
"""
from .client import (AsyncResult, Client, DirectView, LoadBalancedView, View, hist2d, ref)
from .cluster import Cluster
from .picture import write_png
from .errors import (BadArgumentError, ClusterTimeoutError, CompositeError, MCClusterError, NoClusterError,
                     KernelLibraryError, RemoteError, UnknownEngineError, UnknownJobError, UnknownKernelError)

__version__ = "0.1.0"
__all__ = ["AsyncResult", "Client", "Cluster", "DirectView", "LoadBalancedView", "View", "hist2d", "ref", "write_png",
           "BadArgumentError", "ClusterTimeoutError", "CompositeError", "MCClusterError", "NoClusterError",
           "KernelLibraryError", "RemoteError", "UnknownEngineError", "UnknownJobError", "UnknownKernelError"]
