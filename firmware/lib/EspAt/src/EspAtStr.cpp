#include "EspAtStr.h"

char EspStr::at(uint16_t i) const {
  if (!p_) return 0;
  return inFlash() ? (char)pgm_read_byte(p_ + i) : p_[i];
}

uint16_t EspStr::length() const {
  if (!p_) return 0;
  return inFlash() ? strlen_P(p_) : strlen(p_);
}

size_t EspStr::printTo(Print& out) const {
  if (!p_) return 0;
  return inFlash() ? out.print(reinterpret_cast<const __FlashStringHelper*>(p_)) : out.print(p_);
}

void EspStr::printQuoted(Print& out) const {
  out.write('"');
  for (uint16_t i = 0; char c = at(i); i++) {
    if (c == '\\' || c == '"' || c == ',') out.write('\\');
    out.write(c);
  }
  out.write('"');
}
