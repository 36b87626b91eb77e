// A fake EEPROM for tests/firmware/eeprom_cases.cpp, in place of avr-libc's: 1 KiB in RAM that counts each cell's
// physical writes (an unchanged byte is not written, as eeprom_update_byte does) and calls a hook before each one,
// so a test can look at what a power cut at that byte would leave.
#pragma once
#include <stdint.h>

extern uint8_t fakeEeprom[1024];
extern uint32_t fakeCellWrites[1024];
// Called before each physical write with the address and the byte about to be written; nullptr: none.
extern void (*fakeBeforeWrite)(uint16_t address, uint8_t value);

inline uint8_t eeprom_read_byte(const uint8_t* p) { return fakeEeprom[(uintptr_t)p & 1023]; }
inline void eeprom_update_byte(uint8_t* p, uint8_t value) {
  uint16_t a = (uint16_t)((uintptr_t)p & 1023);
  if (fakeEeprom[a] == value) return;
  if (fakeBeforeWrite) fakeBeforeWrite(a, value);
  fakeEeprom[a] = value;
  fakeCellWrites[a]++;
}
