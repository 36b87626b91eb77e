// When to try again after a failure: exponential with jitter up to a cap, never sooner than the server's
// Retry-After, and back to the start only when a reading is delivered (a resync or a join that works is not a
// delivery: a server that stays down keeps the pauses long). The jitter takes at most an eighth off the ceiling,
// so at the cap (300 s) a server that stays down is tried at most 3600 / 262.5 = 14 times an hour. A reset does
// not start the pauses over either: the level rides in the reading queue's records (reading_queue.h).
#pragma once
#include <stdint.h>

// The longest pause, ms (the n-th failure in a row waits between 7/8 and all of min(2^(n-1) s, this)).
#ifndef ESPAT_BACKOFF_MAX_MS
#define ESPAT_BACKOFF_MAX_MS 300000UL
#endif
// A Retry-After longer than this is taken as this (a server's mistake must not silence the board for days).
#ifndef ESPAT_RETRY_AFTER_MAX_MS
#define ESPAT_RETRY_AFTER_MAX_MS 3600000UL
#endif
static_assert(ESPAT_BACKOFF_MAX_MS >= 1000, "ESPAT_BACKOFF_MAX_MS: at least 1000");
static_assert(ESPAT_BACKOFF_MAX_MS <= 1000UL << 14, "ESPAT_BACKOFF_MAX_MS: the 15th failure must reach it (kLevels)");

class Backoff {
 public:
  // The jitter's generator; any seed (the board's incarnation) keeps boards that failed together apart.
  void seed(uint32_t s) { state_ = (uint16_t)(s ^ s >> 16); }
  // One more failure: the pause before the next try, ms. retryAfterMs: what the server asked for (0: nothing).
  uint32_t failed(uint32_t retryAfterMs = 0);
  void delivered() { failures_ = 0; }
  uint8_t failures() const { return failures_; }
  // What the reading queue keeps across a reset (kLevels values), and taking it back at boot: the failures so far,
  // up to the first that reaches the cap, which is all the next pause depends on.
  static const uint8_t kLevels = 16;
  uint8_t level() const { return failures_ < kLevels - 1 ? failures_ : kLevels - 1; }
  // (level: below kLevels, as the queue's four bits hold it)
  void restore(uint8_t level) { failures_ = level; }

 private:
  uint8_t failures_ = 0;
  uint16_t state_ = 0;
};
