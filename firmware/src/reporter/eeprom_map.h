// Where the reporter keeps what must outlive a reset in the Uno's 1 KiB of EEPROM, and the one way it writes it.
#pragma once
#include <avr/eeprom.h>
#include <stdint.h>
#if defined(__AVR__)
#include <avr/io.h>
#endif

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
// One loop for both directions: every EEPROM access of the reporter goes through it. On the board it drives the
// EEPROM's registers itself, as avr-libc's eeprom_read_byte and eeprom_update_byte do (each byte read first, and
// written only when it differs), in one loop instead of a call to one of them per byte: about 60 B less. Written
// in assembly as avr-libc's are, so each register is reached by its I/O address (the compiler kept them in
// pointer registers) and EEPE comes within four cycles of EEMPE. The host-native tests' fake EEPROM
// (tests/firmware/fake_eeprom) takes the avr-libc calls.
inline void eepromCopy(uint16_t at, uint8_t* data, uint8_t n, bool write) {
  do {
#if defined(__AVR__)
    uint8_t was;
    __asm__ volatile(
        "1: sbic %[eecr], %[eepe]\n\t"  // the last write still going on
        "rjmp 1b\n\t"
        "out %[earh], %B[at]\n\t"
        "out %[earl], %A[at]\n\t"
        "sbi %[eecr], %[eere]\n\t"
        "in %[was], %[eedr]"
        : [was] "=r"(was)
        : [at] "r"(at), [eecr] "I"(_SFR_IO_ADDR(EECR)), [eepe] "I"(EEPE), [earh] "I"(_SFR_IO_ADDR(EEARH)),
          [earl] "I"(_SFR_IO_ADDR(EEARL)), [eere] "I"(EERE), [eedr] "I"(_SFR_IO_ADDR(EEDR)));
    if (!write) {
      *data = was;
    } else if (was != *data) {
      __asm__ volatile(
          "out %[eecr], __zero_reg__\n\t"  // EEPM = 0: erase and write (undefined after a reset)
          "out %[eedr], %[value]\n\t"
          "in __tmp_reg__, __SREG__\n\t"
          "cli\n\t"  // nothing may come between EEMPE and EEPE
          "sbi %[eecr], %[eempe]\n\t"
          "sbi %[eecr], %[eepe]\n\t"
          "out __SREG__, __tmp_reg__"
          :
          : [value] "r"(*data), [eedr] "I"(_SFR_IO_ADDR(EEDR)), [eecr] "I"(_SFR_IO_ADDR(EECR)),
            [eempe] "I"(EEMPE), [eepe] "I"(EEPE)
          : "memory");
    }
    at++;
#else
    uint8_t* cell = (uint8_t*)(uintptr_t)at++;
    if (write) {
      eeprom_update_byte(cell, *data);
    } else {
      *data = eeprom_read_byte(cell);
    }
#endif
    data++;
  } while (--n);
}
inline void eepromWrite(uint16_t at, const uint8_t* data, uint8_t n) { eepromCopy(at, (uint8_t*)data, n, true); }
inline void eepromRead(uint16_t at, uint8_t* data, uint8_t n) { eepromCopy(at, data, n, false); }
