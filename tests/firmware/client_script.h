// The module's side of the client's cases (client_cases.cpp): a scripted module that answers each command as the
// AT firmware does, and the expectations every case is written in -- a sync, a connect, a send, a read, a close.
// Included by client_cases.cpp alone (its definitions are that program's).
#pragma once
#include <stdio.h>
#include <stdlib.h>

#include <deque>
#include <new>
#include <string>
#include <utility>

#include "EspAt.h"

namespace {

const char* current;

void fail(int line, const std::string& why);
#define CHECK(cond)                         \
  do {                                      \
    if (!(cond)) fail(__LINE__, #cond);     \
  } while (0)

// The module: what the driver writes is matched against the script; each matched step queues its answer.
class Module : public Stream {
 public:
  std::string in, said;  // bytes for the driver; everything the driver wrote
  size_t pos = 0;
  std::deque<std::pair<std::string, std::string>> script;  // (bytes expected from the driver, answer)
  std::string pending;
  // Bytes that arrive `laterMs` after the answer to `laterAfter`; a board on a software serial port hears nothing
  // while it transmits, so bytes still due when the driver writes are lost (`lost` counts them).
  std::string later, laterAfter;
  unsigned long laterMs = 0, laterDue = 0;
  size_t lost = 0;

  void expect(const std::string& command, const std::string& answer) { script.emplace_back(command, answer); }
  void inject(const std::string& bytes) { in += bytes; }
  bool done() const { return script.empty() && pending.empty(); }

  int available() override {
    if (!later.empty() && laterDue && millis() >= laterDue) {
      in += later;
      later.clear();
    }
    return (int)(in.size() - pos);
  }
  int read() override { return pos < in.size() ? (uint8_t)in[pos++] : -1; }
  int peek() override { return pos < in.size() ? (uint8_t)in[pos] : -1; }
  size_t write(uint8_t c) override {
    if (laterDue) {  // transmitting over bytes still on their way
      lost += later.size();
      later.clear();
      laterDue = 0;
    }
    said += (char)c;
    pending += (char)c;
    if (script.empty()) fail(__LINE__, "the driver wrote past the script: " + pending);
    const std::string& want = script.front().first;
    if (want.compare(0, pending.size(), pending) != 0) fail(__LINE__, "expected " + want + " got " + pending);
    if (pending == want) {
      if (!later.empty() && want == laterAfter) laterDue = millis() + laterMs;
      in += script.front().second;
      script.pop_front();
      pending.clear();
    }
    return 1;
  }
  using Print::write;
};

Module module;
EspAtDrv esp(module);

void fail(int line, const std::string& why) {
  printf("%s: line %d: %s\nthe driver wrote: %s\n", current, line, why.c_str(), module.said.c_str());
  exit(1);
}

const char kOk[] = "\r\nOK\r\n";
const char kVersion17[] = "AT version:1.7.4.0(May 11 2020 19:13:04)\r\nSDK version:3.0.4(9532ceb)\r\n";
const char kVersion22[] = "AT version:2.2.0.0(b097cdf - ESP8266 - Jun 17 2021 12:57:45)\r\nSDK version:v3.4\r\n\r\n";
bool dialect2 = false;

// espat::begin(): passive receive on, sync, join.
void begin(bool two = false) {
  dialect2 = two;
  module.expect("AT\r\n", kOk);
  module.expect("ATE0\r\n", kOk);
  module.expect("AT+GMR\r\n", std::string(two ? kVersion22 : kVersion17) + "OK\r\n");
  module.expect("AT+CIPMUX=1\r\n", kOk);
  module.expect("AT+CIPRECVMODE=1\r\n", kOk);
  module.expect(two ? "AT+CWMODE=1\r\n" : "AT+CWMODE_CUR=1\r\n", kOk);
  module.expect(two ? "AT+CWJAP=\"HomeNet\",\"s3cr3t\"\r\n" : "AT+CWJAP_CUR=\"HomeNet\",\"s3cr3t\"\r\n",
                "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
  CHECK(espat::begin(esp, F("HomeNet"), F("s3cr3t")) == EspStatus::Ok);
  CHECK(module.done() && esp.wifiUp());
}

std::string n(size_t v) { return std::to_string(v); }

void expectConnect(int link, const std::string& host, int port) {
  module.expect("AT+CIPSTART=" + n(link) + ",\"TCP\",\"" + host + "\"," + n(port) + "\r\n",
                n(link) + ",CONNECT\r\n\r\nOK\r\n");
}

// CIPSEND of `data` on `link`; `after` is what the module says after SEND OK's line (glued to it).
void expectSend(int link, const std::string& data, const std::string& beforeSendOk = "",
                const std::string& after = "") {
  module.expect("AT+CIPSEND=" + n(link) + "," + n(data.size()) + "\r\n", dialect2 ? "\r\nOK\r\n\r\n>" : "\r\nOK\r\n> ");
  module.expect(data, "\r\nRecv " + n(data.size()) + " bytes\r\n" + beforeSendOk + "\r\nSEND OK\r\n" + after);
}

// One AT+CIPRECVDATA asking for `asked`, answered with `data` (fewer, when the module holds fewer).
void expectRecv(int link, size_t asked, const std::string& data) {
  std::string head = dialect2 ? "+CIPRECVDATA:" + n(data.size()) + "," : "\r\n+CIPRECVDATA," + n(data.size()) + ":";
  module.expect("AT+CIPRECVDATA=" + n(link) + "," + n(asked) + "\r\n", head + data + kOk);
}
void expectRecvNothing(int link, size_t asked) {
  module.expect("AT+CIPRECVDATA=" + n(link) + "," + n(asked) + "\r\n", "\r\nERROR\r\n");
}
void expectClose(int link, bool open) {
  module.expect("AT+CIPCLOSE=" + n(link) + "\r\n", open ? n(link) + ",CLOSED\r\n\r\nOK\r\n" : "\r\nERROR\r\n");
}

std::string readAll(EspAtClient& c) {
  std::string got;
  for (int b; (b = c.read()) >= 0;) got += (char)b;
  return got;
}

const std::string kRequest = "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n";

}  // namespace
