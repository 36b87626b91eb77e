#include "retry_after.h"

#include <avr/pgmspace.h>

// Compared case-insensitively: every byte as c | 0x20 ('-' and ':' have that bit already).
static const char kName[] PROGMEM = "retry-after:";

void RetryAfter::feed(uint8_t c) {
  // '\r' is passed over wherever it is (HTTP has it only before '\n'), so a line that is still at its start when
  // its '\n' comes is empty: the blank line before the body, where there is nothing more to read.
  uint8_t at = at_;
  if (at == kDone || c == '\r') return;
  uint8_t digit = c - '0';  // 10 and more: not a digit
  if (c == '\n') {
    at = at == 0 ? kDone : 0;
  } else if (at < kValue) {
    at = (c | 0x20) == pgm_read_byte(&kName[at]) ? at + 1 : kOther;
  } else if (at == kBeforeCode) {
    if (c == ' ') at = kInCode;  // "HTTP/1.1 201 Created": the digits after the first space
  } else if (at == kValue || at == kInCode) {
    // Both numbers by one piece of code: the status code takes digits while it is below 1000 (so it never
    // reaches the cap), Retry-After's stops at 65,535 s, the most it holds.
    bool code = at == kInCode;
    uint16_t& n = code ? status_ : seconds_;
    if (digit < 10 && !(code && n >= 1000)) {
      n = n < 6553 ? n * 10 + digit : 0xFFFF;
    } else if (code || (c != ' ' && c != '\t')) {
      if (!code) seconds_ = 0;  // not delta-seconds (an HTTP-date): taken as none
      at = kOther;
    }
  }
  at_ = at;
}
