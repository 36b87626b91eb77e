// Reads an HTTP/1.1 answer byte by byte: the status code, the Content-Length header, the end of the headers and
// of the body. It keeps no bytes itself: feed() says which ones are the body's.
#pragma once
#include <Arduino.h>

class EspAtHttpReply {
 public:
  static const uint16_t kUnknownLength = 0xFFFF;  // no Content-Length (or one past 65534): the body ends with the link

  void begin() {
    phase_ = kBeforeCode;
    status_ = 0;
    length_ = kUnknownLength;
  }
  // One byte of the answer; true when it is a byte of the body.
  bool feed(uint8_t c);
  // The same for a caller that needs only the status code (no Content-Length, no end of the headers): smaller.
  void feedStatus(uint8_t c) {
    if (phase_ == kBeforeCode) {
      if (c == ' ') phase_ = kInCode;  // "HTTP/1.1 201 Created": the digits after the first space
    } else if (phase_ == kInCode) {
      if (c >= '0' && c <= '9' && status_ < 1000) status_ = status_ * 10 + (c - '0');
      else phase_ = kLineStart;
    }
  }
  // 0 until a status code has been read (negative while feed() checks the line begins "HTTP/"; 0 for good when
  // it does not)
  int status() const { return status_; }
  bool headersDone() const { return phase_ == kInBody; }
  // The headers are in and the body's announced length has all arrived.
  bool complete() const { return phase_ == kInBody && length_ != kUnknownLength && bodyLeft_ == 0; }
  uint16_t contentLength() const { return length_; }

 private:
  // Where the parser is: the status code, then each header line from kLineStart on (the value is how much of
  // "content-length:" the line has matched), then the body.
  enum : uint8_t { kBeforeCode, kInCode, kInBody, kLineStart };
  // Set by begin(): a global one starts zeroed, which is no valid state until then.
  uint8_t phase_;
  int status_;
  uint16_t length_;
  uint16_t bodyLeft_;
};
