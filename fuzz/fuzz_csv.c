/* fuzz_csv.c — libFuzzer target: CSV parsing and the two CSV readers built on it, index.csv
 * validation (bs_featdir_parse_index) and dataset manifests (bs_dataset_parse_manifest,
 * without decoding images; paths are only checked to exist, relative to the working folder). */
#include <stddef.h>
#include <stdint.h>

#include "core/csv.h"
#include "dataset/dataset.h"
#include "features/featdir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    bs_csv csv;
    if (bs_csv_parse(text, size, "fuzz.csv", &csv) == 0) {
        (void)bs_csv_column(&csv, "path");
        bs_csv_free(&csv);
    }
    bs_feature_index idx;
    if (bs_featdir_parse_index(text, size, "index.csv", &idx) == 0) bs_feature_index_free(&idx);

    bs_dataset_options opt;
    bs_dataset_options_init(&opt);
    opt.decode = 0;
    /* Missing files are skipped, so later rows are still read; their warnings go to the log
     * sink (core/log.h), and none is installed here. */
    opt.on_error = BS_ON_ERROR_SKIP;
    bs_dataset ds;
    if (bs_dataset_parse_manifest(text, size, "manifest.csv", &opt, &ds) == 0) {
        (void)bs_dataset_count_groups(&ds);
        bs_dataset_free(&ds);
    }
    return 0;
}
