// The reporters' debug text: one line per event, "<what> <number>", on USB, through one function (the sketch's) so
// each event costs a call, not a print chain (and logEvent16() for the narrow numbers, most of them). The hwserial
// reporter shares its port with the module: no text.
#pragma once
#include <Arduino.h>

#if defined(ESPAT_REPORTER_HWSERIAL)
#define LOG(text, value) ((void)0)
#define LOG16(text, value) ((void)0)
#else
void logEvent(const __FlashStringHelper* what, uint32_t value);
// For a value of 16 bits or fewer: widened once, in log_event.cpp, not at every call.
void logEvent16(const __FlashStringHelper* what, uint16_t value);
#define LOG(text, value) logEvent(F(text), value)
#define LOG16(text, value) logEvent16(F(text), value)
#endif
