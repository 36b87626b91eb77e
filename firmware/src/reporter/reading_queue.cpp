#include "reading_queue.h"

#include <stddef.h>
#include <string.h>

#include "eeprom_map.h"

namespace {

const uint8_t kMaxPending = kQueueSlots - 1;
static_assert(kQueueSlots % 256 != 0, "a slot's next number must differ from its last in the low byte");

// The sample of a record that holds none (format()): a global, zero before setup(), rather than one zeroed on
// the stack at each format (8 B of RAM for about 26 B of flash).
Sample blankSample;  // (never written)

uint16_t word(const uint8_t* p) { return p[0] | (uint16_t)p[1] << 8; }
uint8_t after(uint8_t slot) { return slot == kQueueSlots - 1 ? 0 : slot + 1; }
// A whole record, read or written with one call.
void copy(uint8_t slot, uint8_t* rec, bool write) {
  eepromCopy(kQueueAt + slot * kRecordSize, rec, kRecordSize, write);
}
// Reads a slot; true when its record is whole: its last byte is its first, inverted.
bool readWhole(uint8_t slot, uint8_t* rec) {
  copy(slot, rec, false);
  return rec[ReadingQueue::kTail] == (uint8_t)~rec[ReadingQueue::kNumber];
}

}  // namespace

void ReadingQueue::countDropped() {
  uint16_t dropped = at16(kDropped);
  if (dropped != 0xFFFF) dropped++;
  memcpy(rec_ + kDropped, &dropped, 2);
}

void ReadingQueue::append(uint16_t boot, uint16_t seq, const Sample& s, uint8_t level) {
  slot_ = after(slot_);
  static_assert(sizeof rec_ == kRecordSize, "the queue keeps one whole record");
  uint16_t number = at16(kNumber) + 1;
  memcpy(rec_ + kNumber, &number, 2);
  memcpy(rec_ + kBoot, &boot, 2);
  memcpy(rec_ + kSeq, &seq, 2);
  static_assert(sizeof(Sample) == kDropped - kUptime && kTops == kDropped - 1, "a record holds a Sample as it is");
  memcpy(rec_ + kUptime, &s, sizeof s);  // uptime, the three low bytes, the tops
  // The tops' byte and the pending count's carry the back-off level (4 bits).
  rec_[kTops] = (uint8_t)(s.tops | (level & 3) << 6);
  rec_[kPending] = (uint8_t)(count_ | (level & 12) << 4);
  rec_[kTail] = (uint8_t)~number;
  copy(slot_, rec_, true);
}

void ReadingQueue::format() {
  // Nothing pending, nothing dropped, level 0.
  memset(rec_, 0, sizeof rec_);
  count_ = 0;
  // Slot s gets number s - 54: the lap before the first, so the first real record in each slot differs from it.
  // Appended as readings are, from the slot before slot 0 and the number before slot 0's.
  slot_ = kQueueSlots - 1;
  uint16_t number = (uint16_t)(-kQueueSlots - 1);
  memcpy(rec_ + kNumber, &number, 2);
  for (uint8_t s = 0; s < kQueueSlots; s++) append(0, 0, blankSample, 0);
}

void ReadingQueue::load() {
  // Each slot is read into rec_, the queue's own record, as scratch (no buffer on the stack): the newest is read
  // into it again last.
  bool found = false;
  uint16_t newest = 0;
  for (uint8_t s = 0; s < kQueueSlots; s++) {
    if (!readWhole(s, rec_)) continue;
    uint16_t number = word(rec_ + kNumber);
    // Whole records are all within 54 numbers of each other: the newest is ahead of every other one.
    if (!found || (int16_t)(number - newest) > 0) {
      newest = number;
      slot_ = s;
      found = true;
    }
  }
  if (!found) {  // nothing whole at all: a foreign EEPROM
    format();
    return;
  }
  // The slot after the newest holds a whole record of the lap before, unless the power went while the next reading
  // was written into it: that reading is lost, and counted (the next record written keeps the count).
  bool cut = !readWhole(after(slot_), rec_);
  copy(slot_, rec_, false);
  // (More than can be pending only in a record that is not the queue's: taken as full.)
  uint8_t pending = rec_[kPending] & 63;
  count_ = pending > kMaxPending ? kMaxPending : pending;
  if (cut) countDropped();
}

void ReadingQueue::push(uint32_t boot, uint16_t seq, const Sample& s, uint8_t level) {
  if (count_ == kMaxPending) {  // the oldest gives way, counted in the record that replaces it
    countDropped();
  } else {
    count_++;
  }
  append((uint16_t)boot, seq, s, level);
}

void ReadingQueue::oldest(Queued& out, uint32_t boot) const {
  int8_t slot = (int8_t)(slot_ - (count() - 1));
  if (slot < 0) slot += kQueueSlots;
  // Read straight into `out`: the record's boot (its low 16 bits) and seq lie as the boot's upper half and seq
  // do in a Queued, and its sample as the Sample (the tops' bits 6-7, the back-off level's, come along unread).
  // On the board the sample follows seq in a Queued as in a record, so one read takes all three; a host compiler
  // aligns the sample to 4 (the native tests), so there it is a read of its own. Then the boot is rebuilt.
  static_assert(offsetof(Queued, seq) == 4 && kSeq == kBoot + 2 && kUptime == kSeq + 2, "boot, seq, sample");
  uint16_t at = kQueueAt + (uint8_t)slot * kRecordSize + kBoot;
  uint8_t* high = (uint8_t*)&out.boot + 2;
  if (offsetof(Queued, sample) == 6) {
    eepromRead(at, high, 4 + sizeof out.sample);
  } else {
    eepromRead(at, high, 4);
    eepromRead(at + 4, (uint8_t*)&out.sample, sizeof out.sample);
  }
  uint16_t low = word(high);
  out.boot = boot - (uint16_t)((uint16_t)boot - low);
}

void ReadingQueue::pop(bool counted) {
  if (count_ == 0) return;
  count_--;
  if (counted) countDropped();
}

void ReadingQueue::leave(uint16_t id, bool counted) {
  if (count() && oldestId() == id) pop(counted);
}
