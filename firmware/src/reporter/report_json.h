// The JSON body of one reading, written into the caller's buffer.
#pragma once
#include <stddef.h>

#include "reading.h"

// {"device":…,"boot":…,"seq":…,"uptime_ms":…,"readings":{"a0_c":…,"chip_c":…,"vcc_mv":…}}
// Returns its length, or 0 when it does not fit `cap` (never a cut body).
size_t formatReading(char* buf, size_t cap, const char* devicePgm, uint32_t boot, uint32_t seq, const Reading& r);

// The longest such body for a device name of `deviceLen` characters: every number at its widest (ten digits for the
// uint32 counters, "-3276.8" for a temperature in tenths, five digits for Vcc) around the fixed text.
constexpr size_t readingJsonMax(size_t deviceLen) {
  return sizeof("{\"device\":\"\",\"boot\":,\"seq\":,\"uptime_ms\":,\"readings\":{\"a0_c\":,\"chip_c\":,\"vcc_mv\":}}") - 1 +
         deviceLen + 3 * 10 + 2 * 7 + 5;
}
