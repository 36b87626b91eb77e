// A number in decimal, the bytes Print::print(unsigned long) writes; with `tenths`, its last digit after a point
// (125 as 12.5, 5 as 0.5), as print(n / 10), print('.'), print(n % 10) write it.
//
// ESPAT_SMALL_DECIMAL 1: by a writer of the library's own (EspAtDecimal.S on the AVR, 76 B) and its 32-by-16-bit
// division (espatDivide(), 40 B, for the sketch's own divisions too), so that neither Print's printNumber (any
// base, 136 B) nor libgcc's 32-bit division (68 B) is linked -- for a sketch in which nothing else prints a number
// or divides 32 bits (the HTTP reporters, platformio.ini); where something else does, they would be second copies.
// 0 (the default): Print's and the compiler's.
#pragma once
#include <Arduino.h>

#ifndef ESPAT_SMALL_DECIMAL
#define ESPAT_SMALL_DECIMAL 0
#endif

#if ESPAT_SMALL_DECIMAL
extern "C" {
void espat_decimal(Print& out, uint32_t n, uint8_t tenths);
// n / d, for d below 32,768.
uint32_t espat_divide(uint32_t n, uint16_t d);
}
inline void espatDecimal(Print& out, uint32_t n, bool tenths = false) { espat_decimal(out, n, tenths); }
inline uint32_t espatDivide(uint32_t n, uint16_t d) { return espat_divide(n, d); }
#else
inline void espatDecimal(Print& out, uint32_t n, bool tenths = false) {
  if (tenths) {
    out.print(n / 10);
    out.print('.');
    n %= 10;
  }
  out.print(n);
}
inline uint32_t espatDivide(uint32_t n, uint16_t d) { return n / d; }
#endif
