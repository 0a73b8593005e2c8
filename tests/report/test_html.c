/* test_html.c — report.html from a hand-made study whose answers are known: the gallery lists
 * exactly the images with a wrong view, most confident first, with fold, decision and the
 * probability from predictions.csv; occlusion maps appear beside their image; joined
 * near-duplicate pairs appear and unjoined ones do not; a group holding both labels is
 * warned about; calibration and shortcut numbers come from results.json; figures are inlined
 * without their XML prolog; each thumbnail is embedded once as a JPEG data URI; and nothing
 * outside the page is referenced. Also base64 against RFC 4648's examples. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "core/io.h"
#include "image/image.h"
#include "report/html.h"
#include "report/thumbs.h"
#include "test_support.h"

#define IMAGES 5
#define ROWS (2 * IMAGES) /* original + hmirror of each */

static char *dir;

/* A small JPEG of one colour, written with libvips. */
static char *make_jpeg(const char *name, unsigned char grey) {
    bs_image img = {.width = 40, .height = 30, .rgb = malloc(40 * 30 * 3)};
    memset(img.rgb, grey, 40 * 30 * 3);
    void *jpeg;
    size_t len;
    assert_int_equal(bs_thumb_jpeg(&img, 40, 90, &jpeg, &len), 0);
    char *path = bs_path_join(dir, name);
    bs_test_write(path, jpeg, len);
    free(img.rgb);
    g_free(jpeg);
    return path;
}

static void base64_matches_rfc4648(void **state) {
    (void)state;
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);
        bs_base64(mem, (const unsigned char *)in[i], strlen(in[i]));
        fclose(mem);
        assert_string_equal(buf, out[i]);
        free(buf);
    }
}

