// avr-libc's EEPROM access, on the shim's EEPROM file (EEPROM.h): addresses are pointers into the EEPROM space.
#pragma once
#include <stdint.h>

#include "../EEPROM.h"

inline uint8_t eeprom_read_byte(const uint8_t* address) { return EEPROM.read((int)(uintptr_t)address); }
// As avr-libc's: an unchanged byte is not written.
inline void eeprom_update_byte(uint8_t* address, uint8_t value) {
  if (EEPROM.read((int)(uintptr_t)address) != value) EEPROM.write((int)(uintptr_t)address, value);
}
inline uint32_t eeprom_read_dword(const uint32_t* address) {
  uint32_t v;
  return EEPROM.get((int)(uintptr_t)address, v);
}
inline void eeprom_write_dword(uint32_t* address, uint32_t value) { EEPROM.put((int)(uintptr_t)address, value); }
