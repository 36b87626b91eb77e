// The Retry-After header of an HTTP answer (delta-seconds; the HTTP-date form is not read and counts as none),
// picked out byte by byte as the answer passes on its way to the status-line reader, keeping nothing else.
#pragma once
#include <stdint.h>

class RetryAfter {
 public:
  void begin() {
    at_ = kOther;  // the status line
    seconds_ = 0;
  }
  void feed(uint8_t c);
  // What the server asked for, ms; 0 when it did not. Past 65,535 s (18 h, far beyond the back-off's cap) it
  // reads as 65,535 s: a 16-by-16 multiply that cannot overflow.
  uint32_t ms() const { return seconds_ * 1000UL; }

 private:
  // at_: how much of "retry-after:" this header line has matched; kValue: in its digits; kOther: another line;
  // kDone: the headers are over.
  // (No initialisers: begin() comes before the first byte, and a global needs no constructor.)
  enum : uint8_t { kValue = 12, kOther = 13, kDone = 14 };
  uint8_t at_;
  uint16_t seconds_;
};
