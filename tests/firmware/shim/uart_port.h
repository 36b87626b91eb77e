// The shim's stand-in for firmware/include/uart_port.h: UART0 as the ESP-01's port, a connection to the fake.
#pragma once
#include "Arduino.h"

class UartPort : public HostSerial {
 public:
  UartPort() : HostSerial("esp") {}
};
UartPort espUart;
