// The HTTP reporter's POST on the wire: its request, and its answer's status line and Retry-After on the way in.
// Every part of the request but the body is known when the sketch is built (host, port, path, token and keep-alive
// are settings), so it is written as a few flash strings, not put together at run time field by field as the
// library's EspAtHttpRequest does for any request: the same bytes, about 200 B less code. (Header only: main.cpp
// is its one user, and reporter_mqtt builds this folder's .cpp files without it.)
#pragma once
#include <EspAt.h>
#include <EspAtDecimal.h>

#include "espat_config.h"
#include "report_json.h"
#include "retry_after.h"

extern ReadingBody post;  // the body: the sketch's reading in flight

// A setting's chosen text with literals around it, as one flash string (ESPAT_PICK's choice, made the same way).
#define REPORTER_PICK(before, name, after)                                                                      \
  reinterpret_cast<const __FlashStringHelper*>(sizeof(ESPAT_ENV_##name) > 1 ? PSTR(before ESPAT_ENV_##name after) \
                                                                            : PSTR(before ESPAT_##name after))

// Two settings' chosen texts with literals around them, as one flash string.
#define REPORTER_PICK2(a, name1, b, name2, c)                                                   \
  (sizeof(ESPAT_ENV_##name1) > 1 ? REPORTER_PICK(a ESPAT_ENV_##name1 b, name2, c) \
                                 : REPORTER_PICK(a ESPAT_##name1 b, name2, c))
#define REPORTER_JSON_HEAD "\r\nContent-Type: application/json\r\nContent-Length: "

// `POST <path> HTTP/1.1`, Host (with the port unless it is 80), Authorization when a token is set, the JSON body's
// type and exact length, `Connection: close` without keep-alive, then the body.
class PostRequest : public Printable {
 public:
  // The request line and the Host header's name, as one flash string (a function's own static, so one copy),
  // whose tail is the server's name as AT+CIPSTART takes it.
  static const __FlashStringHelper* head() {
    return REPORTER_PICK2("POST ", SERVER_PATH, " HTTP/1.1\r\nHost: ", SERVER_HOST, "");
  }
  static const __FlashStringHelper* host() {
    return reinterpret_cast<const __FlashStringHelper*>(reinterpret_cast<const char*>(head()) + kHostAt);
  }
  static const uint16_t kHostAt =
      sizeof("POST ") - 1 +
      (sizeof(ESPAT_ENV_SERVER_PATH) > 1 ? sizeof(ESPAT_ENV_SERVER_PATH) : sizeof(ESPAT_SERVER_PATH)) - 1 +
      sizeof(" HTTP/1.1\r\nHost: ") - 1;
  static const bool kToken = ESPAT_CHOSEN(TOKEN)[0] != 0;
  static const bool kPortShown = ESPAT_SERVER_PORT_NUMBER != 80;
  static const bool kPortAsText = ESPAT_CHOSEN(SERVER_PORT)[0] != '0';

  size_t printTo(Print& out) const override {
    out.print(head());
    // The port as its setting's text when that is how the number prints (no leading zero), in the string that
    // follows; else printed.
    if (kPortShown && !kPortAsText) {
      out.print(':');
      espatDecimal(out, ESPAT_SERVER_PORT_NUMBER);
    }
    out.print(kPortShown && kPortAsText
                  ? (kToken ? REPORTER_PICK2(":", SERVER_PORT, "\r\nAuthorization: Bearer ", TOKEN, REPORTER_JSON_HEAD)
                            : REPORTER_PICK(":", SERVER_PORT, REPORTER_JSON_HEAD))
                  : (kToken ? REPORTER_PICK("\r\nAuthorization: Bearer ", TOKEN, REPORTER_JSON_HEAD)
                            : F(REPORTER_JSON_HEAD)));
    EspAtByteCounter length;
    post.printTo(length);
    espatDecimal(out, length.count);
    // HTTP/1.1 keeps a connection open by default; without keep-alive the server is asked to close it.
    out.print(ESPAT_KEEP_ALIVE ? F("\r\n\r\n") : F("\r\nConnection: close\r\n\r\n"));
    post.printTo(out);
    return 0;  // nobody uses the count (the driver counts with a Print of its own)
  }
};

// The request and its answer through the driver without blocking, as EspAtHttpExchangeT does it, with the
// answer's Retry-After picked out on the way. With keep-alive (ESPAT_KEEP_ALIVE, the driver built with
// ESPAT_CLIENTS=1) an answer read to its Content-Length leaves the link open for the next POST.
class PostExchange : public EspAtSink {
  static_assert(!ESPAT_KEEP_ALIVE || ESPAT_CLIENTS, "HTTP keep-alive needs the driver built with ESPAT_CLIENTS=1");

 public:
  PostRequest request;
  EspAtHttpReply reply;
  RetryAfter retryAfter;

  bool start(EspAtDrv& esp, uint8_t link) {
    if (ESPAT_KEEP_ALIVE) reply.begin();
    retryAfter.begin();
    return esp.startExchange(link, PostRequest::host(), ESPAT_SERVER_PORT_NUMBER, request, *this);
  }
  // The answer's status code (0: none was read). Without keep-alive the Retry-After reader reads it on its way
  // (the link closes after the answer); with it, the reply parser, which finds where the answer ends.
  int status() const { return ESPAT_KEEP_ALIVE ? reply.status() : retryAfter.status(); }
  // The driver's status for the exchange, NoReply when what came back had no HTTP status line.
  EspStatus result(const EspAtDrv& esp) const {
    return esp.status() == EspStatus::Ok && status() == 0 ? EspStatus::NoReply : esp.status();
  }
  bool put(uint8_t c) override {
    retryAfter.feed(c);
    if (!ESPAT_KEEP_ALIVE) return false;
    reply.feed(c);
    return reply.complete();
  }
};
