#include "backoff.h"

uint32_t Backoff::failed(uint32_t retryAfterMs) {
  if (failures_ < 255) failures_++;
  // The ceiling, doubled per failure from 1 s, stopped at the cap; the jitter takes up to an eighth off it.
  uint32_t ceiling = 1000;
  for (uint8_t n = 1; n < failures_ && ceiling < ESPAT_BACKOFF_MAX_MS; n++) ceiling <<= 1;
  if (ceiling > ESPAT_BACKOFF_MAX_MS) ceiling = ESPAT_BACKOFF_MAX_MS;
  state_ = state_ * 1103515245UL + 12345;  // the C standard's example generator: plenty for jitter
  uint32_t eighth = ceiling >> 3;
  uint32_t pause = ceiling - (state_ >> 8) % (eighth + 1);
  if (retryAfterMs > ESPAT_RETRY_AFTER_MAX_MS) retryAfterMs = ESPAT_RETRY_AFTER_MAX_MS;
  return pause > retryAfterMs ? pause : retryAfterMs;
}
