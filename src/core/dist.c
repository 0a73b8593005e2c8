/* dist.c — see dist.h. With BLASTSCAN_WITH_MPI the collectives are MPI calls on
 * MPI_COMM_WORLD; without it (or when no launcher started the process) a single rank. */
#include "dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"

#ifdef BLASTSCAN_WITH_MPI
#include <mpi.h>

static int joined, rank, size = 1, local_size = 1;

/* A launcher leaves its mark in the environment: Open MPI's mpirun, PMIx (srun
 * --mpi=pmix, prterun) or PMI-1/2 (srun, MPICH's hydra). Without one, MPI_Init would start a
 * singleton runtime for nothing; a plain run stays a plain process. */
static int launched(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

int bs_dist_init(int *argc, char ***argv) {
    if (joined || !launched()) return 0;
    int provided;
    /* Threads (OpenMP) run inside a rank, but only the main thread calls MPI. */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return bs_error("MPI_Init failed");
    joined = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm node;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_size(node, &local_size);
        MPI_Comm_free(&node);
    }
    return 0;
}

void bs_dist_finalize(void) {
    if (!joined) return;
    MPI_Finalize();
    joined = 0;
}

static int solo;

void bs_dist_solo(void) { solo = 1; }
int bs_dist_rank(void) { return solo ? 0 : rank; }
int bs_dist_size(void) { return solo ? 1 : size; }
int bs_dist_built(void) { return 1; }
int bs_dist_local_size(void) { return solo ? 1 : local_size; }

void bs_dist_barrier(void) {
    if (bs_dist_size() > 1) MPI_Barrier(MPI_COMM_WORLD);
}

/* MPI counts are int: large buffers go in chunks. */
#define CHUNK ((size_t)1 << 28)

static void allreduce_d(double *buf, size_t n, MPI_Op op) {
    if (bs_dist_size() <= 1) return;
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t m = n - off < CHUNK ? n - off : CHUNK;
        MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)m, MPI_DOUBLE, op, MPI_COMM_WORLD);
    }
}

void bs_dist_sum_d(double *buf, size_t n) { allreduce_d(buf, n, MPI_SUM); }
void bs_dist_min_d(double *buf, size_t n) { allreduce_d(buf, n, MPI_MIN); }
void bs_dist_max_d(double *buf, size_t n) { allreduce_d(buf, n, MPI_MAX); }

int64_t bs_dist_max_i64(int64_t v) {
    if (bs_dist_size() <= 1) return v;
    long long in = v, out = v;
    MPI_Allreduce(&in, &out, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    return out;
}

void bs_dist_bcast(void *buf, size_t bytes, int root) {
    if (bs_dist_size() <= 1) return;
    for (size_t off = 0; off < bytes; off += CHUNK) {
        size_t m = bytes - off < CHUNK ? bytes - off : CHUNK;
        MPI_Bcast((char *)buf + off, (int)m, MPI_BYTE, root, MPI_COMM_WORLD);
    }
}

_Noreturn void bs_dist_abort(int code, const char *message) {
    bs_log_fatal("rank %d of %d: %s", rank, size, message && *message ? message : "failed");
    if (joined) MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

#else /* one process */

int bs_dist_init(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    return 0;
}
void bs_dist_finalize(void) {}
int bs_dist_rank(void) { return 0; }
int bs_dist_size(void) { return 1; }
void bs_dist_solo(void) {}
int bs_dist_built(void) { return 0; }
int bs_dist_local_size(void) { return 1; }
void bs_dist_barrier(void) {}
void bs_dist_sum_d(double *buf, size_t n) { (void)buf, (void)n; }
void bs_dist_min_d(double *buf, size_t n) { (void)buf, (void)n; }
void bs_dist_max_d(double *buf, size_t n) { (void)buf, (void)n; }
int64_t bs_dist_max_i64(int64_t v) { return v; }
void bs_dist_bcast(void *buf, size_t bytes, int root) { (void)buf, (void)bytes, (void)root; }
_Noreturn void bs_dist_abort(int code, const char *message) {
    bs_log_fatal("%s", message && *message ? message : "failed");
    exit(code);
}

#endif
