#!/usr/bin/python3
"""Write tests/image/fixtures/stain.csv: known answers for src/image/stain.c, computed here
independently (plain Python, exact matrix inverses with fractions; no numpy, no C code shared).

  hed,R,G,B,H,E,D      colour deconvolution: od_c = -log10(max(c/255, 1e-6)), hed = od . inv(M)
                       with Ruifrok & Johnston's M (scikit-image's rgb_from_hed); equal to
                       6 x skimage.color.rgb2hed without its clamp of negatives at 0
  rgb,H,E,D,R,G,B      the way back before rounding: 255 * 10^(-hed . M)
  lab,R,G,B,L,A,B      Reinhard's l-alpha-beta of (RGB + 1) / 256

Run: python3 tests/image/make_stain_fixture.py > tests/image/fixtures/stain.csv
"""
import math
import random
from fractions import Fraction as F

RGB_FROM_HED = [[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]]
LMS_FROM_RGB = [[0.3811, 0.5783, 0.0402], [0.1967, 0.7244, 0.0782], [0.0241, 0.1288, 0.8444]]


def inverse(m):
    """Gauss-Jordan on exact fractions of the decimal entries."""
    a = [[F(str(v)) for v in row] + [F(int(i == j)) for j in range(3)] for i, row in enumerate(m)]
    for col in range(3):
        piv = next(r for r in range(col, 3) if a[r][col] != 0)
        a[col], a[piv] = a[piv], a[col]
        p = a[col][col]
        a[col] = [v / p for v in a[col]]
        for r in range(3):
            if r != col and a[r][col] != 0:
                f = a[r][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col])]
    return [[float(v) for v in row[3:]] for row in a]


HED_FROM_RGB = inverse(RGB_FROM_HED)


def rgb2hed(rgb):
    od = [-math.log10(max(c / 255.0, 1e-6)) for c in rgb]
    return [sum(od[k] * HED_FROM_RGB[k][s] for k in range(3)) for s in range(3)]


def hed2rgb(hed):
    od = [sum(hed[s] * RGB_FROM_HED[s][c] for s in range(3)) for c in range(3)]
    return [255.0 * 10 ** (-v) for v in od]


def rgb2lab(rgb):
    v = [(c + 1) / 256.0 for c in rgb]
    L = [math.log10(sum(LMS_FROM_RGB[r][k] * v[k] for k in range(3))) for r in range(3)]
    return [(L[0] + L[1] + L[2]) / math.sqrt(3), (L[0] + L[1] - 2 * L[2]) / math.sqrt(6),
            (L[0] - L[1]) / math.sqrt(2)]


def main():
    rng = random.Random(19)
    colours = [(0, 0, 0), (255, 255, 255), (232, 232, 232), (95, 55, 160), (200, 150, 180),
               (120, 80, 170), (1, 2, 3), (250, 10, 20), (30, 200, 90), (128, 128, 128)]
    colours += [tuple(rng.randrange(256) for _ in range(3)) for _ in range(10)]
    stains = [(0.0, 0.0, 0.0), (0.3, 0.1, 0.0), (0.05, 0.2, 0.01), (0.5, 0.5, 0.5),
              (-0.05, 0.02, 0.0), (0.8, 0.0, 0.1), (0.0, 0.0, 0.4)]
    stains += [tuple(round(rng.uniform(-0.1, 0.9), 4) for _ in range(3)) for _ in range(5)]
    for c in colours:
        print("hed,%d,%d,%d,%s" % (c + (",".join("%.9g" % v for v in rgb2hed(c)),)))
    for s in stains:
        print("rgb,%s,%s" % (",".join("%.9g" % v for v in s),
                             ",".join("%.9g" % v for v in hed2rgb(s))))
    for c in colours:
        print("lab,%d,%d,%d,%s" % (c + (",".join("%.9g" % v for v in rgb2lab(c)),)))


if __name__ == "__main__":
    main()
