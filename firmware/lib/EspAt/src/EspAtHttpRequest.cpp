#include "EspAtHttpRequest.h"

#include "EspAtByteCounter.h"


size_t EspAtHttpRequest::printTo(Print& out) const {
  out.print(body ? F("POST ") : F("GET "));
  path.printTo(out);
  out.print(F(" HTTP/1.1\r\nHost: "));
  host.printTo(out);
  if (port != 80) {
    out.print(':');
    out.print(port);
  }
  if (!bearer.empty()) {
    out.print(F("\r\nAuthorization: Bearer "));
    bearer.printTo(out);
  }
  if (body) {
    EspAtByteCounter length;
    body->printTo(length);
    out.print(F("\r\nContent-Type: application/json\r\nContent-Length: "));
    out.print(length.count);
  }
  // HTTP/1.1 keeps a connection open by default; without keep-alive the server is asked to close it.
  if (!keepAlive) out.print(F("\r\nConnection: close"));
  out.print(F("\r\n\r\n"));
  if (body) body->printTo(out);
  return 0;
}
