// Where the reporter keeps what must outlive a reset in the Uno's 1 KiB of EEPROM, and the one way it writes it.
#pragma once
#include <avr/eeprom.h>
#include <stdint.h>

// 0..35: the boot identity (boot_identity.h), 4 copies of 9 bytes; 36..1007: the reading queue (reading_queue.h),
// 54 records of 18 bytes; 1008..1023 unused.
const uint16_t kIdentityAt = 0;
const uint8_t kIdentityCopies = 4, kIdentitySize = 9;
const uint16_t kQueueAt = kIdentityAt + kIdentityCopies * kIdentitySize;
// ESPAT_QUEUE_SLOTS is for tests that want a queue to overflow soon; the board uses all the room there is.
#ifndef ESPAT_QUEUE_SLOTS
#define ESPAT_QUEUE_SLOTS 54
#endif
const uint8_t kQueueSlots = ESPAT_QUEUE_SLOTS, kRecordSize = 18;
static_assert(kQueueAt + kQueueSlots * kRecordSize <= 1024, "the Uno has 1 KiB of EEPROM");

// Byte by byte, first byte first: what a power cut leaves behind depends on this order (avr-libc's
// eeprom_update_block writes from the last byte down, so it is not used). An unchanged byte is not rewritten.
// One loop for both directions: every EEPROM access of the reporter goes through it.
inline void eepromCopy(uint16_t at, uint8_t* data, uint8_t n, bool write) {
  do {
    uint8_t* cell = (uint8_t*)(uintptr_t)at++;
    if (write) {
      eeprom_update_byte(cell, *data);
    } else {
      *data = eeprom_read_byte(cell);
    }
    data++;
  } while (--n);
}
inline void eepromWrite(uint16_t at, const uint8_t* data, uint8_t n) { eepromCopy(at, (uint8_t*)data, n, true); }
inline void eepromRead(uint16_t at, uint8_t* data, uint8_t n) { eepromCopy(at, data, n, false); }
