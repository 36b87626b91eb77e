#include "retry_after.h"

#include <avr/pgmspace.h>

// Compared case-insensitively: every byte as c | 0x20 ('-' and ':' have that bit already).
static const char kName[] PROGMEM = "retry-after:";

void RetryAfter::feed(uint8_t c) {
  if (at_ == kDone) return;
  if (c == '\n') {
    if (lineEmpty_) at_ = kDone;  // a blank line: the body follows, nothing to read there
    else at_ = 0;
    lineEmpty_ = true;
    return;
  }
  if (c != '\r') lineEmpty_ = false;
  if (at_ < kValue) {
    at_ = (c | 0x20) == pgm_read_byte(&kName[at_]) ? at_ + 1 : kOther;
  } else if (at_ == kValue) {
    if (c >= '0' && c <= '9') {
      uint8_t digit = c - '0';
      seconds_ = seconds_ < 6553 ? seconds_ * 10 + digit : 0xFFFF;  // 65,530 s and more: the most it holds
    } else if (c != ' ' && c != '\t' && c != '\r') {
      seconds_ = 0;  // not delta-seconds (an HTTP-date): taken as none
      at_ = kOther;
    }
  }
}
