#include "EspAtBlocking.h"

#if ESPAT_CLIENTS
namespace espat {

void waitIdle(EspAtDrv& esp) {
  do {
    esp.poll();
  } while (esp.busy());
}

EspStatus waitDone(EspAtDrv& esp, bool started) {
  if (!started) return EspStatus::Busy;
  waitIdle(esp);
  return esp.status();
}

uint8_t freeLink(EspAtDrv& esp) {
  uint8_t id = 0;
  while (id < EspAtDrv::kLinks && (esp.linkOpen(id) || esp.sink(id))) id++;
  return id;
}

void formatIp(const uint8_t ip[4], char* text) {
  for (uint8_t i = 0; i < 4; i++) {
    uint8_t v = ip[i];
    if (v >= 100) *text++ = '0' + v / 100;
    if (v >= 10) *text++ = '0' + v / 10 % 10;
    *text++ = '0' + v % 10;
    *text++ = i < 3 ? '.' : 0;
  }
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
