#include <Arduino.h>

#include "report_json.h"

namespace {

// A Print into a fixed buffer that remembers running out of room instead of writing past it.
class BufferPrint : public Print {
 public:
  BufferPrint(char* buf, size_t cap) : buf_(buf), cap_(cap) {}
  size_t write(uint8_t c) override {
    if (len_ >= cap_) {
      full_ = true;
      return 0;
    }
    buf_[len_++] = (char)c;
    return 1;
  }
  size_t length() const { return full_ ? 0 : len_; }

 private:
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool full_ = false;
};

void printTenths(Print& out, int16_t tenths) {
  if (tenths < 0) {
    out.print('-');
    tenths = -tenths;
  }
  // Unsigned from here on, so the signed number printer is not linked in for this.
  unsigned value = (unsigned)tenths;
  out.print(value / 10);
  out.print('.');
  out.print(value % 10);
}

}  // namespace

size_t formatReading(char* buf, size_t cap, const char* devicePgm, uint32_t boot, uint32_t seq, const Reading& r) {
  BufferPrint out(buf, cap);
  out.print(F("{\"device\":\""));
  out.print(reinterpret_cast<const __FlashStringHelper*>(devicePgm));
  out.print(F("\",\"boot\":"));
  out.print(boot);
  out.print(F(",\"seq\":"));
  out.print(seq);
  out.print(F(",\"uptime_ms\":"));
  out.print(r.uptimeMs);
  out.print(F(",\"readings\":{\"a0_c\":"));
  printTenths(out, r.a0Tenths);
  out.print(F(",\"chip_c\":"));
  printTenths(out, r.chipTenths);
  out.print(F(",\"vcc_mv\":"));
  out.print(r.vccMv);
  out.print(F("}}"));
  return out.length();
}
