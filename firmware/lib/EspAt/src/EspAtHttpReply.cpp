#include "EspAtHttpReply.h"

// Matched case-insensitively at the start of each header line (every byte is compared as c | 0x20).
static const char kLengthHeader[] PROGMEM = "content-length:";
static const char kHttp[] PROGMEM = "HTTP/";
static const uint8_t kLengthMatched = sizeof kLengthHeader - 1, kLineOther = kLengthMatched + 1;

bool EspAtHttpReply::feed(uint8_t c) {
  if (phase_ == kInBody) {
    if (bodyLeft_) bodyLeft_--;
    return true;
  }
  if (phase_ == kBeforeCode) {
    // Status line "HTTP/1.1 201 Created": the digits after the first space, on a line that begins "HTTP/" (-status_
    // counts its bytes until then). Anything else is no answer: status() stays 0, whatever numbers follow (a
    // reply missing its first bytes would otherwise give "Content-Length: 225" as status 225).
    if (status_ > -5) {
      if (c == pgm_read_byte(&kHttp[-status_])) {
        status_--;
      } else {
        phase_ = kLineStart + kLineOther;
        status_ = 0;
      }
    } else if (c == ' ') {
      phase_ = kInCode;
      status_ = 0;
    }
  } else if (phase_ == kInCode) {
    if (c >= '0' && c <= '9' && status_ < 1000) {
      status_ = status_ * 10 + (c - '0');
    } else {
      phase_ = kLineStart + kLineOther;  // the rest of the status line
    }
  } else if (c == '\n') {
    if (phase_ == kLineStart) {  // a blank line: the headers are over
      phase_ = kInBody;
      bodyLeft_ = length_ == kUnknownLength ? 0 : length_;
    } else {
      phase_ = kLineStart;
    }
  } else if (c != '\r') {
    uint8_t at = phase_ - kLineStart;  // how much of the Content-Length name this line has matched
    if (at == kLengthMatched) {
      // Spaces around the digits are skipped; a length past 65534 counts as none (the body then ends with the link).
      if (c >= '0' && c <= '9') {
        uint32_t v = (uint32_t)length_ * 10 + (c - '0');
        length_ = v >= kUnknownLength ? kUnknownLength : (uint16_t)v;
      }
    } else if (at < kLengthMatched && (c | 0x20) == pgm_read_byte(&kLengthHeader[at])) {
      if (++phase_ - kLineStart == kLengthMatched) length_ = 0;
    } else {
      phase_ = kLineStart + kLineOther;
    }
  }
  return false;
}
