// Counts what a Print would send: the exact length of what the same code writes afterwards (AT+CIPSEND's length,
// an HTTP Content-Length).
#pragma once
#include <Arduino.h>

class EspAtByteCounter : public Print {
 public:
  size_t write(uint8_t) override { return ++count; }
  uint16_t count = 0;
};
