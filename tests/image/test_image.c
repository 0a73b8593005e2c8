/* test_image.c — decoding every supported format, conversion to RGB8, resizing against the
 * reference tensors, mirroring, and refusal of corrupt or hostile files. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "core/error.h"
#include "core/io.h"
#include "core/npy.h"
#include "image/image.h"
#include "test_support.h"

static char *tmp;

static int setup(void **state) {
    (void)state;
    if (bs_image_init("test_image", 1)) return -1;
    tmp = bs_test_tmpdir();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    bs_test_rmtree(tmp);
    free(tmp);
    return 0;
}

/* Mean and max absolute difference between our tensor of an image and a reference input. */
static void compare_to_reference(const char *image, const char *ref, int size, double *mean,
                                 double *max) {
    bs_image img;
    assert_int_equal(bs_image_load_resized(image, size, &img), 0);
    assert_int_equal(img.width, size);
    assert_int_equal(img.height, size);
    float *chw = malloc(sizeof(float) * 3 * size * size);
    bs_image_to_chw(&img, BS_VIEW_ORIGINAL, chw);
    bs_array r;
    assert_int_equal(bs_npy_read(ref, &r), 0);
    assert_int_equal(bs_array_count(&r), 3 * size * size);
    double sum = 0;
    *max = 0;
    for (int i = 0; i < 3 * size * size; i++) {
        double d = fabs((double)chw[i] - r.data[i]);
        sum += d;
        if (d > *max) *max = d;
    }
    *mean = sum / (3.0 * size * size);
    bs_array_free(&r);
    free(chw);
    bs_image_free(&img);
}

/* The reference inputs were resized by Pillow (antialiased bilinear, the same family);
 * their README measures 0.12-0.17 grey levels between Pillow and MATLAB. We hold libvips
 * to a mean of 0.5 grey levels (measured: 0.11-0.22) and a max of 12 at the borders. */
static void resize_matches_reference_inputs(void **state) {
    (void)state;
    static const char *const names[] = {"astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"};
    static const struct {
        const char *model;
        int size;
    } models[] = {{"googlenet-bvlc", 224}, {"inception-v3-nsfwjs", 299}};
    for (size_t m = 0; m < 2; m++) {
        for (size_t i = 0; i < 4; i++) {
            char rel[256], stem[64];
            snprintf(rel, sizeof rel, "reference/images/%s", names[i]);
            char *image = bs_test_asset(rel);
            snprintf(stem, sizeof stem, "%.*s", (int)(strchr(names[i], '.') - names[i]), names[i]);
            snprintf(rel, sizeof rel, "reference/%s/%s_input.npy", models[m].model, stem);
            char *ref = bs_test_asset(rel);
            if (!image || !ref) {
                free(image);
                free(ref);
                BS_SKIP("reference images absent");
            }
            double mean, max;
            compare_to_reference(image, ref, models[m].size, &mean, &max);
            print_message("%s %d: mean abs %.3f, max %.0f grey levels\n", stem, models[m].size,
                          mean, max);
            assert_true(mean <= 0.5);
            assert_true(max <= 12);
            free(image);
            free(ref);
        }
    }
}

/* A deterministic 40x30 RGB test card. */
static VipsImage *test_card(int w, int h, unsigned char *pixels) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = pixels + ((size_t)y * w + x) * 3;
            p[0] = (unsigned char)(x * 6);
            p[1] = (unsigned char)(y * 8);
            p[2] = (unsigned char)((x * y) & 0xff);
        }
    return vips_image_new_from_memory(pixels, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR);
}

static char *fixture(const char *name) { return bs_path_join(tmp, name); }