static size_t count(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* Every src=, href= and url( points inside the page: #anchors and data: URIs only. */
static void assert_self_contained(const char *html) {
    static const char *const keys[] = {"src=", "href=", "url(", "@import"};
    for (int k = 0; k < 4; k++)
        for (const char *p = html; (p = strstr(p, keys[k])); p += strlen(keys[k])) {
            const char *v = p + strlen(keys[k]);
            if (*v == '"' || *v == '\'') v++;
            assert_true(k < 3);
            if (strncmp(v, "#", 1) != 0 && strncmp(v, "data:", 5) != 0)
                fail_msg("external reference: %.60s", p);
        }
}

static void write_study_files(const char *sdir, const char *const *paths) {
    (void)paths;
    char *fig = bs_path_join(sdir, "figures");
    assert_int_equal(bs_mkdir_p(fig), 0);
    char *p = bs_path_join(fig, "metrics.svg");
    const char svg[] =
        "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" "
        "height=\"10\"><title>MARKER-FIGURE</title></svg>\n";
    bs_test_write(p, svg, strlen(svg));
    free(p);
    free(fig);
    /* rows 6 and 7 (image 3) carry probabilities */
    p = bs_path_join(sdir, "predictions.csv");
    const char csv[] = "id,experiment,fold,label,decision,predicted,probability\n"
                       "6,fused,1,1,-2.5,0,0.0123\n7,fused,1,1,0.5,1,0.6\n";
    bs_test_write(p, csv, strlen(csv));
    free(p);
    p = bs_path_join(sdir, "results.json");
    const char json[] =
        "{\"protocol\": \"grouped\", \"shortcuts\": [{\"name\": \"image size\", \"features\": "
        "[\"width\", "
        "\"height\"], \"ac\": 0.61, \"auc\": 0.83, \"warning\": \"AUC 0.83 >= 0.80: "
        "MARKER-SHORTCUT\"}],"
        " \"experiments\": [{\"name\": \"fused\", \"calibration\": {\"brier\": 0.0512, \"ece\": "
        "0.0345, "
        "\"bins\": [], \"coverage\": [{\"abstain\": 0.2, \"set_aside\": 3, \"coverage\": 0.9, "
        "\"accuracy\": 0.975}]}}]}\n";
    bs_test_write(p, json, strlen(json));
    free(p);
}

static void report_html_shows_the_known_answers(void **state) {
    (void)state;
    dir = bs_test_tmpdir();
    char *paths[IMAGES];
    for (int i = 0; i < IMAGES; i++) {
        char name[32];
        snprintf(name, sizeof name, "img%d.jpg", i);
        paths[i] = make_jpeg(name, (unsigned char)(40 * i + 20));
    }
    /* images 0, 1 healthy; 2, 3, 4 ALL. Image 1 and 2 share group "g12": both labels. */
    static int32_t labels[ROWS] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
    static int32_t fold[ROWS] = {0, 0, 1, 1, 1, 1, 0, 0, 1, 1};
    /* wrong: image 1 (hmirror, d +0.3), image 3 (original, d -2.5: most confident), image 4
     * (both views, d -0.8, -0.2). Image 0 and 2 right. */
    static double decision[ROWS] = {-1, -1.2, -0.4, 0.3, 0.9, 1.1, -2.5, 0.5, -0.8, -0.2};
    int32_t predicted[ROWS];
    for (int r = 0; r < ROWS; r++) predicted[r] = decision[r] > 0;
    char *names[2] = {"healthy", "ALL"};
    char *feat_names[1] = {"googlenet"};
    bs_experiment x = {.name = "fused",
                       .features = feat_names,
                       .nfeatures = 1,
                       .width = 8,
                       .latent = -1,
                       .decision = decision,
                       .predicted = predicted};
    assert_int_equal(bs_metrics_binary(labels, predicted, decision, ROWS, &x.pooled), 0);
    bs_study s = {.protocol = BS_PROTOCOL_GROUPED,
                  .task = BS_TASK_BINARY,
                  .folds = 2,
                  .seed = 1,
                  .epochs = 3,
                  .n = ROWS,
                  .labels = labels,
                  .nclasses = 2,
                  .class_names = names,
                  .fold = fold,
                  .groups = 4,
                  .experiments = &x,
                  .nexperiments = 1};
    bs_feature_row rows[ROWS];
    char groups[IMAGES][8] = {"g0", "g12", "g12", "g3", "g4"};
    for (int r = 0; r < ROWS; r++)
        rows[r] = (bs_feature_row){r,
                                   paths[r / 2],
                                   labels[r],
                                   labels[r] ? "Pro" : "Benign",
                                   groups[r / 2],
                                   r % 2 ? BS_VIEW_HMIRROR : BS_VIEW_ORIGINAL,
                                   0};
    bs_feature_index idx = {.n = ROWS, .rows = rows};
    char *sdir = bs_path_join(dir, "grouped"), *fdir = bs_path_join(dir, "features");
    assert_int_equal(bs_mkdir_p(fdir), 0);
    write_study_files(sdir, (const char *const *)paths);
    char *nd = bs_path_join(fdir, "near_duplicates.csv");
    char *ndtext = bs_strfmt("path_a,path_b,score,joined\n%s,%s,0.7125,1\n%s,%s,0.3125,0\n",
                             paths[0], paths[2], paths[0], paths[4]);
    bs_test_write(nd, ndtext, strlen(ndtext));
    static const unsigned char fake_map[] = {0xff, 0xd8, 0xff, 0xe0, 'M', 'A', 'P'};
    bs_html_map map = {BS_PROTOCOL_GROUPED, "fused", paths[3], fake_map, sizeof fake_map, -2.25};

    bs_html_input in = {
        .idx = &idx, .featdir = fdir, .maps = &map, .nmaps = 1, .maps_note = "MARKER-MAPS"};
    in.study[BS_PROTOCOL_GROUPED] = &s;
    in.study_dir[BS_PROTOCOL_GROUPED] = sdir;
    assert_int_equal(bs_report_write_html(&in, dir), 0);

    char *out = bs_path_join(dir, "report.html");
    unsigned char *html;
    size_t len;
    assert_int_equal(bs_read_file(out, 64 << 20, &html, &len), 0);
    const char *h = (const char *)html, *gallery = strstr(h, "id=\"gallery\""),
               *near = strstr(h, "id=\"neardup\"");
    assert_non_null(gallery);
    assert_non_null(near);
    assert_true(!strncmp(h, "<!DOCTYPE html>", 15));
    assert_self_contained(h);
    /* the gallery: images 3, 4, 1 in that order (|d| 2.5, 0.8, 0.3); 0 and 2 absent */
    const char *i3 = strstr(gallery, ">img3.jpg<"), *i4 = strstr(gallery, ">img4.jpg<"),
               *i1 = strstr(gallery, ">img1.jpg<");
    assert_true(i3 && i4 && i1 && i3 < i4 && i4 < i1 && i1 < near);
    const char *i0 = strstr(gallery, ">img0.jpg<"), *i2 = strstr(gallery, ">img2.jpg<");
    assert_true(!i0 || i0 > near);
    assert_true(!i2 || i2 > near);
    assert_non_null(strstr(gallery, "3 images with a wrong view (4 of 10 test rows wrong)"));
    assert_non_null(strstr(i3, "original · fold 1 · d -2.500 · P 0.012"));
    assert_non_null(strstr(i3, "hmirror · fold 1 · d +0.500 · P 0.600"));
    assert_non_null(strstr(gallery, "MARKER-MAPS"));
    assert_non_null(strstr(h, "(decision -2.250)"));
    /* near duplicates: the joined pair only */
    assert_non_null(strstr(near, "0.713"));
    assert_null(strstr(near, "0.312"));
    /* warnings, calibration, shortcuts, figures */
    assert_non_null(
        strstr(h, "group <code>g12</code>: 2 images (1 ALL, 1 healthy) — <b>both labels</b>"));
    assert_null(strstr(h, "<code>g3</code>"));
    assert_non_null(strstr(h, "<td>0.0512</td><td>0.0345</td>"));
    assert_non_null(strstr(h, "P 0.20: 3 set aside, coverage 90.0 %, accuracy 97.50 %"));
    assert_non_null(strstr(h, "MARKER-SHORTCUT"));
    assert_non_null(strstr(h, "<td>83.00</td>"));
    assert_non_null(strstr(h, "MARKER-FIGURE"));
    assert_null(strstr(h, "<?xml"));
    /* thumbnails: images 0..4 appear (gallery 1, 3, 4; pair 0, 2) once each, plus the map */
    assert_int_equal(count(h, "{background-image:url(data:image/jpeg;base64,/9j/"), IMAGES + 1);
    free(html);
    /* An image that cannot be read any more: the page is still written, its card keeps its
     * caption and gets no thumbnail. */
    remove(paths[4]);
    assert_int_equal(bs_report_write_html(&in, dir), 0);
    assert_int_equal(bs_read_file(out, 64 << 20, &html, &len), 0);
    assert_int_equal(count((const char *)html, "{background-image:url(data:image/jpeg;base64,/9j/"),
                     IMAGES);
    assert_non_null(strstr((const char *)html, ">img4.jpg<"));
    free(html);
    free(out);
    free(nd);
    free(ndtext);
    free(sdir);
    free(fdir);
    for (int i = 0; i < IMAGES; i++) free(paths[i]);
    bs_test_rmtree(dir);
    free(dir);
}

int main(void) {
    if (bs_image_init("test_html", 1)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base64_matches_rfc4648),
        cmocka_unit_test(report_html_shows_the_known_answers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bs_image_shutdown();
    return rc;
}
