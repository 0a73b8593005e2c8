/* jpeg_quality.c — JPEG quality from the DQT luminance table (see jpeg_quality.h). */
#include "jpeg_quality.h"

#include <stdint.h>
#include <stdlib.h>

#include "core/error.h"

/* ITU T.81 Annex K.1, the table libjpeg scales: natural (row-major) order. */
static const int std_luminance[64] = {16,  11,  10,  16,  24, 40, 51,  61,  12,  12,  14,  19,  26,
                                      58,  60,  55,  14,  13, 16, 24,  40,  57,  69,  56,  14,  17,
                                      22,  29,  51,  87,  80, 62, 18,  22,  37,  56,  68,  109, 103,
                                      77,  24,  35,  55,  64, 81, 104, 113, 92,  49,  64,  78,  87,
                                      103, 121, 120, 101, 72, 92, 95,  98,  112, 100, 103, 99};

/* DQT stores coefficients in zigzag order: zigzag[k] is the natural index of the k-th. */
static const int zigzag[64] = {0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
                               12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
                               35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
                               58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

/* libjpeg's jpeg_quality_scaling and jpeg_add_quant_table (force_baseline). */
static int ijg_entry(int q, int i) {
    long scale = q < 50 ? 5000 / q : 200 - 2 * q;
    long v = ((long)std_luminance[i] * scale + 50) / 100;
    return v < 1 ? 1 : v > 255 ? 255 : (int)v;
}

/* Parse one DQT segment's payload [p, end); keep table 0 (natural order) in lum. */
static int parse_dqt(const unsigned char *b, size_t p, size_t end, const char *name, int lum[64],
                     int *found) {
    while (p < end) {
        int precision = b[p] >> 4, id = b[p] & 15;
        p++;
        if (precision > 1 || id > 3) return bs_error("%s: bad quantisation table header", name);
        size_t need = 64 * (size_t)(precision + 1);
        if (need > end - p) return bs_error("%s: quantisation table runs past its segment", name);
        if (id == 0) {
            for (int k = 0; k < 64; k++)
                lum[zigzag[k]] = precision ? (b[p + 2 * k] << 8) | b[p + 2 * k + 1] : b[p + k];
            *found = 1;
        }
        p += need;
    }
    return 0;
}

/* Walk the markers up to the first scan; table 0 into lum. */
static int find_luminance(const unsigned char *b, size_t len, const char *name, int lum[64],
                          int *found) {
    size_t pos = 2;
    while (pos + 2 <= len) {
        if (b[pos] != 0xFF) return bs_error("%s: JPEG marker expected at byte %zu", name, pos);
        int marker = b[pos + 1];
        if (marker == 0xFF) { /* fill byte */
            pos++;
            continue;
        }
        pos += 2;
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue; /* no length */
        if (marker == 0xD9 || marker == 0xDA)
            return 0; /* end of image, or the scan: tables come before */
        if (len - pos < 2) break;
        size_t seglen = ((size_t)b[pos] << 8) | b[pos + 1];
        if (seglen < 2 || seglen > len - pos)
            return bs_error("%s: JPEG segment at byte %zu runs past the file", name, pos - 2);
        if (marker == 0xDB && parse_dqt(b, pos + 2, pos + seglen, name, lum, found)) return -1;
        pos += seglen;
    }
    return bs_error("%s: JPEG ends before its first scan", name);
}

int bs_jpeg_quality(const unsigned char *buf, size_t len, const char *name, int *quality,
                    int *distance) {
    if (len < 4 || buf[0] != 0xFF || buf[1] != 0xD8 || buf[2] != 0xFF) return 1;
    int lum[64], found = 0;
    if (find_luminance(buf, len, name, lum, &found)) return -1;
    if (!found) return 1;
    int best = 1;
    long best_d = -1;
    for (int q = 1; q <= 100; q++) {
        long d = 0;
        for (int i = 0; i < 64; i++) d += labs((long)ijg_entry(q, i) - lum[i]);
        if (best_d < 0 || d < best_d) best = q, best_d = d;
    }
    *quality = best;
    if (distance) *distance = (int)best_d;
    return 0;
}
