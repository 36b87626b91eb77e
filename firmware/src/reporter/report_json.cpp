#include "report_json.h"

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

}  // namespace

size_t ReadingJson::printTo(Print& out) const {
  out.print(F("{\"device\":\""));
  out.print(device);
  out.print(F("\",\"incarnation\":\""));
  printHex32(out, incarnation);
  out.print(F("\",\"boot\":"));
  out.print(boot);
  out.print(F(",\"seq\":"));
  out.print(seq);
  out.print(F(",\"uptime_ms\":"));
  out.print(reading.uptimeMs);
  out.print(F(",\"readings\":{\"a0_c\":"));
  printTenths(out, reading.a0Tenths);
  out.print(F(",\"chip_c\":"));
  printTenths(out, reading.chipTenths);
  out.print(F(",\"vcc_mv\":"));
  out.print(reading.vccMv);
  out.print(F("},\"dropped\":"));
  out.print(dropped);
  out.print('}');
  return 0;  // nobody uses the count: the driver counts with a Print of its own
}
