// The driver's optional operations, linked only into a sketch that starts one: the queries of the module's state
// (AT+CIPSTATUS, AT+CWJAP?) and the arguments of UDP links, AT+UART and AT+CIPRECVDATA.
#include "EspAtDrv.h"

bool EspAtDrv::startStatus() {
  if (job_ != Job::None) return false;
  queries_ = &statusLine;
  open_ = 0;  // rebuilt from the answer's +CIPSTATUS lines
  return begin(Job::Status, Step::Status);
}

bool EspAtDrv::startWifiQuery() {
  if (job_ != Job::None) return false;
  queries_ = &wifiLine;
  wifiUp_ = false;  // up again if the answer names an access point
  return begin(Job::WifiQuery, Step::JapQuery);
}

// The queries' answers are judged by their start: they may be longer than a kept line. Each query installs its
// own reader (a sketch that makes one query links one), which stays installed and reads only in its own step.
// AT+CIPSTATUS: "STATUS:<0..5>", then "+CIPSTATUS:<id>,..." for each open link. (One text for both heads.)
static const char kCipStatus[] PROGMEM = "+CIPSTATUS:";
void EspAtDrv::statusLine(EspAtDrv& d) {
  const char* line = d.line_;
  if (d.step_ != Step::Status) return;
  if (d.lineLen_ == 8 && memcmp_P(line, kCipStatus + 4, 7) == 0) d.station_ = line[7] - '0';
  if (d.lineLen_ > 12 && memcmp_P(line, kCipStatus, 11) == 0 && (uint8_t)(line[11] - '0') < kLinks) {
    d.open_ |= bitOf(line[11] - '0');
  }
}

// AT+CWJAP?: "+CWJAP_CUR:<ssid>,..." (1.x) or "+CWJAP:<ssid>,..." (2.x): joined. ("No AP": not, as startWifiQuery
// set.)
void EspAtDrv::wifiLine(EspAtDrv& d) {
  if (d.step_ == Step::JapQuery && d.lineLen_ > 7 && memcmp_P(d.line_, PSTR("+CWJAP"), 6) == 0) d.wifiUp_ = true;
}

void EspAtDrv::printArg(EspAtDrv& d, uint8_t c) {
  Print& p = d.port_;
  switch (c) {
#if ESPAT_CLIENTS
    case ESPAT_ARG_SCOPE[0]:
      p.print(d.persist_ ? F("_DEF") : F("_CUR"));
      break;
    case ESPAT_ARG_BAUD[0]:
      p.print(d.baud_);
      break;
    case ESPAT_ARG_LOCAL[0]:  // UDP with a local port: ",<port>,0" (a fixed peer)
      if (d.udp_ && d.localPort_) {
        p.write(',');
        p.print(d.localPort_);
        p.print(F(",0"));
      }
      break;
#endif
  }
}
