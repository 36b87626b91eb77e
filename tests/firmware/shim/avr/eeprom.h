// avr-libc's EEPROM words, on the shim's EEPROM file (EEPROM.h): addresses are pointers into the EEPROM space.
#pragma once
#include <stdint.h>

#include "../EEPROM.h"

inline uint32_t eeprom_read_dword(const uint32_t* address) {
  uint32_t v;
  return EEPROM.get((int)(uintptr_t)address, v);
}
inline void eeprom_write_dword(uint32_t* address, uint32_t value) { EEPROM.put((int)(uintptr_t)address, value); }
