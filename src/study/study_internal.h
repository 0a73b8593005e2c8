/* study_internal.h — private to src/study: the evidence computed after the experiments ran
 * (probabilities and calibration, per-group and per-source metrics, the shortcut audit). Every
 * function works on decisions already in the bs_study, identically on every MPI rank.
 * Not for: anything outside src/study. */
#ifndef BS_STUDY_INTERNAL_H
#define BS_STUDY_INTERNAL_H

#include <stdint.h>

#include "fit/fit.h"
#include "study.h"

/* Seeds per (purpose, experiment, fold): bs_rng_derive_at (core/rng.h). */
enum {
    SEED_FOLDS = 1,
    SEED_AE = 2,
    SEED_SVM = 3,
    SEED_SHORTCUTS = 4,
    SEED_CALIBRATION = 5,  /* --protocol source: the grouped CV inside a unit */
    SEED_RECALIBRATION = 6 /* --protocol source: the k-label draws */
};

/* calibrate.c: x->probability for every row, x->calibration over original views. */
int bs_study_calibrate(const bs_study *s, bs_experiment *x, const bs_feature_index *idx);

/* groups.c: s->group_count, s->group_mixed and x->groups of every experiment (manifest groups);
 * s->nsources, s->source_rows/positives and x->per_source (several sources). */
int bs_study_groups(bs_study *s, const bs_feature_index *idx);
int bs_study_sources(bs_study *s, const bs_feature_index *idx);

/* shortcuts.c: the shortcut audit into s->shortcuts (needs s->nsources and the experiments'
 * metrics); seed drives the baselines' 'auto' kernel scales. Unreadable images skip the audit
 * with a warning (return 0); only failures of the computation itself are errors. */
int bs_study_shortcuts(bs_study *s, const bs_feature_index *idx, uint64_t seed);

/* travel.c, --protocol source: the test units into s->fold, s->folds, s->unit_source and
 * s->source_within (needs s->labels and s->group_id; seed draws the folds within sources);
 * per unit f of experiment e, after its fit on rows train[0..ntrain), its sigmoid and prior, its
 * held-out batch after diagonal CORAL, and its stain-transfer rows' calls (xt: those rows, as
 * the experiment's columns); after every experiment, the tables (x->travel) and their warnings. */
int bs_study_source_units(bs_study *s, const bs_feature_index *idx, const bs_study_options *opt,
                          uint64_t seed);
int bs_study_travel_fold(bs_study *s, size_t e, int f, const bs_fitted *fit, const int64_t *train,
                         int64_t ntrain, bs_matrix xt);
int bs_study_travel(bs_study *s, const bs_feature_index *idx);
void bs_travel_free(bs_travel *t);
/* mil.c (each a no-op without s->mil_rounds): an experiment's mi-SVM records; fold f's fit on
 * rows train[0..ntrain) recorded; the records of every rank summed onto all (under a job each
 * fold is one rank's); x->mil_images over the original views; one log line. */
int bs_study_mil_alloc(const bs_study *s, bs_experiment *x);
void bs_study_mil_free(bs_experiment *x);
void bs_study_mil_record(const bs_study *s, bs_experiment *x, int f, const int64_t *train,
                         int64_t ntrain, const bs_fitted *fit);
int bs_study_mil_share(bs_study *s);
void bs_study_mil_count(const bs_study *s, bs_experiment *x, const bs_feature_index *idx);
void bs_study_mil_log(const bs_study *s, const bs_experiment *x);

#endif
