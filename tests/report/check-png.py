#!/usr/bin/env python3
"""check-png.py PNG MIN_INK MIN_COLOUR: is a screenshot a rendered page?

Decodes the PNG with zlib alone (8-bit RGB or RGBA, not interlaced, as
chromium writes them) and prints the fraction of "ink" pixels (visibly
darker or more coloured than the page's near-white background) and of
"colour" pixels (saturated: the chart lines).  Exit 0 when both reach
their minimum, 1 otherwise, with '# ' diagnostics.
"""
import struct
import sys
import zlib


def decode(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat.append(body)
        elif typ == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("unsupported PNG: depth %d type %d interlace %d" %
                         (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    prev = bytes(stride)
    rows = []
    lo7 = int.from_bytes(b"\x7f" * stride, "little")
    hi1 = int.from_bytes(b"\x80" * stride, "little")
    for y in range(h):
        off = y * (stride + 1)
        ft, line = raw[off], raw[off + 1:off + 1 + stride]
        if ft == 0:
            cur = line
        elif ft == 2:
            # bytewise a + b mod 256 on whole rows at once, no carries
            a = int.from_bytes(line, "little")
            b = int.from_bytes(prev, "little")
            s = ((a & lo7) + (b & lo7)) ^ ((a ^ b) & hi1)
            cur = s.to_bytes(stride, "little")
        else:
            c = bytearray(line)
            if ft == 1:
                for i in range(bpp, stride):
                    c[i] = (c[i] + c[i - bpp]) & 255
            elif ft == 3:
                for i in range(stride):
                    left = c[i - bpp] if i >= bpp else 0
                    c[i] = (c[i] + ((left + prev[i]) >> 1)) & 255
            elif ft == 4:
                for i in range(stride):
                    if i >= bpp:
                        a, cc = c[i - bpp], prev[i - bpp]
                    else:
                        a = cc = 0
                    b = prev[i]
                    p = a + b - cc
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                    if pa <= pb and pa <= pc:
                        c[i] = (c[i] + a) & 255
                    elif pb <= pc:
                        c[i] = (c[i] + b) & 255
                    else:
                        c[i] = (c[i] + cc) & 255
            else:
                raise ValueError("bad filter %d in row %d" % (ft, y))
            cur = bytes(c)
        rows.append(cur)
        prev = cur
    return w, h, bpp, rows


def main():
    path, min_ink, min_colour = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    try:
        w, h, bpp, rows = decode(path)
    except (OSError, ValueError, zlib.error, struct.error, TypeError) as e:
        print("# %s: %s" % (path, e))
        return 1
    # every other pixel of every other row: a fraction needs no more
    ink = colour = n = 0
    for row in rows[::2]:
        r, g, b = row[0::2 * bpp], row[1::2 * bpp], row[2::2 * bpp]
        n += len(r)
        for rr, gg, bb in zip(r, g, b):
            hi, lo = max(rr, gg, bb), min(rr, gg, bb)
            if lo < 200:
                ink += 1
            if hi - lo > 60:
                colour += 1
    print("# %dx%d: ink %.2f%%, colour %.2f%%" % (w, h, 100 * ink / n, 100 * colour / n))
    if ink / n < min_ink or colour / n < min_colour:
        print("# below the minimum (ink %g, colour %g)" % (min_ink, min_colour))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
