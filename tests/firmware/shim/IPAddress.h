// Host stand-in for the core's IPAddress.h: four bytes, printable as a dotted quad.
#pragma once
#include "Arduino.h"

class IPAddress : public Printable {
 public:
  IPAddress() : IPAddress(0, 0, 0, 0) {}
  IPAddress(uint8_t a, uint8_t b, uint8_t c, uint8_t d) : bytes_{a, b, c, d} {}
  uint8_t operator[](int i) const { return bytes_[i]; }
  uint8_t& operator[](int i) { return bytes_[i]; }
  bool operator==(const IPAddress& o) const { return memcmp(bytes_, o.bytes_, 4) == 0; }
  size_t printTo(Print& p) const override {
    size_t n = 0;
    for (int i = 0; i < 4; i++) n += (i ? p.print('.') : 0) + p.print(bytes_[i]);
    return n;
  }

 private:
  uint8_t* raw_address() { return bytes_; }
  uint8_t bytes_[4];
  friend class Client;
  friend class UDP;
};
