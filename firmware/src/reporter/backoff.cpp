#include "backoff.h"

uint32_t Backoff::failed(uint32_t retryAfterMs) {
  if (failures_ < 255) failures_++;
  // Half the ceiling, doubled per failure from 500 ms, stopped at half the cap.
  uint32_t half = 500;
  for (uint8_t n = 1; n < failures_ && half < ESPAT_BACKOFF_MAX_MS / 2; n++) half <<= 1;
  if (half > ESPAT_BACKOFF_MAX_MS / 2) half = ESPAT_BACKOFF_MAX_MS / 2;
  state_ = state_ * 1103515245UL + 12345;  // the C standard's example generator: plenty for jitter
  uint32_t pause = half + (state_ >> 8) % (half + 1);
  if (retryAfterMs > ESPAT_RETRY_AFTER_MAX_MS) retryAfterMs = ESPAT_RETRY_AFTER_MAX_MS;
  return pause > retryAfterMs ? pause : retryAfterMs;
}
