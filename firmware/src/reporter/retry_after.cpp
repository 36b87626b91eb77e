#include "retry_after.h"

#include <avr/pgmspace.h>

// Compared case-insensitively: every byte as c | 0x20 ('-' and ':' have that bit already).
static const char kName[] PROGMEM = "retry-after:";

void RetryAfter::feed(uint8_t c) {
  // '\r' is passed over wherever it is (HTTP has it only before '\n'), so a line that is still at its start when
  // its '\n' comes is empty: the blank line before the body, where there is nothing more to read.
  if (at_ == kDone || c == '\r') return;
  if (c == '\n') {
    at_ = at_ == 0 ? kDone : 0;
    return;
  }
  uint8_t digit = c - '0';  // 10 and more: not a digit
  if (at_ < kValue) {
    at_ = (c | 0x20) == pgm_read_byte(&kName[at_]) ? at_ + 1 : kOther;
  } else if (at_ == kValue) {
    if (digit < 10) {
      seconds_ = seconds_ < 6553 ? seconds_ * 10 + digit : 0xFFFF;  // 65,530 s and more: the most it holds
    } else if (c != ' ' && c != '\t') {
      seconds_ = 0;  // not delta-seconds (an HTTP-date): taken as none
      at_ = kOther;
    }
  } else if (at_ == kBeforeCode) {
    if (c == ' ') at_ = kInCode;  // "HTTP/1.1 201 Created": the digits after the first space
  } else if (at_ == kInCode) {
    if (digit < 10 && status_ < 1000) {
      status_ = status_ * 10 + digit;
    } else {
      at_ = kOther;
    }
  }
}
