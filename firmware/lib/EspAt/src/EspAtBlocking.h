// Blocking conveniences over the non-blocking driver, for the facades (EspAtClient, EspAtUDP) and for sketches
// that do nothing else while the module works. Each call polls the driver until its operation ends; every
// operation ends by the driver's own bounds (each step has one, see EspAtSteps.h), so none of these waits forever. While they wait
// they call yield() (as the core's delay() does), so a sketch with a watchdog can feed it.
#pragma once
#include "EspAtBytes.h"
#include "EspAtDrv.h"

#if ESPAT_CLIENTS
namespace espat {

// Polls until no operation is in flight (and the module has been quiet a moment).
void pollUntilIdle(EspAtDrv& esp);
// The same, told to the compiler: its loop ends only when busy() is false, and the quiet wait after it only polls,
// which reads lines and never starts an operation, so the start that follows needs no refusal of a running one and
// each inlined start's test of it is dropped. Inlined by force: called out of line, what it tells is lost. It holds
// for the driver reference it was given: a caller keeps one in a local and stores no bytes between this and the
// start (a byte store may alias the driver's state).
__attribute__((always_inline)) inline void waitIdle(EspAtDrv& esp) {
  pollUntilIdle(esp);
  if (esp.busy()) __builtin_unreachable();
}
// Polls until the operation just started ends; its status. `started` false (the start was refused): Busy.
EspStatus waitDone(EspAtDrv& esp, bool started);
// A link no one uses: not open, no sink. EspAtDrv::kLinks when all five are taken.
uint8_t freeLink(EspAtDrv& esp);
// "a.b.c.d" into `text` (at least 16 bytes), for AT+CIPSTART: the address printed by its own printTo().
void formatIp(const Printable& ip, char* text);

// Sync (module found, AT+CIPMUX=1, and AT+CIPRECVMODE=1 with passive receive on), then join. Ok, or the status of
// the step that failed.
EspStatus syncAndJoin(EspAtDrv& esp, EspStr ssid, EspStr pass);

// The start of a Client sketch: passive receive (EspAtClient.h) on, unless `passive` is false (then it is left as
// it is: off, unless setPassiveReceive(true) came first), then syncAndJoin(). Inline, so the choice is made where
// it is written: a sketch that leaves passive receive off links none of it.
inline EspStatus begin(EspAtDrv& esp, EspStr ssid, EspStr pass, bool passive = true) {
  if (passive) esp.setPassiveReceive(true);
  return syncAndJoin(esp, ssid, pass);
}

}  // namespace espat
#endif