static void decodes_every_supported_format(void **state) {
    (void)state;
    enum { W = 40, H = 30 };
    static unsigned char px[W * H * 3];
    VipsImage *rgb = test_card(W, H, px);
    assert_non_null(rgb);

    /* Lossless 8-bit RGB: PNG, TIFF, BMP decode to exactly the same pixels. */
    const char *lossless[] = {"card.png", "card.tif", "card.bmp"};
    for (size_t i = 0; i < 3; i++) {
        char *p = fixture(lossless[i]);
        int rc = strstr(p, ".bmp") ? vips_magicksave(rgb, p, "format", "bmp", NULL)
                                   : vips_image_write_to_file(rgb, p, NULL);
        assert_int_equal(rc, 0);
        bs_image img;
        if (bs_image_load(p, &img)) fail_msg("%s", bs_error_message());
        assert_int_equal(img.width, W);
        assert_int_equal(img.height, H);
        assert_memory_equal(img.rgb, px, sizeof px);
        bs_image_free(&img);
        free(p);
    }

    /* JPEG is lossy: close, not equal. */
    char *p = fixture("card.jpg");
    assert_int_equal(vips_jpegsave(rgb, p, "Q", 95, NULL), 0);
    bs_image img;
    assert_int_equal(bs_image_load(p, &img), 0);
    double err = 0;
    for (size_t i = 0; i < sizeof px; i++) err += fabs((double)img.rgb[i] - px[i]);
    assert_true(err / sizeof px < 8);
    bs_image_free(&img);
    free(p);

    /* RGBA PNG: alpha dropped. */
    VipsImage *alpha, *rgba;
    assert_int_equal(vips_black(&alpha, W, H, NULL), 0);
    VipsImage *alpha8;
    assert_int_equal(vips_cast(alpha, &alpha8, VIPS_FORMAT_UCHAR, NULL), 0);
    assert_int_equal(vips_bandjoin2(rgb, alpha8, &rgba, NULL), 0);
    p = fixture("rgba.png");
    assert_int_equal(vips_image_write_to_file(rgba, p, NULL), 0);
    assert_int_equal(bs_image_load(p, &img), 0);
    assert_memory_equal(img.rgb, px, sizeof px);
    bs_image_free(&img);
    free(p);

    /* 16-bit grey TIFF: replicated to three channels, scaled like im2uint8 (round(x/257)). */
    static unsigned short grey16[W * H];
    for (int i = 0; i < W * H; i++) grey16[i] = (unsigned short)(i * 53 % 65536);
    VipsImage *g16 = vips_image_new_from_memory(grey16, sizeof grey16, W, H, 1, VIPS_FORMAT_USHORT);
    p = fixture("grey16.tif");
    assert_int_equal(vips_tiffsave(g16, p, NULL), 0);
    assert_int_equal(bs_image_load(p, &img), 0);
    for (int i = 0; i < W * H; i++) {
        int want = (int)lround(grey16[i] / 257.0);
        for (int c = 0; c < 3; c++) assert_int_equal(img.rgb[i * 3 + c], want);
    }
    bs_image_free(&img);
    free(p);

    /* 8-bit grey + alpha PNG. */
    VipsImage *grey, *ga;
    assert_int_equal(vips_extract_band(rgb, &grey, 0, NULL), 0);
    assert_int_equal(vips_bandjoin2(grey, alpha8, &ga, NULL), 0);
    p = fixture("ga.png");
    assert_int_equal(vips_image_write_to_file(ga, p, NULL), 0);
    assert_int_equal(bs_image_load(p, &img), 0);
    for (int i = 0; i < W * H; i++)
        for (int c = 0; c < 3; c++) assert_int_equal(img.rgb[i * 3 + c], px[i * 3]);
    bs_image_free(&img);
    free(p);

    g_object_unref(ga);
    g_object_unref(grey);
    g_object_unref(g16);
    g_object_unref(rgba);
    g_object_unref(alpha8);
    g_object_unref(alpha);
    g_object_unref(rgb);
}

/* bs_image_load_buffer*: the same pixels as from the file, for every seed image of the image
 * fuzzer (PNG, JPEG, TIFF 8/16-bit, BMP), and the same refusals. */
