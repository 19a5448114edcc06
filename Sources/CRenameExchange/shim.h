#ifndef BO_BATCH_RENAME_EXCHANGE_H
#define BO_BATCH_RENAME_EXCHANGE_H
// renameat2(2) with RENAME_EXCHANGE, and O_TMPFILE with linkat(2)'s AT_EMPTY_PATH, which Swift's Glibc module does
// not expose (they need _GNU_SOURCE, and O_TMPFILE is a macro Swift cannot import).
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/// Swaps `from` and `to` in directory `dirfd`, atomically; both must exist. 0, or -1 with errno.
static inline int bo_batch_exchange_at(int dirfd, const char *from, const char *to) {
    return renameat2(dirfd, from, dirfd, to, RENAME_EXCHANGE);
}

/// A new, nameless regular file in directory `dirfd` (mode 0644 less the umask), open for writing: nothing in the
/// directory shows it until ``bo_batch_link_unnamed`` names it, and it vanishes if the process dies first.
/// The descriptor, or -1 with errno (EOPNOTSUPP, EISDIR or EINVAL where the file system or kernel lacks O_TMPFILE).
static inline int bo_batch_open_unnamed(int dirfd) {
    return openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
}

/// Gives the nameless file `fd` the name `name` in `dirfd`, atomically and only if the name is free (EEXIST
/// otherwise). 0, or -1 with errno: ENOENT (or EPERM) where the kernel allows AT_EMPTY_PATH only with
/// CAP_DAC_READ_SEARCH (before Linux 6.10, for everyone but root).
static inline int bo_batch_link_unnamed(int fd, int dirfd, const char *name) {
    return linkat(fd, "", dirfd, name, AT_EMPTY_PATH);
}
#endif
