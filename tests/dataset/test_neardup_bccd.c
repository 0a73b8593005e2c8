/* test_neardup_bccd.c — the near-duplicate search on real single-cell crops (issue 12 item 6):
 * 40 white cells of BCCD (boxes 40..79), each cut out as a square around its box and resized to 257×257 (one
 * centred cell, the same background everywhere: the case that used to chain different cells
 * into one group), plus 20 re-crops of the first cells, shifted 3–8 px, with a gain change and
 * sensor noise. Different cells must not join; every re-crop must join its cell; a group whose
 * labels disagree must be warned about. Skips visibly without data/bccd. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "core/csv.h"
#include "core/error.h"
#include "core/io.h"
#include "core/log.h"
#include "core/rng.h"
#include "dataset/dataset.h"
#include "image/image.h"
#include "test_support.h"

/* WBC boxes 40..79 of boxes.csv: round lymphocytes of similar size among them, whose
 * thumbnails alone scored up to 0.76 against each other (16 pairs >= 0.5), and no cell seen
 * twice (checked by eye). */
#define FIRST 40
#define NCELLS 40
#define NRECROPS 20
#define SIDE 257

static char *tmp;

static int setup(void **state) {
    (void)state;
    if (bs_image_init("test_neardup_bccd", 1)) return -1;
    tmp = bs_test_tmpdir();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    bs_test_rmtree(tmp);
    free(tmp);
    return 0;
}

/* The square of side s around the box centre (cx2/2, cy2/2), moved by (sx, sy) and kept inside
 * the field, resized to SIDE×SIDE. */
static void crop(const bs_image *field, int cx2, int cy2, int s, int sx, int sy, bs_image *out) {
    if (s > field->height) s = field->height;
    if (s > field->width) s = field->width;
    int l = (cx2 - s) / 2 + sx, t = (cy2 - s) / 2 + sy;
    if (l < 0) l = 0;
    if (t < 0) t = 0;
    if (l + s > field->width) l = field->width - s;
    if (t + s > field->height) t = field->height - s;
    bs_image sq = {.width = s, .height = s, .rgb = g_malloc((size_t)s * s * 3)};
    assert_non_null(sq.rgb);
    for (int y = 0; y < s; y++)
        memcpy(sq.rgb + (size_t)y * s * 3, field->rgb + ((size_t)(t + y) * field->width + l) * 3,
               (size_t)s * 3);
    assert_int_equal(bs_image_resize(&sq, SIDE, out), 0);
    bs_image_free(&sq);
}

/* Gain 0.92, offset +8 and Gaussian sensor noise of σ 4 grey levels (seeded). */
static void degrade(bs_image *img, bs_rng *rng) {
    for (size_t i = 0; i < (size_t)img->width * img->height * 3; i++) {
        double u1 = bs_rng_uniform(rng), u2 = bs_rng_uniform(rng);
        double noise = 4.0 * sqrt(-2.0 * log(u1 + 1e-12)) * cos(6.283185307179586 * u2);
        double v = 0.92 * img->rgb[i] + 8.0 + noise;
        img->rgb[i] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
    }
}

typedef struct {
    char text[4096];
    int count;
} captured;

static void capture(bs_log_level level, const char *line, void *user) {
    captured *c = user;
    if (level != BS_LOG_WARNING) return;
    c->count++;
    strncat(c->text, line, sizeof c->text - strlen(c->text) - 2);
    strcat(c->text, "\n");
}

/* Write the crops and a manifest; returns its path. Cell i is labelled i % 2; re-crop 7 gets
 * the other label (the mixed group the warning must name). */