static void buffer_loads_match_files(void **state) {
    (void)state;
    static const char *const names[] = {"rgb.png",   "grey.png", "rgba.png",  "rgb.jpg",
                                        "prog.jpg",  "rgb.tif",  "rgb16.tif", "lzw.tif",
                                        "tiled.tif", "rgb.bmp",  "pal.bmp"};
    const char *src = getenv("BLASTSCAN_SOURCE_DIR");
    if (!src) BS_SKIP("BLASTSCAN_SOURCE_DIR unset");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char *p = bs_strfmt("%s/fuzz/corpus/image/%s", src, names[i]);
        unsigned char *buf;
        size_t len;
        assert_int_equal(bs_read_file(p, 1 << 20, &buf, &len), 0);
        bs_image a, b;
        if (bs_image_load(p, &a)) fail_msg("%s", bs_error_message());
        if (bs_image_load_buffer(buf, len, names[i], &b)) fail_msg("%s", bs_error_message());
        assert_int_equal(a.width, b.width);
        assert_int_equal(a.height, b.height);
        assert_memory_equal(a.rgb, b.rgb, (size_t)a.width * a.height * 3);
        bs_image_free(&a);
        bs_image_free(&b);
        assert_int_equal(bs_image_load_resized(p, 7, &a), 0);
        assert_int_equal(bs_image_load_buffer_resized(buf, len, names[i], 7, &b), 0);
        assert_memory_equal(a.rgb, b.rgb, 7 * 7 * 3);
        bs_image_free(&a);
        bs_image_free(&b);
        free(buf);
        free(p);
    }
    /* Formats libvips reads but blastscan does not accept, and nothing at all. */
    static const char ppm[] = "P6\n2 1\n255\n\x01\x02\x03\x04\x05\x06";
    bs_image img;
    assert_int_equal(bs_image_load_buffer(ppm, sizeof ppm - 1, "x.ppm", &img), -1);
    assert_non_null(strstr(bs_error_message(), "x.ppm"));
    assert_int_equal(bs_image_load_buffer("", 0, "empty", &img), -1);
    assert_int_equal(bs_image_load_buffer_resized("BMxx", 4, "short.bmp", 7, &img), -1);
}

static void mirrors_and_layout(void **state) {
    (void)state;
    unsigned char px[2 * 3 * 3] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
    bs_image img = {.width = 3, .height = 2, .rgb = px};
    float t[18];
    bs_image_to_chw(&img, BS_VIEW_ORIGINAL, t);
    /* R plane is row-major: (0,0)=1 (0,1)=4 (0,2)=7 (1,0)=10 ... */
    float r[6] = {1, 4, 7, 10, 13, 16};
    assert_memory_equal(t, r, sizeof r);
    assert_true(t[6] == 2 && t[12] == 3);
    bs_image_to_chw(&img, BS_VIEW_HMIRROR, t);
    float rh[6] = {7, 4, 1, 16, 13, 10};
    assert_memory_equal(t, rh, sizeof rh);
    bs_image_to_chw(&img, BS_VIEW_VMIRROR, t);
    float rv[6] = {10, 13, 16, 1, 4, 7};
    assert_memory_equal(t, rv, sizeof rv);
    bs_view v;
    assert_int_equal(bs_view_parse("hmirror", &v), 0);
    assert_int_equal(v, BS_VIEW_HMIRROR);
    assert_string_equal(bs_view_name(BS_VIEW_VMIRROR), "vmirror");
    assert_int_equal(bs_view_parse("diagonal", &v), -1);
}

