// The oldest queued reading as the next send carries it, for both reporters: the reading, the board's incarnation,
// the queue's dropped count, and its age when it was sampled in this boot (no clock outlives a reset).
#pragma once
#include "boot_identity.h"
#include "reading_queue.h"
#include "report_json.h"

// Fills `post` with the oldest pending reading (queue.count() must be non-zero); returns its place in the queue,
// to tell later whether the queue, full, let it go while it was out (ReadingQueue::oldestId()).
uint16_t takeOldest(ReadingBody& post, const ReadingQueue& queue, const BootIdentity& identity);
