// The JSON body of one reading, written into the caller's buffer.
#pragma once
#include <stddef.h>

#include "reading.h"

// {"device":…,"boot":…,"seq":…,"uptime_ms":…,"readings":{"a0_c":…,"chip_c":…,"vcc_mv":…}}
// Returns its length, or 0 when it does not fit `cap` (never a cut body).
size_t formatReading(char* buf, size_t cap, const char* devicePgm, uint32_t boot, uint32_t seq, const Reading& r);
