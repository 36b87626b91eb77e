#include "log_event.h"

#if !defined(ESPAT_REPORTER_HWSERIAL)
void logEvent16(const __FlashStringHelper* what, uint16_t value) { logEvent(what, value); }
#endif
