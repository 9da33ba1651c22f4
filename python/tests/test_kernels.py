"""Users' own models from Python (issue 17): Client.kernels_add of a .c file (compiled by libmcclient as
`mcclient kernels add` does) and of a .so, replaced and removed; the walker on the added target; what each
task printed in AsyncResult.stdout and .stderr and in RemoteError; a compile error raised with the
compiler's message."""
import os
import time

import numpy as np
import pytest

import mccluster

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USERCODE = os.path.join(SRC, "tests", "kernels", "usercode.c")

# A bump around (CENTER, 0): -DCENTER=N as cflags gives version N.
BUMP = r"""
#include "mc_kernel.h"
#ifndef CENTER
#define CENTER 0
#endif
static double s_bump (const double *x, size_t dim, const double *params)
{
    (void) dim, (void) params;
    double u = x [0] - CENTER, v = x [1];
    return mc_exp (-(u * u + v * v) / 2);
}
static const mc_target_def_t s_targets [] = { { "bump", "a bump at (CENTER, 0)", 2, 0, false, s_bump, NULL } };
MC_PLUGIN_TARGETS (s_targets);
"""


def _mean_x(lview, seed):
    """The mean x of the second half of two chains on pybump.bump (past where the walker started)."""
    chains = lview.map_sync("walker", range(2), target="pybump.bump", steps=4000, seed=seed)
    return float(np.mean([c[len(c) // 2:, 0].mean() for c in chains]))


def test_add_replace_remove(rc, tmp_path):
    src = tmp_path / "pybump.c"
    src.write_text(BUMP)
    lview = rc.load_balanced_view()
    added = rc.kernels_add(src, cflags=["-DCENTER=3"])
    assert added["name"] == "pybump" and added["added"] == ["pybump.bump"]
    assert sorted(added["engines"]) == sorted(rc.ids) and len(added["hash"]) >= 16
    assert 1.5 < _mean_x(lview, 1) < 4.5
    # Listed among the targets: its shape, origin and version, on every engine.
    bump = [t for t in rc.targets() if t["name"] == "pybump.bump"]
    assert len(bump) == 1 and bump[0]["kind"] == "target" and (bump[0]["dim"], bump[0]["params"]) == (2, 0)
    assert bump[0]["log"] is False and bump[0]["origin"] == "client" and added["hash"].startswith(bump[0]["hash"])
    assert sorted(bump[0]["engines"]) == sorted(rc.ids) and bump[0]["doc"] == "a bump at (CENTER, 0)"
    # Replaced (a string of flags, as on the command line): a new version, the walker sees it.
    again = rc.kernels_add(str(src), cflags="-DCENTER=-3 -O1")
    assert again["hash"] != added["hash"]
    assert -4.5 < _mean_x(lview, 1) < -1.5
    assert rc.kernels_remove("pybump")["name"] == "pybump"
    # The engines unload it after the reply: gone from the list within a few seconds.
    deadline = time.monotonic() + 10
    while any(t["name"] == "pybump.bump" for t in rc.targets()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t["name"] == "pybump.bump" for t in rc.targets())
    with pytest.raises(mccluster.MCClusterError):
        lview.map_sync("walker", [0], target="pybump.bump", steps=10)


def test_add_shared_object(rc, tmp_path):
    # A .so shipped as it is: built here with the very function the CLI uses, then added under another name.
    from mccluster.client import _compile
    so = str(tmp_path / "libother.so")
    src = tmp_path / "pybump.c"
    src.write_text(BUMP)
    _compile(str(src), so, ["-DCENTER=1"])
    added = rc.kernels_add(so)
    assert added["name"] == "other" and added["added"] == ["other.bump"]
    rc.kernels_remove("other")


def test_stdout_stderr(rc):
    added = rc.kernels_add(USERCODE)
    say = [k for k in rc.kernels() if k["name"] == "say"][0]     # origin and version, as `mcclient kernels`
    assert say["origin"] == "client" and say["hash"] == added["hash"][:len(say["hash"])] and say["hash"]
    lview = rc.load_balanced_view()
    try:
        ar = lview.map_async("say", ["a", "b", "c"], times=2)
        assert ar.get() == [2, 2, 2]
        assert ar.stdout == ["a 0\na 1\n", "b 0\nb 1\n", "c 0\nc 1\n"]
        assert ar.stderr == ["", "", ""]
        assert ar.stdout is ar.stdout                       # fetched once
        err = lview.map_async("say", ["e"], times=1, err=True)
        assert err.stderr == ["e 0\n"] and err.stdout == [""] and err.get() == [1]
        quiet = lview.map_async("say", ["q"], times=0)
        assert quiet.stdout == [""] and quiet.stderr == [""]    # before get(): it waits, and get() still works
        assert quiet.get() == [0]
        failed = lview.map_async("say", ["oops"], times=2, fail=True)
        with pytest.raises(mccluster.RemoteError) as e:
            failed.get()
        text = str(e.value)
        assert "say: failed as asked" in text and "oops 1" in text
        assert failed.stdout == ["oops 0\noops 1\n"]
    finally:
        rc.kernels_remove("usercode")


def test_compile_error(rc, tmp_path):
    bad = tmp_path / "broken.c"
    bad.write_text("int f (void) { return undeclared_thing; }\n")
    with pytest.raises(mccluster.KernelLibraryError) as e:
        rc.kernels_add(bad)
    assert str(bad) in str(e.value) and "does not compile" in str(e.value)
    assert "undeclared_thing" in e.value.messages and "undeclared_thing" in str(e.value)
    assert not any(k["name"].startswith("broken") for k in rc.kernels())
    with pytest.raises(mccluster.KernelLibraryError, match="nosuch.c: no such file"):
        rc.kernels_add(tmp_path / "nosuch.c")
    with pytest.raises(ValueError, match="FILE.c"):
        rc.kernels_add(tmp_path / "ring.txt")


def test_refused_library(rc, tmp_path):
    # A shared object without mc_plugin: an engine refuses it, in one line naming the file and why.
    src = tmp_path / "noplugin.c"
    src.write_text("int nothing_here (void) { return 0; }\n")
    so = str(tmp_path / "noplugin.so")
    from mccluster.client import _compile
    _compile(str(src), so, [])
    with pytest.raises(mccluster.KernelLibraryError) as e:
        rc.kernels_add(so)
    assert so in str(e.value) and "mc_plugin" in str(e.value)
