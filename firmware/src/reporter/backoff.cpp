#include "backoff.h"

uint32_t Backoff::failed(uint32_t retryAfterMs) {
  if (failures_ < 255) failures_++;
  // The ceiling, doubled per failure from 1 s, stopped at the cap; the jitter takes up to an eighth off it.
  // Doubled in whole seconds, 16 bits (the cap is at most 16,384 s): no 32-bit shifts in the loop.
  uint16_t seconds = 1;
  for (uint8_t n = failures_; --n && seconds < (ESPAT_BACKOFF_MAX_MS + 999) / 1000;) seconds <<= 1;
  // (seconds * 1000 passes the cap exactly when seconds passes the cap's whole seconds: a 16-bit compare)
  uint32_t ceiling = seconds > ESPAT_BACKOFF_MAX_MS / 1000 ? ESPAT_BACKOFF_MAX_MS : seconds * 1000UL;
  // A 16-bit generator (one hardware multiply) and a multiply-shift in place of `% (eighth + 1)`: no 32-bit
  // multiply or divide. jitter = eighth/16 * (the generator's top 12 bits) / 256 < eighth.
  state_ = state_ * 25173u + 13849u;
  // (uint16_t)(ceiling >> 7), bits 7-22, put together from bytes: bits 8-22 moved up one, bit 7 below them.
  uint16_t eighth = (uint16_t)((uint16_t)(ceiling >> 8) << 1 | (uint8_t)ceiling >> 7);
  uint32_t pause = ceiling - ((uint32_t)eighth * (uint16_t)(state_ >> 4) >> 8);
  if (retryAfterMs > ESPAT_RETRY_AFTER_MAX_MS) retryAfterMs = ESPAT_RETRY_AFTER_MAX_MS;
  return pause > retryAfterMs ? pause : retryAfterMs;
}
