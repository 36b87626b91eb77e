// The host's build of EspAtDecimal.S (the native tests build the library with the reporters' settings).
#include "EspAtDecimal.h"

#if ESPAT_SMALL_DECIMAL && !defined(__AVR__)
void espat_decimal(Print& out, uint32_t n, uint8_t tenths) {
  char digits[10];
  char* p = digits + sizeof digits;
  do {
    *--p = (char)('0' + n % 10);
    n /= 10;
  } while (n || (tenths && p > digits + sizeof digits - 2));
  if (tenths) {
    out.write(p, digits + sizeof digits - 1 - p);
    out.print('.');
    p = digits + sizeof digits - 1;
  }
  out.write(p, digits + sizeof digits - p);
}

uint32_t espat_divide(uint32_t n, uint16_t d) { return n / d; }
#endif
