#ifndef BOBATCH_CCURL_SHIM_H
#define BOBATCH_CCURL_SHIM_H
#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call:
// one typed wrapper per argument kind.
static inline CURLcode bb_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode bb_curl_setopt_ptr(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode bb_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
typedef size_t (*bb_curl_data_cb)(char *, size_t, size_t, void *);
static inline CURLcode bb_curl_setopt_data_cb(CURL *h, CURLoption o, bb_curl_data_cb v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode bb_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode bb_curl_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
typedef int (*bb_curl_xferinfo_cb)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
static inline CURLcode bb_curl_setopt_xferinfo_cb(CURL *h, bb_curl_xferinfo_cb v) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, v); }
typedef int (*bb_curl_prereq_cb)(void *, char *, char *, int, int);
static inline CURLcode bb_curl_setopt_prereq_cb(CURL *h, bb_curl_prereq_cb v) { return curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, v); }
static inline CURLcode bb_curl_getinfo_str(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }

// The share interface (TLS sessions and DNS shared by a transport's worker handles) is variadic too.
static inline CURLSHcode bb_curl_share_setopt_long(CURLSH *s, CURLSHoption o, long v) { return curl_share_setopt(s, o, v); }
static inline CURLSHcode bb_curl_share_setopt_ptr(CURLSH *s, CURLSHoption o, void *v) { return curl_share_setopt(s, o, v); }
typedef void (*bb_curl_lock_cb)(CURL *, curl_lock_data, curl_lock_access, void *);
typedef void (*bb_curl_unlock_cb)(CURL *, curl_lock_data, void *);
static inline CURLSHcode bb_curl_share_setopt_lock(CURLSH *s, bb_curl_lock_cb v) { return curl_share_setopt(s, CURLSHOPT_LOCKFUNC, v); }
static inline CURLSHcode bb_curl_share_setopt_unlock(CURLSH *s, bb_curl_unlock_cb v) { return curl_share_setopt(s, CURLSHOPT_UNLOCKFUNC, v); }
#endif
