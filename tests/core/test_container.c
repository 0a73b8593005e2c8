/* test_container.c — the model-file container (core/container.h) on its own: what the writer
 * builds is what the reader reads, the header checks in their order with their messages, and a
 * cursor that never reads past its bytes (every failure one message, later reads no-ops). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/container.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/io.h"
#include "test_support.h"

static const bs_container_format fmt = {"BSTST\r\n\x1a", "test", 3u, 40u};

/* Header: u64 a, then zeros up to 40. Body: section "ONE " (u32, str, 2 f64) and "TWO " (f32s). */
static void write_sample(bs_cwriter *w) {
    bs_cwriter_start(w, &fmt);
    bs_cwriter_u64(w, 0); /* patched */
    bs_cwriter_pad(w, fmt.header_size);
    size_t at = bs_cwriter_section(w, "ONE ");
    bs_cwriter_u32(w, 0xdeadbeefu);
    bs_cwriter_str(w, "name");
    const double d[2] = {1.5, -0.25};
    bs_cwriter_f64s(w, d, 2);
    bs_cwriter_section_end(w, at);
    at = bs_cwriter_section(w, "TWO ");
    const float f[3] = {1, 2, 3};
    bs_cwriter_f32s(w, f, 3);
    bs_cwriter_section_end(w, at);
    bs_cwriter_patch_u64(w, BS_CONTAINER_PREFIX, 0x0102030405060708ULL);
}

static unsigned char *build(size_t *len) {
    bs_cwriter w;
    write_sample(&w);
    unsigned char *data;
    assert_int_equal(bs_cwriter_finish(&w, "t", &data, len), 0);
    assert_null(w.p); /* handed over */
    return data;
}

static void written_is_read(void **state) {
    (void)state;
    size_t len;
    unsigned char *buf = build(&len);
    /* 40 header + (16 + 4 + 8 + 16) + (16 + 12) body + 32 digest */
    assert_int_equal(len, 40 + 44 + 28 + 32);
    assert_memory_equal(buf, "BSTST\r\n\x1a\x03\0\0\0\x28\0\0\0\x08\x07", 18); /* little-endian */
    bs_creader h, body, s;
    assert_int_equal(bs_container_open(&fmt, buf, len, "t", &h, &body), 0);
    assert_int_equal(bs_container_verify(buf, len, "t"), 0);
    assert_true(bs_creader_u64(&h) == 0x0102030405060708ULL);
    assert_int_equal(bs_creader_u64(&h), 0);
    assert_int_equal(bs_creader_u64(&h), 0);
    assert_int_equal(bs_creader_done(&h), 0);
    assert_int_equal(bs_creader_section(&body, "ONE ", &s), 0);
    assert_true(bs_creader_u32(&s) == 0xdeadbeefu);
    char name[8];
    bs_creader_str(&s, name, 7, 0);
    assert_string_equal(name, "name");
    assert_true(bs_creader_f64(&s) == 1.5);
    assert_true(bs_creader_f64_finite(&s) == -0.25);
    assert_int_equal(bs_creader_done(&s), 0);
    assert_int_equal(bs_creader_section(&body, "TWO ", &s), 0);
    assert_int_equal(bs_creader_count_fits(&s, 3, 4), 0);
    assert_int_equal(bs_creader_count_fits(&s, 4, 4), -1);
    assert_non_null(strstr(bs_error_message(), "t: corrupt TWO  section: count exceeds"));
    free(buf);
}

static void header_checks_name_the_reason(void **state) {
    (void)state;
    size_t len;
    unsigned char *buf = build(&len), *copy = malloc(len);
    bs_creader h, b;
    assert_int_equal(bs_container_open(&fmt, buf, 0, "t", &h, &b), -1);
    assert_non_null(strstr(bs_error_message(), "t: not a blastscan test file"));
    for (size_t cut = 1; cut < 72; cut++) { /* a prefix of the magic is a truncated file */
        assert_int_equal(bs_container_open(&fmt, buf, cut, "t", &h, &b), -1);
        assert_non_null(strstr(bs_error_message(), "truncated"));
    }
    assert_int_equal(bs_container_open(&fmt, (const unsigned char *)"hello", 5, "t", &h, &b), -1);
    assert_non_null(strstr(bs_error_message(), "bad magic"));
    memcpy(copy, buf, len);
    copy[8] = 4;
    assert_int_equal(bs_container_open(&fmt, copy, len, "t", &h, &b), -1);
    assert_non_null(strstr(bs_error_message(),
                           "unsupported test format version 4 (this build reads version 3)"));
    memcpy(copy, buf, len);
    copy[12] = 41;
    assert_int_equal(bs_container_open(&fmt, copy, len, "t", &h, &b), -1);
    assert_non_null(strstr(bs_error_message(), "corrupt header (header size 41, expected 40)"));
    assert_int_equal(bs_container_expect_length("t", len - 1, len, "it needs"), -1);
    assert_non_null(strstr(bs_error_message(), "t: truncated"));
    assert_int_equal(bs_container_expect_length("t", len + 1, len, "it needs"), -1);
    assert_non_null(strstr(bs_error_message(), "has trailing bytes"));
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* the fuzzing build skips the checksum */
    memcpy(copy, buf, len);
    copy[60] ^= 1;
    assert_int_equal(bs_container_verify(copy, len, "t"), -1);
    assert_non_null(strstr(bs_error_message(), "checksum mismatch"));
#endif
    free(copy);
    free(buf);
}

