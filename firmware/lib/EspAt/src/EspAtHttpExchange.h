// One HTTP/1.1 request and its answer through the driver without blocking (the reporter's way): the request is an
// EspAtHttpRequest, the answer goes through an EspAtHttpReply, its body to `body` (or nowhere). With keep-alive,
// an answer read to its Content-Length leaves the link open and the next start() on the same link uses it.
//
//   exchange.request.host = F("example.com"); ...; exchange.start(esp, 0);
//   ... esp.poll() until !esp.busy() ...; then exchange.result(esp) and exchange.reply.status().
#pragma once
#include "EspAtDrv.h"
#include "EspAtHttpReply.h"
#include "EspAtHttpRequest.h"

// KeepAlive false: every request says `Connection: close` and only the status line is read (the smallest code).
template <bool KeepAlive>
class EspAtHttpExchangeT : public EspAtSink {
  static_assert(!KeepAlive || ESPAT_CLIENTS, "HTTP keep-alive needs the driver built with ESPAT_CLIENTS=1");

 public:
  EspAtHttpRequest request;
  EspAtHttpReply reply;
  Print* body;  // where the answer's body goes (KeepAlive only); nullptr: dropped

  bool start(EspAtDrv& esp, uint8_t link) {
    reply.begin();
    request.keepAlive = KeepAlive;
    return esp.startExchange(link, request.host, request.port, request, *this);
  }
  // The driver's status for the exchange, NoReply when what came back had no HTTP status line.
  EspStatus result(const EspAtDrv& esp) const {
    return esp.status() == EspStatus::Ok && reply.status() == 0 ? EspStatus::NoReply : esp.status();
  }

  bool put(uint8_t c) override {
    if (!KeepAlive) {
      reply.feedStatus(c);
      return false;
    }
    if (reply.feed(c) && body) body->write(c);
    return reply.complete();
  }
};
typedef EspAtHttpExchangeT<true> EspAtHttpExchange;
