// The JSON body of one reading, in the order the collector's contract fixes:
// {"device":…,"incarnation":"1a2b3c4d","boot":…,"seq":…,"uptime_ms":…,
//  "readings":{"a0_c":…,"chip_c":…,"vcc_mv":…},"dropped":…}
#pragma once
#include <Arduino.h>

#include "reading.h"

// A snapshot of everything the body says, printed on demand: the driver prints it twice (once to count it for
// Content-Length and CIPSEND, once to send it), and a snapshot cannot change in between, as the ring can.
class ReadingJson : public Printable {
 public:
  const __FlashStringHelper* device;  // checked at compile time to need no escaping
  uint32_t incarnation;  // this board's random id, from EEPROM
  uint32_t boot;
  uint32_t seq;
  uint16_t dropped;      // readings the ring lost to overflow since boot
  Reading reading;
  size_t printTo(Print& out) const override;
};

// True when `text` can go between JSON quotes as it is: no quote, backslash or control character.
constexpr bool jsonPlain(const char* text) {
  return *text == 0 || (*text != '"' && *text != '\\' && (unsigned char)*text >= 0x20 && jsonPlain(text + 1));
}
