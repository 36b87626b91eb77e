// Bytes in RAM as a Printable: what the driver sends (printed twice, counted then written) and what the MQTT
// publisher writes as a payload. Needs nothing but the core's Print and Printable.
#pragma once
#include <Arduino.h>

namespace espat {

class Bytes : public Printable {
 public:
  Bytes(const uint8_t* p, uint16_t n) : p_(p), n_(n) {}
  Bytes() {}  // nothing yet: assigned before it is printed
  size_t printTo(Print& out) const override { return out.write(p_, n_); }

 private:
  const uint8_t* p_;
  uint16_t n_;
};

}  // namespace espat
