// The shim's virtual clock and its lock-step link to the harness (see vclock.h for the frames). shim.cpp includes
// this file, so every program built with the shim has it (a build lists shim.cpp alone).
#include "vclock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace {

int kFromHarness = 3, kToHarness = 4;  // ESPAT_SHIM_VCLOCK_FDS=R,W names others
const uint64_t kEepromWriteUs = 3300;
const uint64_t kBaseStepUs = 4, kMaxStepUs = 32768;

bool on = false;
uint64_t now = 0, horizon = 0;
uint64_t debtUs = 0;       // time the sketch spent blocked (writes) that the clock has not counted yet
uint32_t idle = 0;
long adc[3] = {215, 314, 5000};

// What the sketch sent since the last frame, and its EEPROM writes. The bytes go to the harness once they have
// crossed the wire (txDue: the end of the write that sent the last of them), not when the write began: a module
// handed a whole request at its first byte would answer while the sketch is still sending it, and its answer
// would pile up past the receive buffer in time the sketch spends blocked.
uint8_t tx[8192];
uint32_t txLen = 0;
uint64_t txDue = 0;
uint8_t writes[3 * 4096];
uint32_t writeCount = 0;
uint32_t eepromWritten = 0, cutAt = 0;
int torn = 0;

// What arrived from the harness: each byte with the time it is in the port's receive register.
struct Arrival {
  uint64_t at;
  uint8_t byte;
};
Arrival rx[65536];
uint32_t rxHead = 0, rxLen = 0;
uint64_t rxFree = 0;       // when the line is free for the next byte
uint64_t rxByteUs = 1042;  // 10 bits at the ESP port's baud (set by the first write: begin() picks it)

[[noreturn]] void fail(const char* why) {
  fprintf(stderr, "shim vclock: %s\n", why);
  _exit(87);
}

void readAll(void* buf, size_t n) {
  uint8_t* p = (uint8_t*)buf;
  while (n) {
    ssize_t got = ::read(kFromHarness, p, n);
    if (got == 0) _exit(0);  // the harness is gone: so is the board's power
    if (got < 0) {
      if (errno == EINTR) continue;
      fail("read from the harness failed");
    }
    p += got;
    n -= (size_t)got;
  }
}

void writeAll(const void* buf, size_t n) {
  const uint8_t* p = (const uint8_t*)buf;
  while (n) {
    ssize_t put = ::write(kToHarness, p, n);
    if (put < 0) {
      if (errno == EINTR) continue;
      _exit(0);
    }
    p += put;
    n -= (size_t)put;
  }
}

void sendFrame(char kind, char reason) {
  uint32_t sent = now >= txDue ? txLen : 0;  // bytes still on the wire wait (lost, if the power goes now)
  uint8_t head[18];
  head[0] = (uint8_t)kind;
  memcpy(head + 1, &now, 8);
  head[9] = (uint8_t)reason;
  memcpy(head + 10, &sent, 4);
  memcpy(head + 14, &writeCount, 4);
  writeAll(head, sizeof head);
  if (sent) writeAll(tx, sent);
  if (writeCount) writeAll(writes, 3 * writeCount);
  txLen -= sent;
  writeCount = 0;
}

// Tells the harness where the sketch is and what it did, and takes its answer.
void syncHarness() {
  sendFrame('S', 0);
  uint8_t head[19];
  readAll(head, sizeof head);
  if (head[0] != 'G') fail("the harness sent something that is not a go frame");
  memcpy(&horizon, head + 1, 8);
  uint16_t mv[3];
  memcpy(mv, head + 9, 6);
  for (int i = 0; i < 3; i++) adc[i] = mv[i];
  uint32_t n;
  memcpy(&n, head + 15, 4);
  if (rxLen + n > sizeof rx / sizeof rx[0]) fail("more bytes in flight to the sketch than the shim can keep");
  uint8_t chunk[1024];
  while (n) {
    uint32_t take = n < sizeof chunk ? n : (uint32_t)sizeof chunk;
    readAll(chunk, take);
    for (uint32_t i = 0; i < take; i++) {
      rxFree = (rxFree > now ? rxFree : now) + rxByteUs;
      rx[(rxHead + rxLen) & 65535] = {rxFree, chunk[i]};
      rxLen++;
    }
    n -= take;
  }
  if (horizon <= now) horizon = now + 1;
}

