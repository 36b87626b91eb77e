// The JSON body of one reading, in the order of the collector's contract (host/espat_collect/contract.json):
// {"device":…,"incarnation":"1a2b3c4d","boot":…,"seq":…,"uptime_ms":…,
//  "readings":{"a0_c":…,"chip_c":…,"vcc_mv":…},"dropped":…,"age_ms":…,
//  "diag":{"reset_cause":…,"esp_reboots":…,"wifi_joins":…,"link_failures":…}}
// age_ms is left out for a reading from an earlier boot: the board has no clock that outlives a reset.
#pragma once
#include <Arduino.h>

#include "reading_queue.h"

// Counters since this boot (contract.json "diag").
struct Diagnostics {
  uint32_t resetCause;    // MCUSR as it was at reset: 1 power-on, 2 external, 4 brown-out, 8 watchdog
  uint32_t espReboots;    // `ready` from the module, or resets of it
  uint32_t wifiJoins;     // AT+CWJAP sent
  uint32_t linkFailures;  // connects or sends that failed
};

// Adds n to one of them (out of line: a 32-bit add in place costs more than the call).
__attribute__((noinline)) void count(uint32_t& counter, uint8_t n = 1);

const uint32_t kAgeUnknown = 0xFFFFFFFFUL;

// The body's numbers (a plain struct: the printer finds each by its offset, from a table).
struct ReadingFields {
  uint32_t incarnation;  // this board's random id, from EEPROM
  Queued reading;
  uint16_t dropped;      // readings the queue let go or the server refused for good (since the queue was new)
  uint32_t ageMs;        // how long ago it was sampled, or kAgeUnknown
  Diagnostics diag;
};

// A snapshot of everything the body says, printed on demand: the driver prints it twice (once to count it for
// Content-Length and CIPSEND, once to send it), and a snapshot cannot change in between. Not itself a Printable:
// the HTTP reporter prints it from its request by name, so the reading in flight needs no virtual table (nor a
// constructor to set its pointer to one).
struct ReadingBody : ReadingFields {
  const __FlashStringHelper* device;  // checked at compile time against the contract's rule (no escaping needed)
  size_t printTo(Print& out) const;
};

// The same body as a Printable, for what takes one (an MQTT publish; the host tests print one).
class ReadingJson : public Printable, public ReadingBody {
 public:
  size_t printTo(Print& out) const override { return ReadingBody::printTo(out); }
};
