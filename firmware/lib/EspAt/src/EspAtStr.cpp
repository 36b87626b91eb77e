#include "EspAtStr.h"

// Inlined wherever the whole program is seen (an LTO build: PlatformIO's, the Arduino IDE's); left to itself, gcc
// inlines it in some sketches and not in others (24 B more in MqttPublish, 20 B in the Reporter example). Not
// declared inline, so a build without LTO still links the one out-of-line copy, which gcc warns of: that warning
// is silenced here and only here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wattributes"
__attribute__((always_inline)) char EspStr::at(uint16_t i) const {
  if (!p_) return 0;
  return inFlash() ? (char)pgm_read_byte(flashAddress() + i) : p_[i];
}
#pragma GCC diagnostic pop

#if ESPAT_STR_TAGGED
uint16_t EspStr::lengthOf(const char* tagged) {
  EspStr s;
  s.p_ = tagged;
  if (!s.p_) return 0;
  return s.inFlash() ? strlen_P(s.flashAddress()) : strlen(s.p_);
}

size_t EspStr::print(const char* tagged, Print& out) {
  EspStr s;
  s.p_ = tagged;
  if (!s.p_) return 0;
  return s.inFlash() ? out.print(reinterpret_cast<const __FlashStringHelper*>(s.flashAddress())) : out.print(s.p_);
}
#else
uint16_t EspStr::length() const {
  if (!p_) return 0;
  return inFlash() ? strlen_P(flashAddress()) : strlen(p_);
}

size_t EspStr::printTo(Print& out) const {
  if (!p_) return 0;
  return inFlash() ? out.print(reinterpret_cast<const __FlashStringHelper*>(flashAddress())) : out.print(p_);
}
#endif

void EspStr::printQuoted(Print& out) const {
  out.write('"');
  for (uint16_t i = 0; char c = at(i); i++) {
    if (c == '\\' || c == '"' || c == ',') out.write('\\');
    out.write(c);
  }
  out.write('"');
}
