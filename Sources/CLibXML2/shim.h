#ifndef BOBATCH_CLIBXML2_SHIM_H
#define BOBATCH_CLIBXML2_SHIM_H
// Debian builds libxml2 with ICU, whose module clashes with Foundation's own ICU
// ('UErrorCode' has different definitions in different modules): hide it.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>

#endif
