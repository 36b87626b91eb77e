// What the HTTP reporter reads of an answer: its status code, and its Retry-After header (delta-seconds; the
// HTTP-date form is not read and counts as none), picked out byte by byte as the answer passes, keeping nothing
// else. The status code as EspAtHttpReply::feedStatus() reads it (the digits after the first space), in the same
// state machine as the header, so one walk of the answer does both.
#pragma once
#include <stdint.h>

class RetryAfter {
 public:
  void begin() {
    at_ = kBeforeCode;
    status_ = 0;
    seconds_ = 0;
  }
  void feed(uint8_t c);
  // The status code; 0 until one has been read.
  int status() const { return status_; }
  // What the server asked for, ms; 0 when it did not. Past 65,535 s (18 h, far beyond the back-off's cap) it
  // reads as 65,535 s: a 16-by-16 multiply that cannot overflow.
  uint32_t ms() const { return seconds_ * 1000UL; }

 private:
  // at_: how much of "retry-after:" this header line has matched; kValue: in its digits; kOther: another line;
  // kDone: the headers are over; kBeforeCode, kInCode: the status line, before and in its code.
  // (No initialisers: begin() comes before the first byte, and a global needs no constructor.)
  enum : uint8_t { kValue = 12, kOther = 13, kDone = 14, kBeforeCode = 15, kInCode = 16 };
  uint8_t at_;
  uint16_t status_;
  uint16_t seconds_;
};
