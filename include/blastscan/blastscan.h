/* blastscan.h — embed blastscan: load a trained pipeline file (`blastscan train`), classify
 * RGB images, free.
 *
 *     blastscan *bs = blastscan_open("model.blastscan", "/opt/models");
 *     if (!bs) {
 *         fprintf(stderr, "%s\n", blastscan_error());
 *         return 1;
 *     }
 *     blastscan_result r;
 *     if (blastscan_classify_rgb(bs, pixels, width, height, &r) == 0)
 *         printf("%s p=%.3f%s\n", r.class_name, r.probability,
 *                r.out_of_distribution ? " (out of distribution)" : "");
 *     else
 *         fprintf(stderr, "%s\n", blastscan_error());
 *     blastscan_close(bs);
 *
 * Every function returns 0 (or a non-NULL handle) on success and -1 (or NULL) on failure;
 * blastscan_error() then tells why, naming the file and the reason. The message is kept per
 * thread. One handle may be used by one thread at a time; use one handle per thread to
 * classify in parallel. The first blastscan_open starts libvips (image resizing); call it
 * from one thread before starting others. Threads: the OpenMP settings of the process
 * (OMP_NUM_THREADS) govern the networks; where other work keeps the cores busy, set
 * OMP_WAIT_POLICY=passive before the process starts (spinning OpenMP threads then slow every
 * image down several times; bench/predict/run measures both). Link: libblastscan.a and its
 * dependencies (libvips, oneDNN, libsvm, protobuf-c, OpenMP), as CMake's `bs_pipeline` target does.
 */
#ifndef BLASTSCAN_H
#define BLASTSCAN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct blastscan blastscan; /* a loaded pipeline with its backbones */

typedef struct blastscan_result {
    int label;               /* 1 = the positive class (ALL), 0 = negative (healthy) */
    const char *class_name;  /* the label's name recorded in the pipeline, e.g. "ALL";
                                owned by the handle, valid until blastscan_close */
    double decision;         /* SVM decision value; > 0 means positive */
    double probability;      /* calibrated probability of the positive class (Platt) */
    double ood_score;        /* autoencoder reconstruction error / OOD threshold (> 1: OOD);
                                negative when the pipeline has no autoencoder */
    int out_of_distribution; /* 1: unlike the training images; do not trust the label */
} blastscan_result;

/* Load a pipeline file and its backbones, found by their recorded file names in backbone_dir
 * and verified by SHA-256. */
blastscan *blastscan_open(const char *pipeline_path, const char *backbone_dir);

/* Classify one 8-bit RGB image: height rows of width pixels, 3 bytes per pixel (R, G, B),
 * rows packed (stride = 3·width). Any size up to 2^28 pixels; it is resized as in training. */
int blastscan_classify_rgb(blastscan *bs, const unsigned char *rgb, int width, int height,
                           blastscan_result *out);

/* Decode an image file (JPEG, TIFF, PNG, BMP) and classify it. */
int blastscan_classify_file(blastscan *bs, const char *path, blastscan_result *out);

void blastscan_close(blastscan *bs);

/* Why the last call on this thread failed ("" if none). */
const char *blastscan_error(void);

/* The library's version, e.g. "0.1.0". */
const char *blastscan_version(void);

#ifdef __cplusplus
}
#endif

#endif
