// Getting the module to where a link can be opened, and back there after whatever went wrong: both reporters' one
// copy of the sync, the recovery ladder, the station query, the join and the pauses between tries.
//
// The ladder, for a module that does not answer: resync; AT+RST; the reset pin when one is wired (repeated), each
// step after a back-off. A module that rebooted in the middle of an operation (`ready`: a brown-out, a sagging
// rail) is resynced at once, the back-off untouched: the module's doing is not the server refusing, and pauses
// meant for the server only let readings pile up between the module's short lives. Past ESPAT_REBOOT_RETRIES such
// operations with no answer from the server between them, reboots are backed off like any other failure, so a
// module that cannot stay up does not make the board join the access point every few seconds.
#pragma once
#include <EspAt.h>

#include "backoff.h"
#include "report_json.h"

#ifndef ESPAT_REBOOT_RETRIES
#define ESPAT_REBOOT_RETRIES 8
#endif

// What the sketch defines, used here by name (a reference held in the object would cost a pointer load a use):
extern EspAtDrv esp;
extern Backoff backoff;
extern ReadingBody post;  // its diagnostics: the module's reboots, the joins sent

class Recovery {
 public:
  // Every loop, after the driver's poll: counts the module's `ready` lines into diag; one between operations means
  // echo, mux and Wi-Fi were lost unseen (during one, the operation ends with ModuleReset).
  void poll();
  // Inside a pause: nothing may start.
  bool waiting() const { return millis() - waitFrom_ < waitMs_; }
  // One more failure: the next try waits the back-off's pause, at least retryAfterMs.
  void backOff(uint32_t retryAfterMs = 0);
  // When the module is not ready for a link: starts its next step (sync, a reset, the station query, a join) and
  // returns true; false when a link may be opened. It joins ESPAT_WIFI_SSID.
  bool step();
  // An operation ended: true when it was one of step()'s (handled here), false when it is the sketch's.
  bool done(EspStatus status);
  // The sketch's operation ended with `status`: true when the module rebooted during it and is resynced at once
  // (the sketch then neither backs off nor blames the server).
  bool rebooted(EspStatus status);
  // The server answered: the module works end to end.
  void answered() { reboots_ = 0; }
  // Links refused as if the module had rebooted unheard: resync, then ask whether the station is still joined (and
  // join only if it is not).
  void resync() {
    synced_ = false;
    askStation_ = true;
  }
  // The module answers but its links keep failing (a wedged TCP stack): AT+RST, then as resync().
  void resetModule() {
    resync();
    rung_ = 1;
  }
  bool synced() const { return synced_; }

 private:
  enum class Job : uint8_t { None, Sync, Join, Query };
  // No initialisers: the one object is a global, zeroed before setup() with no constructor to run.
  unsigned long waitFrom_, waitMs_;  // nothing starts before waitMs_ has passed since waitFrom_
  Job job_;
  uint8_t rung_;     // the ladder's next step for a silent module: 0 sync, 1 AT+RST, 2 the pin
  uint8_t reboots_;  // operations a module reboot ended since the server last answered
  uint8_t resetsSeen_;
  bool synced_;
  bool askStation_;  // after the next sync: is the station still joined? (AT+CWJAP?)
};
