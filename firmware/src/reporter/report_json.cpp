#include "report_json.h"

#include "sensors.h"

namespace {

void printTenths(Print& out, int16_t tenths) {
  if (tenths < 0) {
    out.print('-');
    tenths = -tenths;
  }
  // Unsigned from here on, so the signed number printer is not linked in for this.
  unsigned value = (unsigned)tenths;
  out.print(value / 10);
  out.print('.');
  out.print(value % 10);
}

// Eight lowercase hex digits, leading zeros included (Print's HEX is upper case and drops them).
void printHex32(Print& out, uint32_t v) {
  for (uint8_t i = 0; i < 8; i++) {
    uint8_t digit = v >> 28;
    v <<= 4;
    out.print((char)(digit < 10 ? '0' + digit : 'a' - 10 + digit));
  }
}

// `key` carries its punctuation (",\"seq\":"): one call per number.
void field(Print& out, const __FlashStringHelper* key, uint32_t value) {
  out.print(key);
  out.print(value);
}

}  // namespace

size_t ReadingJson::printTo(Print& out) const {
  out.print(F("{\"device\":\""));
  out.print(device);
  out.print(F("\",\"incarnation\":\""));
  printHex32(out, incarnation);
  field(out, F("\",\"boot\":"), reading.boot);
  field(out, F(",\"seq\":"), reading.seq);
  field(out, F(",\"uptime_ms\":"), reading.sample.uptimeMs);
  out.print(F(",\"readings\":{\"a0_c\":"));
  printTenths(out, a0Tenths(reading.sample));
  out.print(F(",\"chip_c\":"));
  printTenths(out, chipTenths(reading.sample));
  field(out, F(",\"vcc_mv\":"), vccMv(reading.sample));
  field(out, F("},\"dropped\":"), dropped);
  if (ageMs != kAgeUnknown) field(out, F(",\"age_ms\":"), ageMs);
  field(out, F(",\"diag\":{\"reset_cause\":"), diag.resetCause);
  field(out, F(",\"esp_reboots\":"), diag.espReboots);
  field(out, F(",\"wifi_joins\":"), diag.wifiJoins);
  field(out, F(",\"link_failures\":"), diag.linkFailures);
  out.print(F("}}"));
  return 0;  // nobody uses the count: the driver counts with a Print of its own
}
