// Readings wait in EEPROM until the server has them: through an outage, across resets, and through a power cut at
// any byte of any write. 54 records of 18 bytes (eeprom_map.h), written in a circle, one record per reading and no
// other write, so each cell is written once every 54 readings: at one a minute, 100,000 cycles last 54 × 100,000
// minutes = 10.3 years of permanent outage (tests/firmware/test_eeprom_store.py prints the count).
//
// A record: number u16 (little-endian, written first), boot u16, seq u16, uptime_ms u32, the three ADC results
// (10 bits each: three low bytes, then their top bits in one, whose top two bits are the back-off level's low two),
// dropped u16, pending u8 (6 bits; the top two: the level's high two), then the number's low byte again, inverted (written last; inverted, so a blank EEPROM's 0xFF bytes are never a record). Numbers run on by
// one per record, so a slot's new number differs from its old one by 54 in the low byte too. A record is whole
// when its last byte matches its first: a write cut in the first byte leaves the old record whole or broken, one
// cut later (the number changed, the last byte did not) is broken, one cut in the last byte is whole only if it
// got its byte. The newest whole record says how many are pending (itself and those before it) and how many were
// dropped; deliveries are not written at all (a reading delivered but not yet followed by a newer record is sent
// again after a reset, and the server answers "repeat").
//
// At most 53 are pending: the slot a new reading goes into never holds a pending one, so a cut write loses nothing
// that was kept. When 53 are pending, the new record lets the oldest go and counts it in its `dropped`. The reading
// whose record was cut is lost: load() finds the slot after the newest record broken and counts it (a cut before
// the first byte changed leaves nothing to find: the reading never reached the EEPROM).
#pragma once
#include <stdint.h>

// One sample as the ADC gave it, packed as the queue's records keep it (so a record is a copy, not a repacking);
// the JSON's numbers are computed from it at each send, the same every time.
struct Sample {
  uint32_t uptimeMs;
  // Three 10-bit ADC results (kA0: the LM35 and kChip: the sensor against 1.1 V, kBand: the bandgap against AVcc):
  // their low bytes, then their top two bits in one byte, kA0's lowest (bits 6-7 are the reading queue's).
  uint8_t low[3];
  uint8_t tops;
  enum : uint8_t { kA0, kChip, kBand };
  uint16_t adc(uint8_t i) const {
    uint8_t top = tops;  // shifted in 8 bits (an int's shift would be 16)
    for (uint8_t n = i; n; n--) top >>= 2;
    return low[i] | (uint16_t)(top & 3) << 8;
  }
  Sample() = default;
  Sample(uint32_t uptime, uint16_t a0, uint16_t chip, uint16_t band)
      : uptimeMs(uptime),
        low{(uint8_t)a0, (uint8_t)chip, (uint8_t)band},
        tops((uint8_t)((a0 >> 8 & 3) | (chip >> 8 & 3) << 2 | (band >> 8 & 3) << 4)) {}
};

struct Queued {
  uint32_t boot;
  uint16_t seq;
  Sample sample;
};

class ReadingQueue {
 public:
  // A blank (or foreign) EEPROM becomes an empty queue: every slot gets a whole record pending nothing. Done once,
  // before the boot identity is first written, so a cut here is simply done again.
  void format();
  // Finds the newest whole record: what is pending, and the dropped count, after any reset or power cut.
  void load();
  // Keeps a reading (written before this returns). `boot` is the current boot number; `level`, the back-off's
  // (backoff.h, below 16), is kept with it and is level() after the next load().
  void push(uint32_t boot, uint16_t seq, const Sample& s, uint8_t level = 0);
  uint8_t level() const { return (uint8_t)(rec_[kPending] >> 4 & 12) | rec_[kTops] >> 6; }
  uint8_t count() const { return count_; }
  // The oldest pending reading; its boot is rebuilt from its low 16 bits and `boot`, the current one.
  void oldest(Queued& out, uint32_t boot) const;
  // Names the oldest pending record until it leaves (the queue may let it go while its post is out).
  uint16_t oldestId() const { return (uint16_t)(at16(kNumber) - count() + 1); }
  // The oldest pending reading leaves: delivered, or (counted) refused for good.
  void pop(bool counted);
  // As pop(), if the oldest is still the one oldestId() named (a full queue may have let it go meanwhile).
  void leave(uint16_t id, bool counted);
  uint16_t dropped() const { return at16(kDropped); }

  // A record's bytes (see above); kTops: the ADC results' top bits and the level's low two.
  enum : uint8_t { kNumber = 0, kBoot = 2, kSeq = 4, kUptime = 6, kTops = 13, kDropped = 14, kPending = 16, kTail = 17 };

 private:
  uint16_t at16(uint8_t at) const { return rec_[at] | (uint16_t)rec_[at + 1] << 8; }
  __attribute__((noinline)) void countDropped();  // one more, up to 65,535
  // Writes the next record (the next number, into the next slot) with the queue's counts as they are.
  void append(uint16_t boot, uint16_t seq, const Sample& s, uint8_t level);
  // The newest record as written or found, whose dropped count the queue keeps up to date in place for the next
  // one; the pending count is count_, put into kPending's low six bits when a record is written (a byte of its own
  // reads and counts without masking; kPending's top two bits, the level's, are left as found until then). With
  // the slot, the queue's whole state. (Set by format() or load() before any use.)
  uint8_t rec_[18];
  uint8_t slot_;   // the newest record's slot
  uint8_t count_;  // readings pending (0..53)
};
