"""The batch-size colours: every pair in use told apart (CIEDE2000, computed here from sRGB)."""

import itertools
import math

import pytest

from ui.colors import FULL_COLOR, PALETTE, batch_size_color

WHITE = (100.0, 0.0, 0.0)


def srgb_to_lab(hex_color: str) -> tuple[float, float, float]:
    """CIELAB (D65 white) of an sRGB hex colour: undo the sRGB curve, linear RGB -> XYZ, XYZ -> L*a*b*."""
    h = hex_color.lstrip("#")
    rgb = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb)
    xyz = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b, 0.2126729 * r + 0.7151522 * g + 0.0721750 * b,
           0.0193339 * r + 0.1191920 * g + 0.9503041 * b)
    d = 6 / 29

    def f(t):
        return t ** (1 / 3) if t > d ** 3 else t / (3 * d * d) + 4 / 29

    fx, fy, fz = (f(v / w) for v, w in zip(xyz, (0.95047, 1.0, 1.08883), strict=True))
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def ciede2000(lab1, lab2) -> float:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005), k_L = k_C = k_H = 1."""
    (L1, a1, b1), (L2, a2, b2) = lab1, lab2
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean ** 7 / (c_mean ** 7 + 25 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1, c2 = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1, h2 = (math.degrees(math.atan2(b, a)) % 360 for a, b in ((a1p, b1), (a2p, b2)))
    dh = 0.0 if c1 * c2 == 0 else (h2 - h1 + 180) % 360 - 180
    d_L, d_C, d_H = L2 - L1, c2 - c1, 2 * math.sqrt(c1 * c2) * math.sin(math.radians(dh / 2))
    L_mean, c_mean_p = (L1 + L2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_mean = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_mean = (h1 + h2) / 2
    else:
        h_mean = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (1 - 0.17 * math.cos(math.radians(h_mean - 30)) + 0.24 * math.cos(math.radians(2 * h_mean))
         + 0.32 * math.cos(math.radians(3 * h_mean + 6)) - 0.20 * math.cos(math.radians(4 * h_mean - 63)))
    s_L = 1 + 0.015 * (L_mean - 50) ** 2 / math.sqrt(20 + (L_mean - 50) ** 2)
    s_C, s_H = 1 + 0.045 * c_mean_p, 1 + 0.015 * c_mean_p * t
    r_C = 2 * math.sqrt(c_mean_p ** 7 / (c_mean_p ** 7 + 25 ** 7))
    r_T = -math.sin(math.radians(60 * math.exp(-(((h_mean - 275) / 25) ** 2)))) * r_C
    return math.sqrt((d_L / s_L) ** 2 + (d_C / s_C) ** 2 + (d_H / s_H) ** 2 + r_T * (d_C / s_C) * (d_H / s_H))


@pytest.mark.parametrize("lab1, lab2, expect", [  # Sharma, Wu & Dalal's test data, pairs 1, 3, 7, 17, 25, 34
    ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425), ((50, 2.8361, -74.02), (50, 0, -82.7485), 3.4412),
    ((50, 0, 0), (50, -1, 2), 2.3669), ((50, 2.5, 0), (73, 25, -18), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082)])
def test_ciede2000_matches_the_published_test_pairs(lab1, lab2, expect):
    assert ciede2000(lab1, lab2) == pytest.approx(expect, abs=1e-4)
    assert ciede2000(lab2, lab1) == pytest.approx(expect, abs=1e-4)


def test_srgb_to_lab_known_values():
    assert srgb_to_lab("#ffffff") == pytest.approx(WHITE, abs=1e-3)
    assert srgb_to_lab("#000000") == pytest.approx((0, 0, 0), abs=1e-9)
    assert srgb_to_lab("#ff0000") == pytest.approx((53.24, 80.09, 67.20), abs=0.02)  # the usual sRGB red


def test_every_pair_of_batch_size_colours_is_distinguishable():
    labs = {c: srgb_to_lab(c) for c in (*PALETTE, FULL_COLOR)}
    worst = min((ciede2000(labs[a], labs[b]), a, b) for a, b in itertools.combinations(labs, 2))
    assert worst[0] > 24, worst  # Plotly's D3 palette: 15.5 (orange and light orange)
    for c in PALETTE:  # none so light that a thin line vanishes on the white background
        assert ciede2000(labs[c], WHITE) > 30 and labs[c][0] < 72, c


def test_batch_sizes_shown_together_are_the_furthest_apart():
    # a comparison is usually a few sizes within a factor of 8; the old palette had B = 1 and B = 512 (#1f77b4,
    # #aec7e8) at 27.8 and B = 8 and B = 64 (#d62728, #e377c2) at 33.0, both hard to tell apart as lines
    n = len(PALETTE)  # colours repeat every n powers of two (B = 1 and B = 2**n share one)
    for i, j in itertools.combinations(range(n), 2):
        a, b = 2 ** i, 2 ** j
        if min(j - i, n - (j - i)) <= 3:  # within a factor of 8, counting B = 2**(n-1) next to B = 1
            assert ciede2000(srgb_to_lab(batch_size_color(a)), srgb_to_lab(batch_size_color(b))) > 28, (a, b)
    assert ciede2000(srgb_to_lab(batch_size_color(1)), srgb_to_lab(batch_size_color(512))) > 40
    assert ciede2000(srgb_to_lab(batch_size_color(8)), srgb_to_lab(batch_size_color(64))) > 40
