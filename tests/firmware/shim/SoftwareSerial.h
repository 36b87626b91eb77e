// Host SoftwareSerial: one more socket port (the pins are ignored); the fake ESP-01 is on the other end.
#pragma once
#include "Arduino.h"

class SoftwareSerial : public HostSerial {
 public:
  SoftwareSerial(uint8_t, uint8_t) : HostSerial("soft") {}
};
