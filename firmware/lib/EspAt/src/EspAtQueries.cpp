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
  if (d.lineLen_ == 8 && d.lineStarts(kCipStatus + 4, 7, 8)) d.station_ = line[7] - '0';
  if (d.lineStarts(kCipStatus, 11, 13) && (uint8_t)(line[11] - '0') < kLinks) {
    d.open_ |= bitOf(line[11] - '0');
  }
}

// AT+CWJAP?: "+CWJAP_CUR:<ssid>,..." (1.x) or "+CWJAP:<ssid>,..." (2.x): joined. ("No AP": not, as startWifiQuery
// set.)
void EspAtDrv::wifiLine(EspAtDrv& d) {
  if (d.step_ == Step::JapQuery && d.lineStarts(PSTR("+CWJAP"), 6, 8)) d.wifiUp_ = true;
}

#if ESPAT_CLIENTS
// Each optional operation's own placeholder, written by the function its start installs (a sketch links the ones
// it starts). Each writes its own placeholder only: args_ stays installed after its operation.
// AT+UART's text after the AT.
void EspAtDrv::uartArg(EspAtDrv& d, uint8_t c) {
  if (c != ESPAT_ARG_UART[0]) return;
  Print& p = d.port_;
  p.print(F("+UART"));
  p.print(d.persist_ ? F("_DEF=") : F("_CUR="));
  p.print(d.baud_);
  p.print(F(",8,1,0,0"));
}

// UDP with a local port: ",<port>,0" (a fixed peer).
void EspAtDrv::localArg(EspAtDrv& d, uint8_t c) {
  if (c != ESPAT_ARG_LOCAL[0] || d.job_ != Job::Udp || !d.localPort_) return;
  Print& p = d.port_;
  p.write(',');
  p.print(d.localPort_);
  p.print(F(",0"));
}
#endif
