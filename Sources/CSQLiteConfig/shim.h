#ifndef BO_BATCH_SQLITE_CONFIG_H
#define BO_BATCH_SQLITE_CONFIG_H
// sqlite3_config(3) is variadic, which Swift cannot call. Declared here rather than through <sqlite3.h>, so that
// SQLite's declarations keep coming from GRDB's module alone (two modules with the same header make Swift's
// uses of them ambiguous).
int sqlite3_config(int, ...);

/// Turns SQLite's memory statistics on or off (SQLITE_CONFIG_MEMSTATUS, 9 in sqlite3.h): with them on, every
/// sqlite3_malloc and sqlite3_free takes a global mutex to count bytes nobody reads. Only before SQLite is
/// initialized (the first connection opened): afterwards SQLite leaves it as it is and answers SQLITE_MISUSE.
static inline int bo_batch_sqlite_memstatus(int on) {
    return sqlite3_config(9, on);
}
#endif
