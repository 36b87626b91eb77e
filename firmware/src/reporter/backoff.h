// When to try again after a failure: exponential with jitter up to a cap, never sooner than the server's
// Retry-After, and back to the start only when a reading is delivered (a resync or a join that works is not a
// delivery: a server that stays down keeps the pauses long).
#pragma once
#include <stdint.h>

// The longest pause, ms (the n-th failure in a row waits between half and all of min(2^(n-1) s, this)).
#ifndef ESPAT_BACKOFF_MAX_MS
#define ESPAT_BACKOFF_MAX_MS 300000UL
#endif
// A Retry-After longer than this is taken as this (a server's mistake must not silence the board for days).
#ifndef ESPAT_RETRY_AFTER_MAX_MS
#define ESPAT_RETRY_AFTER_MAX_MS 3600000UL
#endif
static_assert(ESPAT_BACKOFF_MAX_MS >= 1000, "ESPAT_BACKOFF_MAX_MS: at least 1000");

class Backoff {
 public:
  // The jitter's generator; any seed (the board's incarnation) keeps boards that failed together apart.
  void seed(uint32_t s) { state_ = s; }
  // One more failure: the pause before the next try, ms. retryAfterMs: what the server asked for (0: nothing).
  uint32_t failed(uint32_t retryAfterMs = 0);
  void delivered() { failures_ = 0; }
  uint8_t failures() const { return failures_; }

 private:
  uint8_t failures_ = 0;
  uint32_t state_ = 0;
};
