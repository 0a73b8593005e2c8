/* test_jpeg_quality.c — the JPEG quality estimate from the DQT luminance table: libvips (libjpeg)
 * files saved at known Q give back exactly that Q; a hand-built 16-bit table is read; files that
 * are not JPEG say so; and every truncation of a real file is refused or answered without
 * reading past the buffer (run under ASan in CI). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "core/error.h"
#include "image/image.h"
#include "image/jpeg_quality.h"
#include "test_support.h"

static int setup(void **state) {
    (void)state;
    return bs_image_init("test_jpeg_quality", 1);
}

/* A 32×24 colour gradient saved as JPEG (or PNG) at quality q into a malloc'd buffer. */
static unsigned char *encode(int q, const char *suffix, size_t *len) {
    enum { W = 32, H = 24 };
    static unsigned char px[W * H * 3];
    for (int i = 0; i < W * H; i++) {
        px[3 * i] = (unsigned char)(8 * (i % W));
        px[3 * i + 1] = (unsigned char)(10 * (i / W));
        px[3 * i + 2] = (unsigned char)(i * 7);
    }
    VipsImage *im = vips_image_new_from_memory(px, sizeof px, W, H, 3, VIPS_FORMAT_UCHAR);
    assert_non_null(im);
    void *buf = NULL;
    int rc = strcmp(suffix, ".png") == 0 ? vips_pngsave_buffer(im, &buf, len, NULL)
                                         : vips_jpegsave_buffer(im, &buf, len, "Q", q, NULL);
    g_object_unref(im);
    assert_int_equal(rc, 0);
    unsigned char *copy = malloc(*len);
    memcpy(copy, buf, *len);
    g_free(buf);
    return copy;
}

static void libjpeg_files_give_their_quality(void **state) {
    (void)state;
    const int qs[] = {1, 10, 30, 50, 51, 75, 90, 95, 99, 100};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        size_t len;
        unsigned char *b = encode(qs[i], ".jpg", &len);
        int q = 0, d = -1;
        assert_int_equal(bs_jpeg_quality(b, len, "x.jpg", &q, &d), 0);
        if (q != qs[i]) fail_msg("saved at Q %d, estimated %d (distance %d)", qs[i], q, d);
        assert_int_equal(d, 0);
        free(b);
    }
}

static void not_a_jpeg(void **state) {
    (void)state;
    size_t len;
    unsigned char *b = encode(0, ".png", &len);
    int q = -7;
    assert_int_equal(bs_jpeg_quality(b, len, "x.png", &q, NULL), 1);
    assert_int_equal(q, -7);
    free(b);
    assert_int_equal(bs_jpeg_quality((const unsigned char *)"\xff\xd8", 2, "short", &q, NULL), 1);
    /* A JPEG whose only table is a chrominance one (id 1): no estimate. */
    unsigned char c[4 + 2 + 2 + 1 + 64 + 2];
    size_t n = 0;
    c[n++] = 0xFF, c[n++] = 0xD8, c[n++] = 0xFF, c[n++] = 0xDB, c[n++] = 0, c[n++] = 67,
    c[n++] = 0x01;
    for (int i = 0; i < 64; i++) c[n++] = 1;
    c[n++] = 0xFF, c[n++] = 0xDA;
    assert_int_equal(bs_jpeg_quality(c, n, "chroma", &q, NULL), 1);
}

/* A hand-built header: SOI, a fill byte, an APP0 to skip, DQT with a 16-bit table 0 holding
 * IJG's quality-60 luminance table (scale 80: (s·80 + 50)/100), then SOS. */
static void sixteen_bit_table(void **state) {
    (void)state;
    static const int std_zigzag[64] = {16,  11, 12, 14,  12,  10,  16,  14,  13, 14,  18,  17,  16,
                                       19,  24, 40, 26,  24,  22,  22,  24,  49, 35,  37,  29,  40,
                                       58,  51, 61, 60,  57,  51,  56,  55,  64, 72,  92,  78,  64,
                                       68,  87, 69, 55,  56,  80,  109, 81,  87, 95,  98,  103, 104,
                                       103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99};
    unsigned char b[2 + 1 + 6 + 4 + 1 + 128 + 2];
    size_t n = 0;
    b[n++] = 0xFF, b[n++] = 0xD8, b[n++] = 0xFF; /* SOI, fill */
    b[n++] = 0xFF, b[n++] = 0xE0, b[n++] = 0, b[n++] = 4, b[n++] = 'x', b[n++] = 'y'; /* APP0 */
    b[n++] = 0xFF, b[n++] = 0xDB, b[n++] = 0, b[n++] = 2 + 1 + 128,
    b[n++] = 0x10; /* 16-bit, id 0 */
    for (int k = 0; k < 64; k++) {
        int v = (std_zigzag[k] * 80 + 50) / 100;
        b[n++] = (unsigned char)(v >> 8), b[n++] = (unsigned char)v;
    }
    b[n++] = 0xFF, b[n++] = 0xDA;
    int q = 0, d = -1;
    assert_int_equal(bs_jpeg_quality(b, n, "hand", &q, &d), 0);
    assert_int_equal(q, 60);
    assert_int_equal(d, 0);
    /* a table length that overruns its segment */
    b[13] = 2 + 1 + 64;
    assert_int_equal(bs_jpeg_quality(b, n, "hand", &q, &d), -1);
    /* a bad table header (precision 2) */
    b[13] = 2 + 1 + 128, b[14] = 0x20;
    assert_int_equal(bs_jpeg_quality(b, n, "hand", &q, &d), -1);
}

static void every_truncation_is_safe(void **state) {
    (void)state;
    size_t len;
    unsigned char *b = encode(80, ".jpg", &len);
    int answered = 0, refused = 0;
    for (size_t cut = 0; cut < len; cut++) {
        /* an exact-size copy, so ASan sees any read past the end */
        unsigned char *t = malloc(cut ? cut : 1);
        memcpy(t, b, cut);
        int q = 0, rc = bs_jpeg_quality(t, cut, "cut.jpg", &q, NULL);
        assert_true(rc == -1 || rc == 0 || rc == 1);
        if (rc == 0) assert_int_equal(q, 80), answered++;
        if (rc == -1) refused++;
        free(t);
    }
    assert_true(answered > 0 && refused > 0); /* cut after the scan starts vs before */
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(libjpeg_files_give_their_quality),
        cmocka_unit_test(not_a_jpeg),
        cmocka_unit_test(sixteen_bit_table),
        cmocka_unit_test(every_truncation_is_safe),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
