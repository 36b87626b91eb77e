#include "EspAtBlocking.h"

#if ESPAT_CLIENTS
namespace espat {

void pollUntilIdle(EspAtDrv& esp) {
  do {
    esp.poll();
    yield();  // Arduino's hook for long waits: a sketch may feed its watchdog or sample meanwhile
  } while (esp.busy());
  // Then until the module has said nothing for kQuietMs: a board on a software serial port hears nothing while it
  // transmits, so a line that follows the last one (a passive notice's CLOSED on 1.x) must be in before the next
  // command goes out over it. At most kQuietMax ms (a module that never stops talking).
  const uint8_t kQuietMs = 4, kQuietMax = 50;
  uint8_t start = (uint8_t)millis(), heard = start;
  for (uint8_t now = start; (uint8_t)(now - heard) < kQuietMs && (uint8_t)(now - start) < kQuietMax;
       now = (uint8_t)millis()) {
    if (esp.port().available() > 0) heard = now;
    esp.poll();
  }
}

EspStatus waitDone(EspAtDrv& esp, bool started) {
  if (!started) return EspStatus::Busy;
  waitIdle(esp);
  return esp.status();
}

// The open links' bits shifted along, not linkOpen(id) for each (a call to bitOf() each time round).
uint8_t freeLink(EspAtDrv& esp) {
  uint8_t id = 0;
  for (uint8_t open = esp.openLinks(); id < EspAtDrv::kLinks && ((open & 1) || esp.sink(id)); open >>= 1) id++;
  return id;
}

namespace {
class Text : public Print {
 public:
  explicit Text(char* p) : p_(p) {}
  size_t write(uint8_t c) override {
    if (n_ == 15) return 0;  // "255.255.255.255" is the longest
    p_[n_++] = c;
    p_[n_] = 0;
    return 1;
  }

 private:
  char* p_;
  uint8_t n_ = 0;
};
}  // namespace

void formatIp(const Printable& ip, char* text) {
  text[0] = 0;
  Text out(text);
  ip.printTo(out);
}

EspStatus syncAndJoin(EspAtDrv& esp, EspStr ssid, EspStr pass) {
  waitIdle(esp);
  EspStatus s = waitDone(esp, esp.startSync());
  if (s != EspStatus::Ok) return s;
  return waitDone(esp, esp.startJoin(ssid, pass));
}

}  // namespace espat
#endif
