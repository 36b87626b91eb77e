// The reporter's EEPROM store (boot_identity.cpp, reading_queue.cpp) against a fake EEPROM (fake_eeprom/): before
// every physical byte write, the image a power cut there would leave -- the byte at each of its 256 values, the
// bytes before it new, the ones after it old -- is recovered as the next power-up would, and checked:
//   identity-torn   the next boot number is above every one used before (across the 0x1FF -> 0x200 carry, and
//                   through incarnation redraws)
//   old-counter     the same check on the former scheme (one dword, least significant byte first): it must fail
//   queue-torn      every reading kept and not delivered is recovered exactly or counted in `dropped`, nothing
//                   that was never written appears, and the recovered queue is the newest readings in order
//   blank-restart   a blank EEPROM, a cut anywhere in its formatting, then readings kept across restarts
//   wear            cell writes per reading in an endless outage and with the server up, and the lifetime
// Run with EEPROM_CASE=<name>; prints "ok" (and figures) or what went wrong, exit 1.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avr/eeprom.h>

#include "boot_identity.h"
#include "eeprom_map.h"
#include "reading_queue.h"

uint8_t fakeEeprom[1024];
uint32_t fakeCellWrites[1024];
void (*fakeBeforeWrite)(uint16_t, uint8_t) = nullptr;

