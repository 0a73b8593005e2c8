/* test_dist.c — core/dist.h on however many ranks it is started with (plain: one; the MPI
 * build also runs it under mpirun -n 3): rank/size, sums, min/max, bcast, agreement. Exits 0
 * on every rank when all checks hold; a failed check ends the job through bs_dist_abort. */
#include <stdio.h>
#include <string.h>

#include "core/dist.h"

static void check(int ok, const char *what) {
    if (!ok) bs_dist_abort(1, what);
}

int main(int argc, char **argv) {
    check(bs_dist_init(&argc, &argv) == 0, "bs_dist_init");
    const int rank = bs_dist_rank(), size = bs_dist_size();
    check(size >= 1 && rank >= 0 && rank < size, "rank within size");
    check(bs_dist_local_size() >= 1 && bs_dist_local_size() <= size, "local size within size");
    /* sum: Σ_r (r + 1)·(i + 1) = (i + 1)·P(P + 1)/2, exact in double */
    double v[5];
    for (int i = 0; i < 5; i++) v[i] = (double)(rank + 1) * (i + 1);
    bs_dist_sum_d(v, 5);
    for (int i = 0; i < 5; i++) check(v[i] == (double)(i + 1) * size * (size + 1) / 2, "sum");
    double lo[2] = {rank, -rank}, hi[2] = {rank, -rank};
    bs_dist_min_d(lo, 2);
    bs_dist_max_d(hi, 2);
    check(lo[0] == 0 && lo[1] == -(size - 1) && hi[0] == size - 1 && hi[1] == 0, "min/max");
    check(bs_dist_max_i64(rank == size - 1 ? 42 : -1) == 42, "max_i64");
    char msg[32] = {0};
    if (rank == size - 1) strcpy(msg, "from the last rank");
    bs_dist_bcast(msg, sizeof msg, size - 1);
    check(strcmp(msg, "from the last rank") == 0, "bcast");
    bs_dist_barrier();
    if (rank == 0)
        printf("test_dist: %d rank(s), MPI %s: ok\n", size,
               bs_dist_built() ? "built" : "not built");
    bs_dist_finalize();
    return 0;
}
