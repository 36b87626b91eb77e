// Host EEPROM: 1 KiB kept in the file named by ESPAT_SHIM_EEPROM (erased, 0xFF, when it does not exist yet);
// every put() writes the file back, so a second run of the program sees what the first one stored.
#pragma once
#include "Arduino.h"

class HostEeprom {
 public:
  uint8_t read(int address);
  void write(int address, uint8_t value);
  template <typename T>
  T& get(int address, T& value) {
    for (size_t i = 0; i < sizeof(T); i++) reinterpret_cast<uint8_t*>(&value)[i] = read(address + (int)i);
    return value;
  }
  template <typename T>
  const T& put(int address, const T& value) {
    for (size_t i = 0; i < sizeof(T); i++) write(address + (int)i, reinterpret_cast<const uint8_t*>(&value)[i]);
    return value;
  }
  uint16_t length() const { return 1024; }
};
extern HostEeprom EEPROM;
