// Who is speaking: the boot number and the board's random incarnation id, kept in EEPROM so that a torn write (a
// power cut at any byte) can never give a boot number already used, and a key (incarnation, boot, seq) never repeats.
//
// Four copies of {generation u32, incarnation u32, CRC-8}. At power-up the valid copy with the highest generation
// wins and the board takes the next generation as its boot number, written into the copy it wins over (generation
// mod 4) before it is used. Why a torn write cannot repeat a number: only the copy being written can be torn; every
// other copy keeps its value, so the highest valid generation afterwards is at least the highest one ever written,
// and the next boot takes one more than that. A torn copy that happens to pass its check can only raise the maximum
// (a number never used) or lose to the intact copies. The CRC only tells a blank or damaged copy from a good one.
#pragma once
#include <stdint.h>

class BootIdentity {
 public:
  // Reads the copies; true when there was none (blank EEPROM: the caller formats the queue first, then commit()).
  bool load();
  // Takes the next generation as this boot's number and writes it; a blank EEPROM first draws an incarnation
  // from `noise`.
  // (Out of line: called at boot and when seq runs out, and the copy inlined twice costs more than the call.)
  __attribute__((noinline)) void beginBoot(uint32_t noise);
  // After a key collision (the collector's 409): a new incarnation from `noise`, written before it is used.
  void redraw(uint32_t noise);
  uint32_t boot() const { return boot_; }
  uint32_t incarnation() const { return copy_.incarnation; }

  // One copy: the highest generation written, the incarnation, their CRC.
  struct Copy {
    uint32_t generation, incarnation;
    uint8_t crc;
  };

 private:
  void commit();
  Copy copy_ = Copy();
  Copy read_ = Copy();  // the copy load() is checking (beside copy_, not on the stack: no frame for it)
  uint32_t boot_ = 0;
  bool blank_ = false;
};

uint8_t crc8(const uint8_t* data, uint8_t n);
