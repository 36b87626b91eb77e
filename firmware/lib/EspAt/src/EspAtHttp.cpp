#include "EspAtHttp.h"

namespace {
// A Client connects to a RAM string; an F() host is copied out of flash (AT+CIPSTART takes up to 64 characters).
bool connectTo(Client& client, EspStr host, uint16_t port) {
  char name[65];
  uint8_t i = 0;
  for (char c; (c = host.at(i)) != 0; i++) {
    if (i == sizeof name - 1) return false;  // too long for the module: refused, never cut
    name[i] = c;
  }
  name[i] = 0;
  return client.connect(name, port) == 1;
}
}  // namespace

int EspAtHttp::send(EspStr host, uint16_t port, EspStr path, const Printable* body) {
  request_.host = host;
  request_.port = port;
  request_.path = path;
  request_.body = body;
  if (!(request_.keepAlive && client_.connected()) && !connectTo(client_, host, port)) return -1;
  client_.clearWriteError();
  if (whole_) whole_(client_, request_);
  else request_.printTo(client_);
  client_.flush();
  if (client_.getWriteError()) {
    client_.stop();
    return -2;
  }
  reply_.begin();
  int c;
  while (!reply_.headersDone()) {
    if ((c = next()) < 0) {
      client_.stop();
      return reply_.status() > 0 ? -4 : -3;
    }
    reply_.feed(c);
  }
  left_ = reply_.contentLength();
  return reply_.status() > 0 ? reply_.status() : -5;
}

int EspAtHttp::next() {
  unsigned long since = millis();
  while (!client_.available()) {
    if (!client_.connected() || millis() - since >= kWaitMs) return -1;
  }
  return client_.read();
}

long EspAtHttp::contentLength() const {
  return reply_.contentLength() == EspAtHttpReply::kUnknownLength ? -1 : (long)reply_.contentLength();
}

int EspAtHttp::available() {
  int n = client_.available();
  if (contentLength() >= 0 && n > left_) n = left_;
  return n;
}

int EspAtHttp::read() {
  bool sized = contentLength() >= 0;
  if (sized && left_ == 0) return -1;
  int c = next();
  if (c >= 0 && sized) left_--;
  return c;
}

void EspAtHttp::end() {
  if (!(request_.keepAlive && contentLength() >= 0 && left_ == 0)) client_.stop();
}
