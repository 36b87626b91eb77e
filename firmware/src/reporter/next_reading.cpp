#include "next_reading.h"

#include <Arduino.h>

uint16_t takeOldest(ReadingBody& post, const ReadingQueue& queue, const BootIdentity& identity) {
  uint32_t boot = identity.boot();
  queue.oldest(post.reading, boot);
  post.incarnation = identity.incarnation();
  post.dropped = queue.dropped();
  // The queue keeps a boot's low 16 bits and oldest() rebuilds the rest from `boot`: equal low bits, the same boot.
  // (The age computed either way, then chosen: fewer jumps than computing it in one branch only.)
  uint32_t age = millis() - post.reading.sample.uptimeMs;
  post.ageMs = (uint16_t)post.reading.boot == (uint16_t)boot ? age : kAgeUnknown;
  return queue.oldestId();
}
