#include "boot_identity.h"

#include <string.h>

#include "eeprom_map.h"

static_assert((kIdentityCopies & (kIdentityCopies - 1)) == 0, "a power of two: the copy is the generation's low bits");

// CRC-8, polynomial 0x07, starting from 0x5A so that a blank (all 0xFF) copy never passes.
uint8_t crc8(const uint8_t* data, uint8_t n) {
  uint8_t crc = 0x5A;
  while (n--) {
    crc ^= *data++;
    for (uint8_t bit = 0; bit < 8; bit++) crc = crc & 0x80 ? (uint8_t)(crc << 1) ^ 0x07 : (uint8_t)(crc << 1);
  }
  return crc;
}

// A copy as stored: generation and incarnation little-endian (the AVR's order and the host's), then the CRC.
bool BootIdentity::load() {
  blank_ = true;
  for (uint8_t i = 0; i < kIdentityCopies; i++) {
    uint8_t c[kIdentitySize];
    eepromRead(kIdentityAt + i * kIdentitySize, c, kIdentitySize);
    if (c[8] != crc8(c, 8)) continue;
    uint32_t generation, incarnation;
    memcpy(&generation, c, 4);
    memcpy(&incarnation, c + 4, 4);
    if (blank_ || generation > generation_) {
      generation_ = generation;
      incarnation_ = incarnation;
    }
    blank_ = false;
  }
  return blank_;
}

void BootIdentity::commit() {
  uint8_t c[kIdentitySize];
  generation_++;
  memcpy(c, &generation_, 4);
  memcpy(c + 4, &incarnation_, 4);
  c[8] = crc8(c, 8);
  eepromWrite(kIdentityAt + ((uint8_t)generation_ & (kIdentityCopies - 1)) * kIdentitySize, c, kIdentitySize);
}

void BootIdentity::beginBoot(uint32_t noise) {
  if (blank_) incarnation_ = noise;
  commit();
  boot_ = generation_;
}

void BootIdentity::redraw(uint32_t noise) {
  // Mixed with the one it replaces, so a board whose noise repeats (an emulator's ADC) still moves on.
  // Rotated by a byte, not multiplied: byte moves, no 32-bit multiply helper or shift loop for this one line.
  incarnation_ = noise ^ ((incarnation_ << 8 | incarnation_ >> 24) + generation_);
  commit();
}
