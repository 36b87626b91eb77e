// One sample and the RAM ring that holds samples until the server has taken them.
#pragma once
#include <stdint.h>

// Its seq is not stored: the ring holds consecutive readings, so the oldest one's seq follows from the newest.
struct Reading {
  uint32_t uptimeMs;
  int16_t a0Tenths;    // LM35 on A0, 0.1 °C
  int16_t chipTenths;  // ATmega328P internal sensor, 0.1 °C
  uint16_t vccMv;      // supply, measured against the 1.1 V bandgap
};

#ifndef REPORTER_RING
#define REPORTER_RING 8  // a power of two, so the ring index is a mask
#endif
static_assert((REPORTER_RING & (REPORTER_RING - 1)) == 0, "REPORTER_RING must be a power of two");

// Oldest first out; when full, the oldest reading gives way and is counted as lost.
class ReadingRing {
 public:
  uint8_t count() const { return count_; }
  uint16_t lost() const { return lost_; }
  const Reading& oldest() const { return items_[head_]; }
  // seq counts readings within one boot, from 1; (boot, seq) names a reading exactly once.
  uint32_t oldestSeq(uint32_t newestSeq) const { return newestSeq - count_ + 1; }
  void push(const Reading& r) {
    if (count_ == REPORTER_RING) {
      pop();
      lost_++;
    }
    items_[(head_ + count_) & (REPORTER_RING - 1)] = r;
    count_++;
  }
  void pop() {
    if (count_ == 0) return;
    head_ = (head_ + 1) & (REPORTER_RING - 1);
    count_--;
  }

 private:
  Reading items_[REPORTER_RING] = {};
  uint8_t head_ = 0, count_ = 0;
  uint16_t lost_ = 0;
};
