"""picture: a 2-D histogram as a PNG heatmap with numpy and zlib alone, for
where matplotlib is not installed (mcclient --png draws the same way: origin
at the lower left, darker for fewer counts)."""
import struct
import zlib

import numpy as np

# A dark-blue to yellow ramp (anchors of viridis), interpolated per pixel.
_RAMP = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=float)


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(counts, path, scale=8):
    """Write counts (ny rows by nx columns, row 0 at the bottom) as a PNG heatmap, each bin scale x scale
    pixels. Returns the path."""
    c = np.asarray(counts, dtype=float)
    if c.ndim != 2 or c.size == 0:
        raise ValueError("write_png needs a non-empty 2-D array of counts, not shape %s" % (c.shape,))
    top = c.max()
    t = c / top if top > 0 else c
    pos = t * (len(_RAMP) - 1)
    lo = np.clip(np.floor(pos).astype(int), 0, len(_RAMP) - 2)
    frac = (pos - lo)[..., None]
    rgb = (_RAMP[lo] * (1 - frac) + _RAMP[lo + 1] * frac).round().astype(np.uint8)
    rgb = rgb[::-1]                                               # row 0 at the bottom
    rgb = rgb.repeat(scale, axis=0).repeat(scale, axis=1)
    h, w = rgb.shape[:2]
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rgb.reshape(h, w * 3)], axis=1).tobytes()
    png = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b""))
    with open(path, "wb") as f:
        f.write(png)
    return path