static char *make_crops(const char *bccd) {
    char *boxes = bs_path_join(bccd, "boxes.csv");
    bs_csv csv;
    assert_int_equal(bs_csv_read(boxes, &csv), 0);
    int ci = bs_csv_column(&csv, "image"), cc = bs_csv_column(&csv, "class"),
        cx0 = bs_csv_column(&csv, "xmin"), cy0 = bs_csv_column(&csv, "ymin"),
        cx1 = bs_csv_column(&csv, "xmax"), cy1 = bs_csv_column(&csv, "ymax");
    assert_true(ci >= 0 && cc >= 0 && cx0 >= 0 && cy0 >= 0 && cx1 >= 0 && cy1 >= 0);
    char *manifest = bs_path_join(tmp, "crops.csv");
    FILE *fp = fopen(manifest, "w");
    assert_non_null(fp);
    fputs("path,label\n", fp);
    bs_rng rng;
    bs_rng_seed(&rng, 12);
    int made = 0, wbc = 0;
    for (size_t r = 0; r < csv.nrows && made < NCELLS; r++) {
        char **row = csv.rows[r];
        if (strcmp(row[cc], "WBC") || wbc++ < FIRST) continue;
        int x0 = atoi(row[cx0]), y0 = atoi(row[cy0]), x1 = atoi(row[cx1]), y1 = atoi(row[cy1]);
        int s = x1 - x0 > y1 - y0 ? x1 - x0 : y1 - y0;
        if (s < 64) continue; /* a few boxes are a few pixels wide: not a cell to crop */
        char *field_path = bs_path_join(bccd, row[ci]);
        bs_image field, out;
        assert_int_equal(bs_image_load(field_path, &field), 0);
        char name[64];
        snprintf(name, sizeof name, "c%02d.png", made);
        char *p = bs_path_join(tmp, name);
        crop(&field, x0 + x1, y0 + y1, s, 0, 0, &out);
        assert_int_equal(bs_image_save(&out, p, 0), 0);
        fprintf(fp, "%s,%d\n", name, made % 2);
        bs_image_free(&out);
        free(p);
        if (made < NRECROPS) {
            int sx = 3 + made % 6, sy = -(3 + (made / 6) % 6);
            if (made % 2) sx = -sx;
            crop(&field, x0 + x1, y0 + y1, s, sx, sy, &out);
            degrade(&out, &rng);
            snprintf(name, sizeof name, "r%02d.png", made);
            p = bs_path_join(tmp, name);
            assert_int_equal(bs_image_save(&out, p, 0), 0);
            fprintf(fp, "%s,%d\n", name, made == 7 ? 1 - made % 2 : made % 2);
            bs_image_free(&out);
            free(p);
        }
        bs_image_free(&field);
        free(field_path);
        made++;
    }
    assert_int_equal(made, NCELLS);
    fclose(fp);
    bs_csv_free(&csv);
    free(boxes);
    return manifest;
}

/* Index of the sample whose file name is `name`. */
static size_t find(const bs_dataset *ds, const char *name) {
    for (size_t i = 0; i < ds->n; i++) {
        const char *slash = strrchr(ds->samples[i].path, '/');
        if (!strcmp(slash ? slash + 1 : ds->samples[i].path, name)) return i;
    }
    fail_msg("%s not in the dataset", name);
    return 0;
}

static void single_cell_crops(void **state) {
    (void)state;
    char *bccd = bs_test_asset("data/bccd");
    if (!bccd)
        BS_SKIP("data/bccd absent: the single-cell crop test needs the BCCD fields and boxes");
    char *manifest = make_crops(bccd);
    bs_dataset ds;
    assert_int_equal(bs_dataset_open((const char *const[]){manifest}, 1, NULL, &ds), 0);
    assert_int_equal(ds.n, NCELLS + NRECROPS);
    int64_t joined = -1;
    assert_int_equal(bs_dataset_join_near_duplicates(&ds, 0.5, &joined), 0);

    /* Every re-crop joins its own cell. */
    for (int i = 0; i < NRECROPS; i++) {
        char c[16], r[16];
        snprintf(c, sizeof c, "c%02d.png", i);
        snprintf(r, sizeof r, "r%02d.png", i);
        size_t a = find(&ds, c), b = find(&ds, r);
        if (strcmp(ds.samples[a].group, ds.samples[b].group))
            fail_msg("re-crop %s did not join %s", r, c);
    }
    /* No two different cells share a group. */
    for (int i = 0; i < NCELLS; i++)
        for (int j = i + 1; j < NCELLS; j++) {
            char a[16], b[16];
            snprintf(a, sizeof a, "c%02d.png", i);
            snprintf(b, sizeof b, "c%02d.png", j);
            if (!strcmp(ds.samples[find(&ds, a)].group, ds.samples[find(&ds, b)].group))
                fail_msg("different cells %s and %s joined", a, b);
        }
    assert_int_equal(bs_dataset_count_groups(&ds), NCELLS);
    assert_int_equal(joined, NRECROPS);
    /* The pairs the feature folder will list: every joining pair is a cell and its re-crop. */
    int64_t listed_joined = 0;
    for (size_t p = 0; p < ds.npairs; p++) {
        const char *pa = strrchr(ds.samples[ds.pairs[p].a].path, '/') + 1;
        const char *pb = strrchr(ds.samples[ds.pairs[p].b].path, '/') + 1;
        assert_true(ds.pairs[p].score >= 0.5 && ds.pairs[p].score <= 1.0 + 1e-9);
        assert_string_equal(pa + 1, pb + 1); /* c07.png and r07.png */
        listed_joined += ds.pairs[p].joined;
    }
    assert_int_equal(listed_joined, NRECROPS);

    /* The group of cell 7 holds both labels: one warning, naming its members. */
    captured cap = {"", 0};
    bs_log_set_sink(capture, &cap);
    size_t warned = bs_dataset_warn_groups(&ds);
    bs_log_set_sink(NULL, NULL);
    assert_int_equal(warned, 1);
    assert_int_equal(cap.count, 1);
    assert_non_null(strstr(cap.text, "both labels"));
    assert_non_null(strstr(cap.text, "c07.png"));
    assert_non_null(strstr(cap.text, "r07.png"));
    bs_dataset_free(&ds);
    free(manifest);
    free(bccd);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(single_cell_crops)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
