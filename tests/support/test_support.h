/* test_support.h — helpers shared by the cmocka tests: where the shared assets are,
 * scratch directories, and a visible skip when an asset is absent. */
#ifndef BS_TEST_SUPPORT_H
#define BS_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h> /* BS_SKIP */
#include <cmocka.h>

/* The shared assets folder ($BLASTSCAN_ASSETS, else ../shared beside the source). */
const char *bs_test_assets(void);
/* malloc'd path of an asset, or NULL (with a "SKIP: ..." line on stderr) if it is absent. */
char *bs_test_asset(const char *relative);
/* A fresh scratch directory under $TMPDIR, removed by bs_test_rmtree. malloc'd. */
char *bs_test_tmpdir(void);
void bs_test_rmtree(const char *path);
/* Write bytes to a file (test fixtures). */
void bs_test_write(const char *path, const void *data, size_t len);

/* Runs fn(arg) in a child process (its stderr silenced): 1 if the child died of SIGABRT, which
 * is what a failed assert() does, else 0. For tests that a bad call is refused by an assert. */
int bs_test_aborts(void (*fn)(void *), void *arg);

/* Skip the current test when assert() is compiled out (NDEBUG; BLASTSCAN_ASSERTS=OFF). */
#ifdef NDEBUG
#define BS_SKIP_WITHOUT_ASSERTS() BS_SKIP("assert() is compiled out (NDEBUG)")
#else
#define BS_SKIP_WITHOUT_ASSERTS() ((void)0)
#endif

/* Skip the current cmocka test with a visible reason. */
#define BS_SKIP(...)                                                                               \
    do {                                                                                           \
        fprintf(stderr, "SKIP: " __VA_ARGS__);                                                     \
        fputc('\n', stderr);                                                                       \
        skip();                                                                                    \
    } while (0)

#endif
