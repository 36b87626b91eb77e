// The shim's IPAddress: four bytes, as the core's (which the library only reads through operator[]).
#pragma once
#include "Arduino.h"

class IPAddress : public Printable {
 public:
  IPAddress() : bytes_{0, 0, 0, 0} {}
  IPAddress(uint8_t a, uint8_t b, uint8_t c, uint8_t d) : bytes_{a, b, c, d} {}
  uint8_t operator[](int i) const { return bytes_[i]; }
  uint8_t& operator[](int i) { return bytes_[i]; }
  bool operator==(const IPAddress& o) const { return memcmp(bytes_, o.bytes_, 4) == 0; }
  size_t printTo(Print& p) const override {
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
      if (i) n += p.print('.');
      n += p.print((unsigned)bytes_[i]);
    }
    return n;
  }

 private:
  uint8_t bytes_[4];
};