static uint32_t crc32_bytes(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Every hostile file gives -1 and a message naming it; none crashes or allocates its claim. */
static void refuses_corrupt_and_hostile_files(void **state) {
    (void)state;
    enum { W = 64, H = 48 };
    static unsigned char px[W * H * 3];
    VipsImage *rgb = test_card(W, H, px);
    char *good = fixture("good.jpg");
    assert_int_equal(vips_jpegsave(rgb, good, NULL), 0);
    g_object_unref(rgb);
    unsigned char *jpg;
    size_t jlen;
    assert_int_equal(bs_read_file(good, 1 << 20, &jpg, &jlen), 0);

    typedef struct {
        const char *name;
        const unsigned char *data;
        size_t len;
        const char *expect;
    } hostile;
    hostile cases[6];
    size_t n = 0;
    cases[n++] = (hostile){"truncated.jpg", jpg, jlen / 2, NULL};
    cases[n++] = (hostile){"empty.jpg", (const unsigned char *)"", 0, NULL};
    static const unsigned char bogus_tiff[] = "II*\0\x08\0\0\0\xff\xff garbage garbage garbage";
    cases[n++] = (hostile){"bogus.tif", bogus_tiff, sizeof bogus_tiff, NULL};
    static const char text[] = "this is not an image\n";
    cases[n++] = (hostile){"notes.jpg", (const unsigned char *)text, sizeof text - 1, NULL};
    /* A PNG whose header claims 100000 x 100000 pixels (30 GB decoded). */
    static unsigned char bomb[8 + 25 + 12 + 12];
    memcpy(bomb, "\x89PNG\r\n\x1a\n", 8);
    put_be32(bomb + 8, 13);
    memcpy(bomb + 12, "IHDR", 4);
    put_be32(bomb + 16, 100000);
    put_be32(bomb + 20, 100000);
    memcpy(bomb + 24, "\x08\x02\x00\x00\x00", 5);
    put_be32(bomb + 29, crc32_bytes(bomb + 12, 17));
    put_be32(bomb + 33, 0); /* an empty IDAT, so the header parses */
    memcpy(bomb + 37, "IDAT", 4);
    put_be32(bomb + 41, crc32_bytes(bomb + 37, 4));
    put_be32(bomb + 45, 0);
    memcpy(bomb + 49, "IEND", 4);
    put_be32(bomb + 53, crc32_bytes(bomb + 49, 4));
    cases[n++] = (hostile){"bomb.png", bomb, sizeof bomb, "decompression bomb"};
    for (size_t i = 0; i < n; i++) {
        char *p = fixture(cases[i].name);
        bs_test_write(p, cases[i].data, cases[i].len);
        bs_image img;
        bs_error_clear();
        assert_int_equal(bs_image_load(p, &img), -1);
        assert_null(img.rgb);
        if (!strstr(bs_error_message(), p))
            fail_msg("%s: message does not name the file: %s", cases[i].name, bs_error_message());
        if (cases[i].expect && !strstr(bs_error_message(), cases[i].expect))
            fail_msg("%s: %s", cases[i].name, bs_error_message());
        assert_int_equal(bs_image_load_resized(p, 224, &img), -1);
        print_message("%s: %s\n", cases[i].name, bs_error_message());
        free(p);
    }
    bs_image img;
    assert_int_equal(bs_image_load("/nonexistent/x.png", &img), -1);
    assert_non_null(strstr(bs_error_message(), "/nonexistent/x.png"));
    free(jpg);
    free(good);
}

/* bs_image_save: a PNG reads back bit-exact, a JPEG close (lossy), both written in place of
 * an older file; a quality outside 1..100 and an unwritable folder are refused with the path. */
static void save_round_trips(void **state) {
    (void)state;
    enum { W = 37, H = 23 };
    unsigned char px[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) px[i] = (unsigned char)((i / 3 % W) * 6 + (i % 3) * 40);
    bs_image img = {.width = W, .height = H, .rgb = px}, back = {0};
    char *png = fixture("saved.png"), *jpg = fixture("saved.jpg");
    bs_test_write(png, "old", 3);
    assert_int_equal(bs_image_save(&img, png, 0), 0);
    assert_int_equal(bs_image_load(png, &back), 0);
    assert_int_equal(back.width, W);
    assert_int_equal(back.height, H);
    assert_memory_equal(back.rgb, px, sizeof px);
    bs_image_free(&back);
    assert_int_equal(bs_image_save(&img, jpg, 95), 0);
    assert_int_equal(bs_image_load(jpg, &back), 0);
    double err = 0;
    for (int i = 0; i < W * H * 3; i++) err += abs((int)back.rgb[i] - (int)px[i]);
    assert_true(err / (W * H * 3) < 4.0);
    bs_image_free(&back);
    assert_int_equal(bs_image_save(&img, jpg, 101), -1);
    assert_non_null(strstr(bs_error_message(), "saved.jpg: JPEG quality 101"));
    assert_int_equal(bs_image_save(&img, "/nonexistent-dir/x.png", 0), -1);
    assert_non_null(strstr(bs_error_message(), "/nonexistent-dir/x.png"));
    free(png);
    free(jpg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resize_matches_reference_inputs),
        cmocka_unit_test(decodes_every_supported_format),
        cmocka_unit_test(buffer_loads_match_files),
        cmocka_unit_test(mirrors_and_layout),
        cmocka_unit_test(refuses_corrupt_and_hostile_files),
        cmocka_unit_test(save_round_trips),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
