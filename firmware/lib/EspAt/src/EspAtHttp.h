// EspAtHttp: HTTP/1.1 requests on any Arduino Client (EspAtClient, or another library's): the request written by
// EspAtHttpRequest (exact Content-Length, bearer token, keep-alive or `Connection: close`), the answer's status
// line and headers read by EspAtHttpReply, then the body read through this object, never past its
// Content-Length. Blocking, with a bound on every wait for the server (kWaitMs).
//
//   EspAtHttp http(client);
//   int status = http.post(F("example.com"), 80, F("/api/readings"), json);   // json: a Printable
//   while (http.available()) Serial.write(http.read());
//   http.end();
#pragma once
#include "EspAtNet.h"

#include "EspAtConfig.h"
#if ESPAT_CLIENTS && ESPAT_RAM_STRINGS
#include "EspAtClient.h"
#endif
#include "EspAtHttpReply.h"
#include "EspAtHttpRequest.h"

class EspAtHttp {
 public:
  static const uint16_t kWaitMs = 15000;  // for the answer to begin, and between its bytes

  explicit EspAtHttp(Client& client) : client_(client) {}
#if ESPAT_CLIENTS && ESPAT_RAM_STRINGS
  // On an EspAtClient each request goes out as one AT+CIPSEND of its exact length, not 32 bytes at a time.
  explicit EspAtHttp(EspAtClient& client) : client_(client), whole_(&writeWhole) {}
#endif

  void setBearer(EspStr token) { request_.bearer = token; }
  // Keep the connection for the next request to the same host (the server's Content-Length says where each
  // answer ends). Off: every request says `Connection: close`.
  void setKeepAlive(bool on) { request_.keepAlive = on; }

  // The answer's status code; a negative value when there was none: -1 no connection, -2 the request was not
  // sent whole, -3 no answer within kWaitMs, -4 the connection closed before the headers ended, -5 the answer
  // does not begin with an HTTP status line ("HTTP/1.1 200 ..."; never a number taken from elsewhere).
  int get(EspStr host, uint16_t port, EspStr path) { return send(host, port, path, nullptr); }
  int post(EspStr host, uint16_t port, EspStr path, const Printable& json) { return send(host, port, path, &json); }

  long contentLength() const;  // -1 when the answer did not say (the body then ends with the connection)
  int available();             // body bytes readable now
  int read();                  // the next body byte, or -1 at the body's end (waits up to kWaitMs for it)
  // Closes the connection unless keep-alive holds it and the body was read to its end.
  void end();

 private:
  int send(EspStr host, uint16_t port, EspStr path, const Printable* body);
  int next();  // the next byte from the client, waiting up to kWaitMs; -1 if none came

#if ESPAT_CLIENTS && ESPAT_RAM_STRINGS
  static size_t writeWhole(Client& c, const Printable& p) { return static_cast<EspAtClient&>(c).write(p); }
#endif

  Client& client_;
  size_t (*whole_)(Client&, const Printable&) = nullptr;
  EspAtHttpRequest request_{};
  EspAtHttpReply reply_;
  uint16_t left_;  // body bytes still to come when the length is known
};
