/* names.c — the protocol's and the task's names, both ways (see study.h). A leaf of the study
 * stage, below study.c and shortcuts.c, which both name the protocol. */
#include "study.h"

#include <string.h>

const char *bs_task_name(bs_task t) { return t == BS_TASK_SUBTYPE ? "subtype" : "binary"; }

int bs_task_parse(const char *s, bs_task *out) {
    if (!strcmp(s, "binary"))
        *out = BS_TASK_BINARY;
    else if (!strcmp(s, "subtype"))
        *out = BS_TASK_SUBTYPE;
    else
        return -1;
    return 0;
}

const char *bs_protocol_name(bs_protocol p) {
    return p == BS_PROTOCOL_PAPER ? "paper" : p == BS_PROTOCOL_SOURCE ? "source" : "grouped";
}

int bs_protocol_parse(const char *s, bs_protocol *out) {
    if (!strcmp(s, "paper"))
        *out = BS_PROTOCOL_PAPER;
    else if (!strcmp(s, "grouped"))
        *out = BS_PROTOCOL_GROUPED;
    else if (!strcmp(s, "source"))
        *out = BS_PROTOCOL_SOURCE;
    else
        return -1;
    return 0;
}
