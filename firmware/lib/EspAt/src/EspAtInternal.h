// What the driver's source files share and nothing else includes: flash tables and the tracing macros.
#pragma once
#include <Arduino.h>

#include "EspAtConfig.h"

// For the driver's larger functions: gcc's tail calls copy the function's whole epilogue (a dozen pops) before each
// jump to another function; plain calls share one. And in a sketch with one driver that only its own code calls
// (the exchange-only ones), gcc propagates the object's address into these functions, and every field access
// becomes a 4-byte absolute one instead of a 2-byte displacement from a pointer register: no clones, no
// propagation. Together about 250 B less in WebClient, 180 B in the Reporter example.
// Five more of gcc's optimisations cost these functions more than they save, measured one by one on them (the
// loop invariants, wide types split, the "expensive" ones, partial redundancy; then the dominator tree's): together
// WebClient 6,738 → 6,714 B, MqttPublish 9,264 → 9,240 B, the reporters 28 B each, and 4 / 4 / 8 B more with the
// last. Turned off for these functions only.
#define ESPAT_NO_TAIL_CALLS                                                                                   \
  __attribute__((noinline, noclone,                                                                           \
                 optimize("no-optimize-sibling-calls", "no-ipa-cp", "no-move-loop-invariants",                \
                          "no-split-wide-types", "no-expensive-optimizations", "no-tree-pre",                 \
                          "no-tree-dominator-opts")))
// Only on functions that are never inlined: gcc 5 keeps a function's own options through -flto, but does not inline
// between functions whose options differ. So a file-wide `#pragma GCC optimize(...)` in the library (the way to
// give an IDE build the reporters' flags) costs flash, whatever it asks for: even a bare "Os" made WebClient
// 236 B and MqttPublish 236 B larger, -fno-gcse 370 B and 630 B. Of the reporters' flags, what pays in the
// examples is -Wl,--relax (which no source can ask for) and -mcall-prologues, a target flag: command line only.

// Out of line in the full driver, whose callers share the function; inlined (as gcc chooses) in the exchange-only
// driver of the reporters, which has fewer callers and whose -mcall-prologues makes a frame cheap: a few bytes
// smaller there each time.
#if ESPAT_CLIENTS
#define ESPAT_SHARED __attribute__((noinline))
#else
#define ESPAT_SHARED
#endif

// The n-th of a table of NUL-separated flash strings.
inline PGM_P esp_nth(PGM_P table, uint8_t n) {
  while (n--) table += strlen_P(table) + 1;
  return table;
}

// Tracing for -DESPAT_DEBUG=<a Print, e.g. Serial>: each line the module sends ("< OK"), each step the driver
// enters by name ("> Send"), each end of an operation ("= 0" = EspStatus::Ok). Without it: no code at all.
#ifdef ESPAT_DEBUG
#define ESPAT_TRACE(text, value) \
  do {                           \
    ESPAT_DEBUG.print(F(text));  \
    ESPAT_DEBUG.println(value);  \
  } while (0)
#define ESPAT_TRACE_STEP(names, step)                                                                     \
  do {                                                                                                    \
    ESPAT_DEBUG.print(F("> "));                                                                           \
    ESPAT_DEBUG.println(reinterpret_cast<const __FlashStringHelper*>(esp_nth(names, (uint8_t)(step)))); \
  } while (0)
#define ESPAT_TRACE_LINE(text, len) \
  do {                              \
    ESPAT_DEBUG.print(F("< "));     \
    ESPAT_DEBUG.write(text, len);   \
    ESPAT_DEBUG.println();          \
  } while (0)
#else
#define ESPAT_TRACE(text, value) ((void)0)
#define ESPAT_TRACE_LINE(text, len) ((void)0)
#define ESPAT_TRACE_STEP(names, step) ((void)0)
#endif
