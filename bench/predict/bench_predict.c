/* bench_predict.c — latency and throughput of the public API (include/blastscan/blastscan.h),
 * measured inside one process:
 *
 *   bench_predict MODEL.blastscan BACKBONE_DIR REPEAT IMAGE ...
 *
 * open_s        blastscan_open: read and validate the pipeline, hash and load the backbones
 * first_s       the first classification (decode, resize, every network's first run: plans)
 * cold_s        process start to the first answer (open + first, plus start-up)
 * single_ips    the first image classified REPEAT more times: steady state, one image per call
 * folder_ips    every image once, one call each (after the warm-up above)
 * Output: one "key value" line each. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "blastscan/blastscan.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Seconds since this process started (from /proc/self/stat: start time in clock ticks). */
static double since_process_start(void) {
    FILE *fp = fopen("/proc/self/stat", "r");
    unsigned long long start = 0;
    if (fp) {
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        buf[n] = 0;
        fclose(fp);
        char *p = buf;
        for (int field = 1; *p && field < 22; p++)
            if (*p == ' ') field++;
        start = strtoull(p, NULL, 10);
    }
    FILE *up = fopen("/proc/uptime", "r");
    double uptime = 0;
    if (up) {
        if (fscanf(up, "%lf", &uptime) != 1) uptime = 0;
        fclose(up);
    }
    return uptime - (double)start / 100.0; /* USER_HZ = 100 on Linux */
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s MODEL.blastscan BACKBONE_DIR REPEAT IMAGE ...\n", argv[0]);
        return 2;
    }
    int repeat = atoi(argv[3]);
    double t0 = now();
    blastscan *bs = blastscan_open(argv[1], argv[2]);
    if (!bs) {
        fprintf(stderr, "bench_predict: %s\n", blastscan_error());
        return 1;
    }
    double t1 = now();
    blastscan_result r;
    if (blastscan_classify_file(bs, argv[4], &r)) {
        fprintf(stderr, "bench_predict: %s\n", blastscan_error());
        return 1;
    }
    double t2 = now();
    double cold = since_process_start();
    printf("open_s %.3f\nfirst_s %.3f\ncold_s %.3f\n", t1 - t0, t2 - t1, cold);
    double t3 = now();
    for (int i = 0; i < repeat; i++)
        if (blastscan_classify_file(bs, argv[4], &r)) return 1;
    double t4 = now();
    if (repeat > 0) printf("single_ips %.2f\n", repeat / (t4 - t3));
    int n = 0, ood = 0;
    for (int i = 4; i < argc; i++, n++) {
        if (blastscan_classify_file(bs, argv[i], &r)) {
            fprintf(stderr, "bench_predict: %s\n", blastscan_error());
            return 1;
        }
        ood += r.out_of_distribution;
    }
    double t5 = now();
    printf("folder_images %d\nfolder_ips %.2f\nfolder_ood %d\n", n, n / (t5 - t4), ood);
    blastscan_close(bs);
    return 0;
}
