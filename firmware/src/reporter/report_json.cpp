#include "report_json.h"

#include <stddef.h>
#include <string.h>

#include <EspAtDecimal.h>

#include "saved_regs.h"
#include "sensors.h"

namespace {

// The body's values in its order: each key (with the punctuation before it) from kKeys, one after the other, then
// its value as kFields says. A table and one loop, not a call per field.
const char kKeys[] PROGMEM =
    "{\"device\":\"\0\",\"incarnation\":\"\0\",\"boot\":\0,\"seq\":\0,\"uptime_ms\":\0"
    ",\"readings\":{\"a0_c\":\0,\"chip_c\":\0,\"vcc_mv\":\0"
    "},\"dropped\":\0,\"age_ms\":\0,\"diag\":{\"reset_cause\":\0,\"esp_reboots\":\0,\"wifi_joins\":\0"
    ",\"link_failures\":\0}}";
// kAge: a u32, left out with its key when unknown; kHex: eight lowercase hex digits, leading zeros included
// (Print's HEX is upper case and drops them).
enum Kind : uint8_t { kDevice, kHex, kU32, kU16, kAge, kA0, kChip, kVcc };
struct Field {
  uint8_t kind, at;  // at: the offset in ReadingFields
};
#define AT(member) (uint8_t) offsetof(ReadingFields, member)
const Field kFields[] PROGMEM = {
    {kDevice, 0},                 {kHex, AT(incarnation)},
    {kU32, AT(reading.boot)},     {kU16, AT(reading.seq)},     {kU32, AT(reading.sample.uptimeMs)},
    {kA0, 0},                     {kChip, 0},                  {kVcc, 0},
    {kU16, AT(dropped)},          {kAge, AT(ageMs)},           {kU32, AT(diag.resetCause)},
    {kU32, AT(diag.espReboots)},  {kU32, AT(diag.wifiJoins)},  {kU32, AT(diag.linkFailures)},
};
#undef AT

}  // namespace

void count(uint32_t& counter, uint8_t n) { counter += n; }

size_t ReadingBody::printTo(Print& out) const {
  REPORTER_SAVED("r8");  // r4-r7 and r9-r17 are used: 15 pushes and pops (saved_regs.h)
  const char* key = kKeys;
  const uint8_t* fields = (const uint8_t*)static_cast<const ReadingFields*>(this);
  for (const Field* f = kFields; f != kFields + sizeof kFields / sizeof *f; f++) {
    uint8_t kind = pgm_read_byte(&f->kind);
    const uint8_t* at = fields + pgm_read_byte(&f->at);
    uint32_t v;
    memcpy(&v, at, 4);
    const char* next = key + strlen_P(key) + 1;
    if (kind == kAge && v == kAgeUnknown) {  // a reading from an earlier boot: no age (no clock outlives a reset)
      key = next;
      continue;
    }
    out.print((const __FlashStringHelper*)key);
    key = next;
    if (kind == kDevice) {
      out.print(device);
      continue;
    }
    if (kind == kHex) {
      // Byte by byte from the most significant, the last in memory (little-endian, on the board and the host):
      // each digit a nibble of a byte, no 32-bit shifts.
      at += 4;
      for (uint8_t i = 0; i < 8; i++) {
        uint8_t digit = i & 1 ? *at & 15 : *--at >> 4;
        out.print((char)(digit < 10 ? '0' + digit : 'a' - 10 + digit));
      }
      continue;
    }
    static_assert(kChip - kA0 == Sample::kChip && kVcc - kA0 == Sample::kBand && Sample::kA0 == 0,
                  "the sensor kinds in the sample's order");
    if (kind == kU16) {
      v = (uint16_t)v;
    } else if (kind >= kA0) {  // a sensor's: its ADC result, one read for the three
      uint16_t raw = reading.sample.adc(kind - kA0);
      if (kind == kVcc) {
        v = vccMv(raw);
      } else {  // tenths of a degree, signed
        int16_t tenths = degreeTenths(raw, kind == kChip);
        if (tenths < 0) {
          out.print('-');
          tenths = -tenths;
        }
        // Unsigned from here on, so the signed number printer is not linked in for this.
        espatDecimal(out, (unsigned)tenths, true);
        continue;
      }
    }
    espatDecimal(out, v);
  }
  out.print((const __FlashStringHelper*)key);  // "}}"
  return 0;  // nobody uses the count: the driver counts with a Print of its own
}
