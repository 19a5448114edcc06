#ifndef BOBATCH_CIDN2_SHIM_H
#define BOBATCH_CIDN2_SHIM_H
#include <idn2.h>
#include <stdlib.h>
static inline void bb_idn2_free(void *p) { idn2_free(p); }
#endif
