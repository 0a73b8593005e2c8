/* test_support.c — see test_support.h. */
#define _GNU_SOURCE
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/io.h"

const char *bs_test_assets(void) {
    const char *a = getenv("BLASTSCAN_ASSETS");
    if (a && *a) return a;
    a = getenv("BLASTSCAN_DEFAULT_ASSETS");
    return (a && *a) ? a : "../shared";
}

char *bs_test_asset(const char *relative) {
    char *p = bs_path_join(bs_test_assets(), relative);
    if (!bs_file_exists(p)) {
        fprintf(stderr, "SKIP: asset %s is absent (set BLASTSCAN_ASSETS)\n", p);
        free(p);
        return NULL;
    }
    return p;
}

char *bs_test_tmpdir(void) {
    const char *base = getenv("TMPDIR");
    char *templ = bs_strfmt("%s/blastscan-test-XXXXXX", (base && *base) ? base : "/tmp");
    if (!mkdtemp(templ)) {
        fprintf(stderr, "mkdtemp failed\n");
        abort();
    }
    return templ;
}

void bs_test_rmtree(const char *path) { bs_rmtree(path); }

void bs_test_write(const char *path, const void *data, size_t len) {
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(data, 1, len, fp) != len) {
        fprintf(stderr, "cannot write fixture %s\n", path);
        abort();
    }
    fclose(fp);
}

int bs_test_aborts(void (*fn)(void *), void *arg) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return 0;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, STDERR_FILENO);
        fn(arg);
        _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return 0;
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}
