/* dist.h — the one door to MPI: rank, size and the few collectives the stages need.
 *
 * Built with MPI (-DBLASTSCAN_MPI=ON) and started by a launcher (mpirun, srun), the process
 * is one rank of MPI_COMM_WORLD; otherwise — no MPI built, or a plain `blastscan ...` — it is
 * rank 0 of 1 and every collective is a no-op (sums leave the buffer as it is), so single-
 * process code paths stay exactly what they were. Stages call bs_dist_* and never include
 * mpi.h. Collectives must be called by every rank in the same order. Errors inside MPI abort
 * the job (MPI_ERRORS_ARE_FATAL): a collective that fails cannot be recovered from anyway.
 * Not for: scheduling work (each stage decides who does what) or file output (rank 0 only). */
#ifndef BS_CORE_DIST_H
#define BS_CORE_DIST_H

#include <stddef.h>
#include <stdint.h>

/* Join the job when a launcher started this process (MPI_Init); a no-op otherwise.
 * Returns 0, or -1 with a bs_error. */
int bs_dist_init(int *argc, char ***argv);
/* Leave the job (MPI_Finalize); a no-op when bs_dist_init did not join one. */
void bs_dist_finalize(void);

/* Make this process a job of its own from now on: rank 0 of 1, collectives no-ops (for a
 * command that does not share its work: rank 0 runs it alone, the other ranks end).
 * bs_dist_abort still ends the whole job. */
void bs_dist_solo(void);

int bs_dist_rank(void);  /* 0 .. size-1 */
int bs_dist_size(void);  /* 1 without a job */
int bs_dist_built(void); /* 1 when compiled with MPI */
/* Ranks of this job on this machine (MPI_COMM_TYPE_SHARED), this one included; 1 without a job. */
int bs_dist_local_size(void);

void bs_dist_barrier(void);
/* In place over every rank: element-wise sum / min / max of n doubles (MPI_Allreduce);
 * every rank receives the same values. */
void bs_dist_sum_d(double *buf, size_t n);
void bs_dist_min_d(double *buf, size_t n);
void bs_dist_max_d(double *buf, size_t n);
/* The largest of each rank's value (agreement on a status, a count). */
int64_t bs_dist_max_i64(int64_t v);
/* Copy `bytes` bytes from rank `root` to every rank. */
void bs_dist_bcast(void *buf, size_t bytes, int root);

/* Print "blastscan: rank R of P: MESSAGE" to stderr and end the whole job with `code`
 * (MPI_Abort), so no peer waits forever in a collective. Without a job: exit(code). */
_Noreturn void bs_dist_abort(int code, const char *message);

#endif
