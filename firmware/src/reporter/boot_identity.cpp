#include "boot_identity.h"

#include <stddef.h>
#if defined(__AVR__)
#include <util/crc16.h>
#endif

#include "eeprom_map.h"

static_assert((kIdentityCopies & (kIdentityCopies - 1)) == 0, "a power of two: the copy is the generation's low bits");

// CRC-8, polynomial 0x07, starting from 0x5A so that a blank (all 0xFF) copy never passes. On the board, avr-libc's
// _crc8_ccitt_update() is that step (the same polynomial, most significant bit first) in a few instructions.
uint8_t crc8(const uint8_t* data, uint8_t n) {
  uint8_t crc = 0x5A;
  while (n--) {
#if defined(__AVR__)
    crc = _crc8_ccitt_update(crc, *data++);
#else
    crc ^= *data++;
    for (uint8_t bit = 0; bit < 8; bit++) crc = crc & 0x80 ? (uint8_t)(crc << 1) ^ 0x07 : (uint8_t)(crc << 1);
#endif
  }
  return crc;
}

// A copy as stored: generation and incarnation little-endian (the AVR's order and the host's), then the CRC --
// the struct's own bytes, read and written as they are.
static_assert(offsetof(BootIdentity::Copy, crc) == 8 && kIdentitySize == 9, "a copy is its struct's first 9 bytes");

bool BootIdentity::load() {
  blank_ = true;
  for (uint8_t i = 0; i < kIdentityCopies; i++) {
    Copy& c = read_;
    eepromRead(kIdentityAt + i * kIdentitySize, (uint8_t*)&c, kIdentitySize);
    if (c.crc != crc8((const uint8_t*)&c, 8)) continue;
    if (blank_ || c.generation > copy_.generation) copy_ = c;
    blank_ = false;
  }
  return blank_;
}

void BootIdentity::commit() {
  copy_.generation++;
  copy_.crc = crc8((const uint8_t*)&copy_, 8);
  eepromWrite(kIdentityAt + ((uint8_t)copy_.generation & (kIdentityCopies - 1)) * kIdentitySize,
              (const uint8_t*)&copy_, kIdentitySize);
}

void BootIdentity::beginBoot(uint32_t noise) {
  if (blank_) copy_.incarnation = noise;
  commit();
  boot_ = copy_.generation;
}

void BootIdentity::redraw(uint32_t noise) {
  // Mixed with the one it replaces, so a board whose noise repeats (an emulator's ADC) still moves on.
  // Rotated by a byte, not multiplied: byte moves, no 32-bit multiply helper or shift loop for this one line.
  uint32_t was = copy_.incarnation;
  copy_.incarnation = noise ^ ((was << 8 | was >> 24) + copy_.generation);
  commit();
}
