/* json.h — the few JSON writing helpers every report needs: escaped strings and
 * numbers that never print NaN or Infinity (those become null, which JSON allows). */
#ifndef BS_CORE_JSON_H
#define BS_CORE_JSON_H

#include <stdio.h>

void bs_json_string(FILE *fp, const char *s);
/* Shortest round-trip form (%.17g trimmed); non-finite values print as null. */
void bs_json_number(FILE *fp, double v);

#endif
