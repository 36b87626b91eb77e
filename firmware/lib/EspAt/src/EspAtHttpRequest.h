// An HTTP/1.1 request as a Printable: written once into a counter (for AT+CIPSEND's length, or a Client's
// Content-Length) and once to the wire, by the same code, so the two can never disagree.
#pragma once
#include <Arduino.h>

#include "EspAtStr.h"

// No constructor of its own: a global one starts zeroed (no start-up code), a local one is value-initialized,
// `EspAtHttpRequest request{};`. Set host, port and path; the rest may stay zero.
class EspAtHttpRequest : public Printable {
 public:
  EspStr host;
  uint16_t port;
  EspStr path;
  EspStr bearer;           // non-empty: `Authorization: Bearer <bearer>`
  const Printable* body;   // nullptr: a GET; else a POST of what it prints, as JSON (printed twice)
  bool keepAlive;          // false: `Connection: close`

  // Returns 0, not the count: nothing needs it, and summing it costs flash (EspAtByteCounter counts).
  size_t printTo(Print& out) const override;
};
