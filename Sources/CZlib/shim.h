#ifndef BOBATCH_CZLIB_SHIM_H
#define BOBATCH_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 is a macro (it passes ZLIB_VERSION and sizeof(z_stream)), which Swift cannot call.
// gzip: a gzip header and trailer (CRC-32 and length checked by zlib); raw: bare deflate data, as in a zip member.
static inline int bb_inflate_init_gzip(z_streamp s) { return inflateInit2(s, 15 + 16); }
static inline int bb_inflate_init_raw(z_streamp s) { return inflateInit2(s, -15); }
#endif
