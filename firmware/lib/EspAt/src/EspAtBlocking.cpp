#include "EspAtBlocking.h"

#if ESPAT_CLIENTS
namespace espat {

void waitIdle(EspAtDrv& esp) {
  do {
    esp.poll();
    yield();  // Arduino's hook for long waits: a sketch may feed its watchdog or sample meanwhile
  } while (esp.busy());
}

EspStatus waitDone(EspAtDrv& esp, bool started) {
  if (!started) return EspStatus::Busy;
  waitIdle(esp);
  return esp.status();
}

EspStatus begin(EspAtDrv& esp, EspStr ssid, EspStr pass) {
  esp.setPassiveReceive(true);
  waitIdle(esp);
  EspStatus s = waitDone(esp, esp.startSync());
  if (s != EspStatus::Ok) return s;
  return waitDone(esp, esp.startJoin(ssid, pass));
}

}  // namespace espat
#endif
