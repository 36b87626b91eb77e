#include "backoff.h"

uint32_t Backoff::failed(uint32_t retryAfterMs) {
  if (failures_ < 255) failures_++;
  // The ceiling, doubled per failure from 1 s, stopped at the cap; the jitter takes up to an eighth off it.
  uint32_t ceiling = 1000;
  for (uint8_t n = 1; n < failures_ && ceiling < ESPAT_BACKOFF_MAX_MS; n++) ceiling <<= 1;
  if (ceiling > ESPAT_BACKOFF_MAX_MS) ceiling = ESPAT_BACKOFF_MAX_MS;
  // A 16-bit generator (one hardware multiply) and a multiply-shift in place of `% (eighth + 1)`: no 32-bit
  // multiply or divide. jitter = eighth/16 * (the generator's top 12 bits) / 256 < eighth.
  state_ = state_ * 25173u + 13849u;
  uint32_t pause = ceiling - ((uint32_t)(uint16_t)(ceiling >> 7) * (uint16_t)(state_ >> 4) >> 8);
  if (retryAfterMs > ESPAT_RETRY_AFTER_MAX_MS) retryAfterMs = ESPAT_RETRY_AFTER_MAX_MS;
  return pause > retryAfterMs ? pause : retryAfterMs;
}
