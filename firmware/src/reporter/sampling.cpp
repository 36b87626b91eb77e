#include "sampling.h"

#include <Arduino.h>

#include "espat_config.h"
#include "log_event.h"
#include "sensors.h"

namespace {

const uint8_t kSettleMs = 50;  // the 1.1 V reference's settling before the first reading

// The interval is decimal text like the other settings, read at compile time: a constant costs no RAM.
constexpr uint32_t parseMs(const char* text, uint32_t v = 0) {
  return *text >= '0' && *text <= '9' ? parseMs(text + 1, v * 10 + (*text - '0')) : v ? v : 60000;
}
constexpr uint32_t intervalMs = parseMs(ESPAT_CHOSEN(INTERVAL_MS));
// (sampleIfDue() tells due from not yet by the sign of a 32-bit difference: the interval must stay below 2^31 ms)
static_assert(intervalMs < 0x80000000UL, "ESPAT_INTERVAL_MS: below 2,147,483,648 (24.8 days)");

// Together, so the code reaches them through one pointer (2-byte loads and stores, not 4-byte ones by address).
struct {
  unsigned long nextSample;  // when the next reading is due
  uint16_t seq;
  Sample sample;  // the reading being taken (here rather than on the stack: no frame for it)
} state;

}  // namespace

void beginReadings() {
  if (identity.load()) {
    queue.format();
  } else {
    queue.load();
  }
  identity.beginBoot(noiseBits());
  backoff.seed(identity.incarnation() ^ identity.boot());
  // The first try comes at once, a failure goes on from the level kept.
  backoff.restore(queue.level());
  LOG("reporter boot", identity.boot());  // before the clock is set: the debug text goes out byte by byte
  LOG16("queued", queue.count());
  settleReference();
}

void startSampling() { state.nextSample = millis() + kSettleMs; }

void sampleIfDue() {
  // Due when the clock has reached it: the difference's sign (the loop comes by every few ms, never days late).
  if ((long)(millis() - state.nextSample) < 0) return;
  state.nextSample += intervalMs;
  uint16_t seq = state.seq + 1;
  if (seq == 0) {  // seq is 16 bits in EEPROM: a new boot number goes on counting
    identity.beginBoot(0);
    seq = 1;
  }
  state.seq = seq;
  Sample& s = state.sample;
  s.uptimeMs = millis();
  readSensors(s);
  queue.push(identity.boot(), seq, s, backoff.level());
  LOG16("sample", state.seq);
}
