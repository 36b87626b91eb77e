// The shim's stand-in for firmware/include/soft_uart.h: pins 2/3 as a connection to the fake ESP-01.
#pragma once
#include "Arduino.h"

class SoftUart : public HostSerial {
 public:
  SoftUart() : HostSerial("soft") {}
  void begin() { HostSerial::begin(9600); }
};
SoftUart espUart;
