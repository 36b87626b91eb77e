// A string argument that knows where it lives: RAM (`const char*`, a char array, a run-time buffer) or flash
// (`F("...")`, a `const __FlashStringHelper*`). Every EspAt function that takes text takes an EspStr, so both work,
// and the type decides how the bytes are read: a RAM pointer is never read as flash, nor the reverse.
// Anything else (a byte pointer, a number) does not compile. PSTR() gives a plain `const char*` that points into
// flash: pass F("...") instead (or cast the PSTR to `const __FlashStringHelper*`).
#pragma once
#include <Arduino.h>

#include "EspAtConfig.h"

// Where flash and RAM addresses never reach 0x8000 (the Uno: 32 KB of flash, 2 KB of RAM), a flash string is its
// address with that bit set: two bytes, not a pointer and a flag, so every string argument, and the driver's copies
// of them, take a register and a byte less (26 B of flash in WebClient, 54 B in HttpPost, 152 B in reporter_mqtt).
// tests/firmware/test_strings_on_avr.py runs it on the Uno; a native build keeps the flag.
#if ESPAT_RAM_STRINGS && defined(__AVR__) && FLASHEND <= 0x7FFF && RAMEND <= 0x7FFF
#define ESPAT_STR_TAGGED 1
#else
#define ESPAT_STR_TAGGED 0
#endif

class EspStr {
 public:
#if ESPAT_STR_TAGGED
  EspStr(const char* ram) : p_(ram) {}
  EspStr(char* ram) : p_(ram) {}
  // (+, not |: the same bit for an address under 0x8000, and the linker folds an addition into the F() string's
  // address, where an OR is an instruction at every call.) A null one stays null, so it is empty as on every other
  // build, not flash address 0 (the vector table); the test costs nothing for an F() literal, whose address the
  // compiler knows is not null, and one branch where the pointer is a variable.
  EspStr(const __FlashStringHelper* flash)
      : p_(flash ? reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(flash) + kFlash) : nullptr) {}
#elif ESPAT_RAM_STRINGS
  EspStr(const char* ram) : p_(ram), flash_(false) {}
  EspStr(char* ram) : p_(ram), flash_(false) {}
  EspStr(const __FlashStringHelper* flash) : p_(reinterpret_cast<const char*>(flash)), flash_(true) {}
#else
  EspStr(const __FlashStringHelper* flash) : p_(reinterpret_cast<const char*>(flash)) {}
#endif
  // Trivial, so a global holding one costs no start-up code: zeroed, it is empty. A local one must be
  // value-initialized (`EspStr s{};`, or its holder's `{}`) to be empty.
  EspStr() = default;
  EspStr(decltype(nullptr)) : p_(nullptr) {}  // empty (an empty string is never read as flash: p_ is null)
  // Nothing else becomes a string silently: bytes, numbers, other pointers.
  template <typename T>
  EspStr(T) = delete;

  // The i-th byte (0 past the end); i must not pass the terminating 0.
  char at(uint16_t i) const;
  bool empty() const { return at(0) == 0; }
#if ESPAT_STR_TAGGED
  // The string is one register pair here: handed over by value, not by address (a caller would have to put it in
  // memory for `this`).
  uint16_t length() const { return lengthOf(p_); }
  size_t printTo(Print& out) const { return print(p_, out); }
#else
  uint16_t length() const;
  // Not a Printable (no virtual table to carry around): str.printTo(out).
  size_t printTo(Print& out) const;
#endif
#if ESPAT_STR_TAGGED
  bool inFlash() const { return reinterpret_cast<uintptr_t>(p_) & kFlash; }
#elif ESPAT_RAM_STRINGS
  bool inFlash() const { return flash_; }
#else
  bool inFlash() const { return true; }
#endif
  // Between double quotes, with backslash, quote and comma escaped (as AT+CWJAP's arguments).
  void printQuoted(Print& out) const;

 private:
  const char* p_;
#if ESPAT_STR_TAGGED
  static uint16_t lengthOf(const char* tagged);
  static size_t print(const char* tagged, Print& out);
  static const uintptr_t kFlash = 0x8000;
  // A flash string's address itself, without the flash bit (a RAM string's p_ is its address).
  const char* flashAddress() const { return reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(p_) - kFlash); }
#else
  const char* flashAddress() const { return p_; }
#endif
#if ESPAT_RAM_STRINGS && !ESPAT_STR_TAGGED
  bool flash_;
#endif
};