// Moves the clock to `target`, stopping at each horizon to let the harness catch up, and where the bytes for the
// ESP have crossed the wire: the harness sees them then. EEPROM writes ride along with the next frame (nothing on
// the harness's side answers them, and a power cut in one sends its own).
void advanceTo(uint64_t target) {
  for (;;) {
    if (txLen && now >= txDue) syncHarness();
    if (now >= target) return;
    if (now >= horizon) syncHarness();
    uint64_t next = target < horizon ? target : horizon;
    if (txLen && txDue < next) next = txDue;
    now = next;
  }
}

void payDebt() {
  if (!debtUs) return;
  uint64_t d = debtUs;
  debtUs = 0;
  advanceTo(now + d);
}

}  // namespace

bool vclockOn() { return on; }

void vclockStart() {
  const char* v = getenv("ESPAT_SHIM_VCLOCK");
  on = v && *v == '1';
  if (!on) return;
  const char* fds = getenv("ESPAT_SHIM_VCLOCK_FDS");
  if (fds && *fds && sscanf(fds, "%d,%d", &kFromHarness, &kToHarness) != 2) fail("ESPAT_SHIM_VCLOCK_FDS is R,W");
  const char* cut = getenv("ESPAT_SHIM_EEPROM_CUT");
  cutAt = cut && *cut ? (uint32_t)strtoul(cut, nullptr, 10) : 0;
  const char* t = getenv("ESPAT_SHIM_EEPROM_TORN");
  torn = t && *t ? atoi(t) & 3 : 0;
  syncHarness();  // the first go frame: the ADC's inputs and how far to run
}

uint64_t vclockNowUs() { return now; }

void vclockActivity() { idle = 0; }

void vclockTick() {
  payDebt();
  uint64_t step = kBaseStepUs;
  if (idle >= 8) {
    uint32_t doublings = (idle - 8) / 4;
    step = doublings >= 12 ? kMaxStepUs : kBaseStepUs << doublings;
    if (step > kMaxStepUs) step = kMaxStepUs;
  }
  idle++;
  // Time always moves (a sketch that waits on the clock without reading the port must not stop it), but never
  // past the next byte's arrival: the sketch gets a look at the port as each byte comes in.
  uint64_t target = now + step;
  for (uint32_t i = 0; i < rxLen; i++) {
    const Arrival& next = rx[(rxHead + i) & 65535];
    if (next.at <= now) continue;
    if (next.at < target) target = next.at;
    break;
  }
  advanceTo(target);
}

void vclockWaitUs(uint64_t us) {
  payDebt();
  advanceTo(now + us);
}

void vclockTx(const uint8_t* data, size_t n, unsigned long baud) {
  if (baud) rxByteUs = 10000000ULL / baud;
  for (size_t i = 0; i < n; i++) {
    if (txLen == sizeof tx) payDebt();  // the sketch's wait for the line, which hands the harness what crossed
    tx[txLen++] = data[i];
    debtUs += rxByteUs;
    txDue = now + debtUs;
  }
  idle = 0;
}

size_t vclockRx(uint8_t* out, size_t room) {
  size_t got = 0;
  while (got < room && rxLen && rx[rxHead].at <= now) {
    out[got++] = rx[rxHead].byte;
    rxHead = (rxHead + 1) & 65535;
    rxLen--;
  }
  if (got) idle = 0;
  return got;
}

uint8_t vclockEepromWrite(int address, uint8_t old, uint8_t value) {
  eepromWritten++;
  uint8_t result = value;
  bool cut = cutAt && eepromWritten == cutAt;
  if (cut) {
    switch (torn) {
      case 0: result = old; break;
      case 1: result = 0xFF; break;
      case 2: result = value; break;
      default: result = (uint8_t)(old & value); break;
    }
  }
  if (writeCount == sizeof writes / 3) syncHarness();
  uint16_t a = (uint16_t)address;
  memcpy(writes + 3 * writeCount, &a, 2);
  writes[3 * writeCount + 2] = result;
  writeCount++;
  idle = 0;
  if (cut) vclockExit('C');
  debtUs += kEepromWriteUs;
  return result;
}

long vclockAdcMv(int input) { return adc[input < 0 || input > 2 ? 0 : input]; }

void vclockExit(char reason) {
  sendFrame('X', reason);
  _exit(0);
}