namespace {

int failures = 0;
long tornImages = 0;
#define CHECK(cond, ...)                          \
  do {                                            \
    if (!(cond)) {                                \
      if (failures++ < 10) {                      \
        printf("FAIL %s:%d: ", __FILE__, __LINE__); \
        printf(__VA_ARGS__);                      \
        printf("\n");                             \
      }                                           \
    }                                             \
  } while (0)

// Runs `check` on the image a cut at this write would leave, for each value of the torn byte; the live image is
// put back afterwards, and writes made while checking are not hooked.
void eachTornImage(uint16_t address, void (*check)()) {
  static uint8_t live[1024];
  void (*hook)(uint16_t, uint8_t) = fakeBeforeWrite;
  fakeBeforeWrite = nullptr;
  memcpy(live, fakeEeprom, sizeof live);
  for (int v = 0; v < 256; v++) {
    memcpy(fakeEeprom, live, sizeof live);
    fakeEeprom[address] = (uint8_t)v;
    check();
    tornImages++;
  }
  memcpy(fakeEeprom, live, sizeof live);
  fakeBeforeWrite = hook;
}

// ---- the boot identity

uint32_t maxUsed = 0;  // the highest boot number handed out so far
uint32_t noise = 0x12345678;

void checkNextBoot() {
  BootIdentity next;
  next.load();
  next.beginBoot(noise);
  CHECK(next.boot() > maxUsed, "after a cut the next boot is %lu, but %lu was used", (unsigned long)next.boot(),
        (unsigned long)maxUsed);
}

void identityHook(uint16_t address, uint8_t) { eachTornImage(address, checkNextBoot); }

void identityTorn() {
  memset(fakeEeprom, 0xFF, sizeof fakeEeprom);
  for (uint32_t n = 1; n <= 0x230; n++) {
    // Every boot is real; the torn images are checked around the carries (0xFF -> 0x100, 0x1FF -> 0x200).
    bool nearCarry = (n >= 0xF0 && n <= 0x110) || (n >= 0x1E8 && n <= 0x218);
    fakeBeforeWrite = nearCarry ? identityHook : nullptr;
    BootIdentity id;
    id.load();
    id.beginBoot(noise);
    CHECK(id.boot() > maxUsed, "boot %lu after %lu", (unsigned long)id.boot(), (unsigned long)maxUsed);
    maxUsed = id.boot();
    if (n % 50 == 0) {  // a key collision now and then: the redraw is a write too
      uint32_t before = id.incarnation();
      id.redraw(noise);
      CHECK(id.incarnation() != before, "the redraw kept the incarnation");
    }
    fakeBeforeWrite = nullptr;
  }
  CHECK(maxUsed > 0x200, "the carry was not reached: %lx", (unsigned long)maxUsed);
}

// The former scheme: the boot count as one dword at address 0, read, incremented, written least significant
// byte first (eeprom_write_dword). The same check must catch it reusing a number.
uint32_t oldBoot() {
  uint32_t b = 0;
  for (int i = 3; i >= 0; i--) b = b << 8 | eeprom_read_byte((const uint8_t*)(uintptr_t)i);
  return b == 0xFFFFFFFFUL ? 0 : b;
}
void oldWrite(uint32_t b) {
  for (int i = 0; i < 4; i++) eeprom_update_byte((uint8_t*)(uintptr_t)i, (uint8_t)(b >> (8 * i)));
}
bool oldReused = false;
void checkOld() {
  if (oldBoot() + 1 <= maxUsed) oldReused = true;
}
void oldHook(uint16_t address, uint8_t) { eachTornImage(address, checkOld); }

void oldCounter() {
  memset(fakeEeprom, 0xFF, sizeof fakeEeprom);
  maxUsed = 0;
  for (uint32_t n = 1; n <= 0x210; n++) {
    fakeBeforeWrite = n >= 0x1F0 ? oldHook : nullptr;
    uint32_t b = oldBoot() + 1;
    oldWrite(b);
    maxUsed = b;
    fakeBeforeWrite = nullptr;
  }
  if (oldReused) printf("reused\n");
}

// ---- the reading queue

struct Written {
  uint32_t boot;
  uint16_t seq;
  Sample sample;
  uint16_t droppedAfter;  // the queue's dropped count once this one was kept
  bool delivered;
  uint8_t level;  // the back-off level kept with it
  bool dropped;
};
Written written[400];
int committed = 0;       // written[0 .. committed) are kept (push returned)
bool inProgress = false;  // written[committed] is being written
uint8_t beforePush[1024];  // the image before it began
ReadingQueue live;
const uint32_t kBoot = 70000;  // past 65535: the record keeps the low 16 bits

bool same(const Queued& q, const Written& w) {
  return q.boot == w.boot && q.seq == w.seq && q.sample.uptimeMs == w.sample.uptimeMs && q.sample.adc(0) == w.sample.adc(0) &&
         q.sample.adc(1) == w.sample.adc(1) && q.sample.adc(2) == w.sample.adc(2);
}

void checkQueue() {
  ReadingQueue q;
  q.load();
  int newest = -1;
  static Queued got[64];
  int n = q.count();
  uint8_t level = q.level();
  for (int i = 0; i < n; i++) {
    q.oldest(got[i], kBoot);
    q.pop(false);
  }
  // Which written reading is the recovered newest? Only the last kept one or the one being written.
  if (n > 0) {
    for (int w = committed - (inProgress ? 0 : 1); w >= 0 && w >= committed - 1; w--) {
      if (same(got[n - 1], written[w])) newest = w;
    }
    CHECK(newest >= 0, "the newest recovered reading (boot %lu seq %u) was never written", (unsigned long)got[n - 1].boot,
          got[n - 1].seq);
    if (newest < 0) return;
    CHECK(level == written[newest].level, "back-off level %u, %u kept with the newest", level, written[newest].level);
    for (int i = 0; i < n; i++) {
      int w = newest - (n - 1) + i;
      CHECK(w >= 0 && same(got[i], written[w]), "recovered reading %d of %d is not written[%d]", i, n, w);
    }
  }
  bool landed = newest == committed;
  uint16_t wantDropped = landed ? written[committed].droppedAfter : committed ? written[committed - 1].droppedAfter : 0;
  // The reading being written when the power went, if its record did not land, is lost: counted, unless the cut
  // came before the first byte changed (then nothing in the EEPROM says a write began).
  bool cutInRecord = inProgress && !landed && memcmp(fakeEeprom, beforePush, sizeof beforePush) != 0;
  if (cutInRecord) wantDropped++;
  CHECK(q.dropped() == wantDropped, "dropped %u, want %u (cut in a record: %d)", q.dropped(), wantDropped, cutInRecord);
  // Nothing kept and not delivered is missing unless counted.
  int missing = 0;
  int first = n ? newest - n + 1 : committed;
  for (int w = 0; w < committed; w++) {
    if (!written[w].delivered && w < first) missing++;
  }
  missing += cutInRecord;
  CHECK(missing == q.dropped(), "%d kept readings missing, %u counted (newest %d, %d recovered, %d kept)", missing,
        q.dropped(), newest, n, committed);
}

void queueHook(uint16_t address, uint8_t) { eachTornImage(address, checkQueue); }

uint32_t rng = 1;
uint16_t next10() {
  rng = rng * 1103515245UL + 12345;
  return (uint16_t)(rng >> 16) & 0x3FF;
}

void pushOne(uint16_t seq) {
  Written& w = written[committed];
  Sample sample = {(uint32_t)(seq * 1000UL + next10()), next10(), next10(), next10()};
  w = {kBoot, seq, sample, 0, false, (uint8_t)(seq % 16), false};
  // What the queue will count: one more when 53 are pending already.
  int pending = 0;
  for (int i = 0; i < committed; i++) pending += !written[i].delivered && !written[i].dropped;
  uint16_t before = committed ? written[committed - 1].droppedAfter : 0;
  if (pending == 53) {
    for (int i = 0; i < committed; i++) {
      if (!written[i].delivered && !written[i].dropped) {
        written[i].dropped = true;
        break;
      }
    }
    before++;
  }
  w.droppedAfter = before;
  memcpy(beforePush, fakeEeprom, sizeof beforePush);
  inProgress = true;
  live.push(kBoot, seq, w.sample, w.level);
  inProgress = false;
  committed++;
}

void popOne() {
  for (int i = 0; i < committed; i++) {
    if (!written[i].delivered && !written[i].dropped) {
      Queued q;
      live.oldest(q, kBoot);
      CHECK(same(q, written[i]), "the live queue's oldest is not written[%d]", i);
      written[i].delivered = true;
      live.pop(false);
      return;
    }
  }
}

void queueTorn() {
  memset(fakeEeprom, 0xFF, sizeof fakeEeprom);
  live.format();
  fakeBeforeWrite = queueHook;
  uint16_t seq = 1;
  for (int i = 0; i < 10; i++) {  // the server up: each reading delivered before the next
    pushOne(seq++);
    popOne();
  }
  for (int i = 0; i < 60; i++) pushOne(seq++);  // an outage: 53 kept, the oldest 7 give way
  for (int i = 0; i < 20; i++) popOne();
  for (int i = 0; i < 30; i++) pushOne(seq++);  // full again, more give way
  while (live.count()) popOne();
  for (int i = 0; i < 12; i++) pushOne(seq++);
  fakeBeforeWrite = nullptr;
  CHECK(live.dropped() > 0, "the outage dropped nothing");
}

// ---- blank EEPROM, a cut while formatting, restarts

void powerUp(BootIdentity& id, ReadingQueue& q) {
  if (id.load()) {
    q.format();
  } else {
    q.load();
  }
  id.beginBoot(noise);
}

bool blankFormatOk = true;
void checkFormatCut() {
  BootIdentity id;
  ReadingQueue q;
  powerUp(id, q);
  // A copy of the identity torn in its first write may pass its check with any generation: a boot number never
  // used either way.
  if (id.boot() < 1 || q.count() != 0 || q.dropped() != 0) {
    if (blankFormatOk) printf("boot %lu, %u pending, %u dropped\n", (unsigned long)id.boot(), q.count(), q.dropped());
    blankFormatOk = false;
  }
}
void formatHook(uint16_t address, uint8_t) { eachTornImage(address, checkFormatCut); }

void blankRestart() {
  memset(fakeEeprom, 0xFF, sizeof fakeEeprom);
  {
    BootIdentity id;
    ReadingQueue q;
    fakeBeforeWrite = formatHook;  // a cut anywhere in the first power-up's writes
    powerUp(id, q);
    fakeBeforeWrite = nullptr;
    CHECK(blankFormatOk, "a cut while formatting a blank EEPROM left something other than an empty queue, boot 1");
    CHECK(id.boot() == 1 && q.count() == 0, "first boot %lu, %u pending", (unsigned long)id.boot(), q.count());
    for (uint16_t s = 1; s <= 5; s++) q.push(id.boot(), s, {(uint32_t)(s * 100UL), s, s, s});
    q.pop(false);  // one delivered, not written: comes back after the restart
  }
  BootIdentity id;
  ReadingQueue q;
  powerUp(id, q);
  CHECK(id.boot() == 2, "second boot %lu", (unsigned long)id.boot());
  CHECK(q.count() == 5, "%u pending after the restart", q.count());
  Queued first;
  q.oldest(first, id.boot());
  CHECK(first.boot == 1 && first.seq == 1 && first.sample.uptimeMs == 100, "oldest boot %lu seq %u",
        (unsigned long)first.boot, first.seq);
  uint32_t incarnation = id.incarnation();
  // An ISP upload erases the EEPROM: the next start is a blank one again, boot 1.
  memset(fakeEeprom, 0xFF, sizeof fakeEeprom);
  BootIdentity again;
  ReadingQueue q2;
  powerUp(again, q2);
  CHECK(again.boot() == 1 && q2.count() == 0, "after an erase: boot %lu", (unsigned long)again.boot());
  CHECK(again.incarnation() == incarnation, "same noise, same incarnation: the collector's 409 is what tells");
  again.redraw(noise);
  CHECK(again.incarnation() != incarnation, "the redraw after a 409 gives a new incarnation");
  // A valid identity over a blank queue area (an EEPROM edited by hand, a former firmware): blank bytes are
  // never taken for records.
  memset(fakeEeprom + kQueueAt, 0xFF, kQueueSlots * kRecordSize);
  ReadingQueue q3;
  q3.load();
  CHECK(q3.count() == 0 && q3.dropped() == 0, "a blank queue area read as %u pending, %u dropped", q3.count(),
        q3.dropped());
}

// ---- wear

void wear() {
  const long kReadings = 54L * 2000;
  for (int up = 0; up < 2; up++) {
    memset(fakeEeprom, 0xFF, sizeof fakeEeprom);
    memset(fakeCellWrites, 0, sizeof fakeCellWrites);
    ReadingQueue q;
    q.format();
    for (long i = 0; i < kReadings; i++) {
      q.push(1, (uint16_t)i, {(uint32_t)(i * 60000UL), (uint16_t)(i & 0x3FF), (uint16_t)(~i & 0x3FF), 1});
      if (up) q.pop(false);
    }
    uint32_t most = 0;
    for (int a = 0; a < 1024; a++) most = fakeCellWrites[a] > most ? fakeCellWrites[a] : most;
    double perReading = (double)most / kReadings;  // writes of the most written cell per reading
    double perDay = perReading * 1440;
    double years = 100000.0 / perDay / 365.25;
    printf("%s: most-written cell %lu writes in %ld readings = %.4f per reading, %.1f a day at one reading a "
           "minute: 100,000 cycles last %.1f years\n",
           up ? "server up" : "endless outage", (unsigned long)most, kReadings, perReading, perDay, years);
    CHECK(years >= 10.0, "%.1f years", years);
  }
}

}  // namespace

int main() {
  const char* name = getenv("EEPROM_CASE");
  if (!name) name = "";
  if (!strcmp(name, "identity-torn")) identityTorn();
  else if (!strcmp(name, "old-counter")) oldCounter();
  else if (!strcmp(name, "queue-torn")) queueTorn();
  else if (!strcmp(name, "blank-restart")) blankRestart();
  else if (!strcmp(name, "wear")) wear();
  else {
    printf("unknown EEPROM_CASE %s\n", name);
    return 2;
  }
  if (tornImages) printf("torn images checked: %ld\n", tornImages);
  if (failures) return 1;
  printf("ok\n");
  return 0;
}
