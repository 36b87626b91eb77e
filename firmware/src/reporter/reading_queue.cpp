#include "reading_queue.h"

#include <string.h>

#include "eeprom_map.h"

namespace {

const uint8_t kMaxPending = kQueueSlots - 1;
static_assert(kQueueSlots % 256 != 0, "a slot's next number must differ from its last in the low byte");
enum : uint8_t { kNumber = 0, kBoot = 2, kSeq = 4, kUptime = 6, kAdc = 10, kDropped = 14, kPending = 16, kTail = 17 };

uint16_t word(const uint8_t* p) { return p[0] | (uint16_t)p[1] << 8; }
uint8_t after(uint8_t slot) { return slot == kQueueSlots - 1 ? 0 : slot + 1; }
// A whole record, read or written with one call.
void copy(uint8_t slot, uint8_t* rec, bool write) {
  eepromCopy(kQueueAt + slot * kRecordSize, rec, kRecordSize, write);
}
// Reads a slot; true when its record is whole: its last byte is its first, inverted.
bool readWhole(uint8_t slot, uint8_t* rec) {
  copy(slot, rec, false);
  return rec[kTail] == (uint8_t)~rec[kNumber];
}

}  // namespace

void ReadingQueue::countDropped() {
  if (dropped_ != 0xFFFF) dropped_++;
}

void ReadingQueue::append(uint16_t boot, uint16_t seq, const Sample& s) {
  slot_ = after(slot_);
  uint16_t number = ++number_;
  uint8_t rec[kRecordSize];
  memcpy(rec + kNumber, &number, 2);
  memcpy(rec + kBoot, &boot, 2);
  memcpy(rec + kSeq, &seq, 2);
  static_assert(sizeof(Sample) == kDropped - kUptime, "a record holds a Sample as it is");
  memcpy(rec + kUptime, &s, sizeof s);  // uptime, the three low bytes, the tops
  // The tops' byte and the pending count's carry the back-off level (4 bits).
  rec[kAdc + 3] = (uint8_t)(s.tops | (level_ & 3) << 6);
  memcpy(rec + kDropped, &dropped_, 2);
  rec[kPending] = (uint8_t)(count_ | (level_ & 12) << 4);
  rec[kTail] = (uint8_t)~number;
  copy(slot_, rec, true);
}

void ReadingQueue::format() {
  count_ = 0;
  dropped_ = 0;
  level_ = 0;
  Sample none = Sample();
  // Slot s gets number s - 54: the lap before the first, so the first real record in each slot differs from it.
  // Appended as readings are, from the slot before slot 0 and the number before slot 0's.
  slot_ = kQueueSlots - 1;
  number_ = (uint16_t)(-kQueueSlots - 1);
  for (uint8_t s = 0; s < kQueueSlots; s++) append(0, 0, none);
}

void ReadingQueue::load() {
  uint8_t rec[kRecordSize];
  bool found = false;
  for (uint8_t s = 0; s < kQueueSlots; s++) {
    if (!readWhole(s, rec)) continue;
    uint16_t number = word(rec + kNumber);
    // Whole records are all within 54 numbers of each other: the newest is ahead of every other one.
    if (!found || (int16_t)(number - number_) > 0) {
      number_ = number;
      slot_ = s;
      found = true;
    }
  }
  if (!found) {  // nothing whole at all: a foreign EEPROM
    format();
    return;
  }
  readWhole(slot_, rec);
  dropped_ = word(rec + kDropped);
  uint8_t pending = rec[kPending] & 63;
  count_ = pending > kMaxPending ? kMaxPending : pending;
  level_ = (uint8_t)(rec[kPending] >> 4 & 12) | rec[kAdc + 3] >> 6;
  // The slot after the newest holds a whole record of the lap before, unless the power went while the next reading
  // was written into it: that reading is lost, and counted (the next record written keeps the count).
  if (!readWhole(after(slot_), rec)) countDropped();
}

void ReadingQueue::push(uint32_t boot, uint16_t seq, const Sample& s, uint8_t level) {
  level_ = level;
  if (count_ == kMaxPending) {  // the oldest gives way, counted in the record that replaces it
    count_--;
    countDropped();
  }
  count_++;
  append((uint16_t)boot, seq, s);
}

void ReadingQueue::oldest(Queued& out, uint32_t boot) const {
  int8_t slot = (int8_t)(slot_ - (count_ - 1));
  if (slot < 0) slot += kQueueSlots;
  uint8_t rec[kRecordSize];
  copy((uint8_t)slot, rec, false);
  out.boot = boot - (uint16_t)((uint16_t)boot - word(rec + kBoot));
  out.seq = word(rec + kSeq);
  memcpy(&out.sample, rec + kUptime, sizeof out.sample);  // (the tops' bits 6-7: the back-off level's, unread)
}

void ReadingQueue::pop(bool counted) {
  if (count_ == 0) return;
  count_--;
  if (counted) countDropped();
}

void ReadingQueue::leave(uint16_t id, bool counted) {
  if (count_ && oldestId() == id) pop(counted);
}