static void the_cursor_stays_inside(void **state) {
    (void)state;
    const unsigned char bytes[12] = {3, 0, 0, 0, 'a', 0, 'c', 9, 0xff, 0xff, 0xf0, 0x7f};
    bs_creader r = {bytes, 4, 0, "t", "X", 0};
    assert_int_equal(bs_creader_u32(&r), 3);
    assert_int_equal(bs_creader_u64(&r), 0); /* past the end: 0, failed */
    assert_true(r.failed);
    assert_non_null(strstr(bs_error_message(), "t: corrupt X section: truncated"));
    bs_error_clear();
    assert_int_equal(bs_creader_u32(&r), 0); /* a no-op: no second message */
    assert_string_equal(bs_error_message(), "");
    char s[8];
    r = (bs_creader){bytes, 7, 0, "t", "X", 0};
    bs_creader_str(&r, s, 7, 0); /* "a\0c": NUL inside */
    assert_true(r.failed);
    assert_non_null(strstr(bs_error_message(), "NUL inside a string"));
    r = (bs_creader){bytes, 7, 0, "t", "X", 0};
    bs_creader_str(&r, s, 2, 0);
    assert_non_null(strstr(bs_error_message(), "string too long"));
    const unsigned char inf[8] = {0, 0, 0, 0, 0, 0, 0xf0, 0x7f};
    r = (bs_creader){inf, 8, 0, "t", "X", 0};
    assert_true(isinf(bs_creader_f64_finite(&r)));
    assert_non_null(strstr(bs_error_message(), "non-finite number"));
    bs_creader outer = {bytes, 12, 0, "t", "", 0}, in;
    assert_int_equal(bs_creader_section(&outer, "ABCD", &in), -1);
    assert_non_null(strstr(bs_error_message(), "truncated"));
    unsigned char sec[20] = {'A', 'B', 'C', 'D', 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
    outer = (bs_creader){sec, 20, 0, "t", "", 0};
    assert_int_equal(bs_creader_section(&outer, "ABCE", &in), -1);
    assert_non_null(strstr(bs_error_message(), "expected section 'ABCE' at byte 0"));
    outer = (bs_creader){sec, 20, 0, "t", "", 0};
    assert_int_equal(bs_creader_section(&outer, "ABCD", &in), -1); /* 5 bytes announced, 4 there */
    assert_non_null(strstr(bs_error_message(), "corrupt ABCD section: truncated"));
    outer = (bs_creader){sec, 20, 0, "t", "", 0};
    sec[8] = 3;
    assert_int_equal(bs_creader_section(&outer, "ABCD", &in), 0);
    assert_int_equal(in.len, 3);
    assert_int_equal(bs_creader_done(&outer), -1); /* one byte left over */
    assert_non_null(strstr(bs_error_message(), "trailing bytes"));
}

static void saved_is_built(void **state) {
    (void)state;
    size_t len, got_len;
    unsigned char *want = build(&len), *got;
    char *dir = bs_test_tmpdir(), *path = bs_path_join(dir, "f.bin");
    bs_cwriter w;
    write_sample(&w);
    assert_int_equal(bs_cwriter_save(&w, path), 0);
    assert_null(w.p); /* handed over and freed */
    assert_int_equal(bs_read_file(path, 1 << 20, &got, &got_len), 0);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, want, len);
    free(got);
    free(want);
    bs_test_rmtree(dir);
    free(dir);
    free(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(written_is_read),
        cmocka_unit_test(header_checks_name_the_reason),
        cmocka_unit_test(the_cursor_stays_inside),
        cmocka_unit_test(saved_is_built),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
