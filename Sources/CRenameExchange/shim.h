#ifndef BO_BATCH_RENAME_EXCHANGE_H
#define BO_BATCH_RENAME_EXCHANGE_H
// renameat2(2) with RENAME_EXCHANGE, which Swift's Glibc module does not expose (it needs _GNU_SOURCE).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>

/// Swaps `from` and `to` in directory `dirfd`, atomically; both must exist. 0, or -1 with errno.
static inline int bo_batch_exchange_at(int dirfd, const char *from, const char *to) {
    return renameat2(dirfd, from, dirfd, to, RENAME_EXCHANGE);
}
#endif
