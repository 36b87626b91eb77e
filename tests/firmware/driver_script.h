// The module's side of the driver's cases (driver_cases.cpp): a scripted wire, the driver on it, and the steps
// every case takes -- feed bytes, move the clock, read what the driver wrote, a sync, an exchange up to its answer.
// Included by driver_cases.cpp alone (its definitions are that program's).
#pragma once
#include <stdio.h>
#include <stdlib.h>

#include <string>

#include "EspAt.h"

namespace {

// The module's side of the wire: bytes queued for the driver to read, and everything the driver wrote.
class Script : public Stream {
 public:
  std::string in, out;
  size_t pos = 0;
  unsigned long msPerByte = 0;  // how long each written byte holds the writer (a soft UART blocks while it sends)
  int available() override { return (int)(in.size() - pos); }
  int read() override { return pos < in.size() ? (uint8_t)in[pos++] : -1; }
  int peek() override { return pos < in.size() ? (uint8_t)in[pos] : -1; }
  size_t write(uint8_t c) override {
    out += (char)c;
    shimAdvanceMs(msPerByte);
    return 1;
  }
  using Print::write;
};

Script wire;
EspAtDrv esp(wire);
const char* current;

#define CHECK(cond)                                                                                      \
  do {                                                                                                   \
    if (!(cond)) {                                                                                       \
      printf("%s: line %d: %s\nthe driver wrote: %s\n", current, __LINE__, #cond, wire.out.c_str());     \
      exit(1);                                                                                           \
    }                                                                                                    \
  } while (0)

void feed(const char* bytes) {
  wire.in += bytes;
  esp.poll();
}
void feed(const std::string& bytes) { feed(bytes.c_str()); }
void after(unsigned long ms) {
  shimAdvanceMs(ms);
  esp.poll();
}
// What the driver wrote since the last call.
std::string written() {
  std::string s = wire.out;
  wire.out.clear();
  return s;
}

class Body : public Printable {
 public:
  size_t printTo(Print& p) const override { return p.print("{\"a\":1}"); }
} body;

// An exchange's answer: every byte kept, the status line read as the HTTP helpers read it.
class Answer : public EspAtSink {
 public:
  std::string bytes;
  EspAtHttpReply reply;
  bool put(uint8_t c) override {
    bytes += (char)c;
    reply.feed(c);
    return false;
  }
} answer;
EspAtHttpRequest request;

const char kVersion17[] = "AT version:1.7.4.0(May 11 2020 19:13:04)\r\nSDK version:3.0.4(9532ceb)\r\n";
const char kVersion22[] = "AT version:2.2.0.0(b097cdf - ESP8266 - Jun 17 2021 12:57:45)\r\nSDK version:v3.4\r\n\r\n";

void sync(const char* version) {
  CHECK(esp.startSync());
  esp.poll();
  CHECK(written() == "AT\r\n");
  feed("\r\nOK\r\n");
  CHECK(written() == "ATE0\r\n");
  feed("\r\nOK\r\n");
  CHECK(written() == "AT+GMR\r\n");
  feed(version);
  feed("OK\r\n");
  CHECK(written() == "AT+CIPMUX=1\r\n");
  feed("\r\nOK\r\n");
  CHECK(!esp.busy() && esp.status() == EspStatus::Ok);
}

// An exchange up to the point where the reply is awaited.
bool startRequest(bool post) {
  request.host = F("example.com");
  request.port = 80;
  request.path = F("/");
  request.body = post ? &body : nullptr;
  answer.bytes.clear();
  answer.reply.begin();
  return esp.startExchange(0, request.host, request.port, request, answer);
}

void sentRequest(bool keepBody) {
  CHECK(startRequest(!keepBody));
  esp.poll();
  CHECK(written() == "AT+CIPSTART=0,\"TCP\",\"example.com\",80\r\n");
  feed("0,CONNECT\r\n\r\nOK\r\n");
  CHECK(written().rfind("AT+CIPSEND=0,", 0) == 0);
  feed("\r\nOK\r\n> ");
  CHECK(written().rfind(keepBody ? "GET / HTTP/1.1\r\n" : "POST / HTTP/1.1\r\n", 0) == 0);
  feed("\r\nRecv 90 bytes\r\n\r\nSEND OK\r\n");
  CHECK(esp.busy() && written().empty());
}

const char kReboot[] = "\r\n\x8f\xe3 ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\nready\r\n";

}  // namespace
