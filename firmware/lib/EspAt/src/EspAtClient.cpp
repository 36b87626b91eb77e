#include "EspAtConfig.h"
#if ESPAT_CLIENTS && ESPAT_RAM_STRINGS
#include "EspAtClient.h"
#include "EspAtByteCounter.h"

// espat::waitIdle() tells the compiler no operation is in flight after it (EspAtBlocking.h): each caller keeps its
// driver reference in a local for it and the start that follows, and stores no bytes between them.

int EspAtClient::connect(IPAddress ip, uint16_t port) { return connectTo(nullptr, port, &ip); }

int EspAtClient::connect(const char* host, uint16_t port) { return connectTo(host, port); }
int EspAtClient::connect(const __FlashStringHelper* host, uint16_t port) { return connectTo(host, port); }

int EspAtClient::connectTo(EspStr host, uint16_t port, const IPAddress* ip) {
  EspAtClient::stop();  // (a direct call: no virtual dispatch needed; nothing when not connected)
  if (ip) {
    // The send buffer is empty until the link is open: the address's text lives there meanwhile (no stack frame).
    static_assert(kTxSize >= 16, "\"255.255.255.255\" must fit in the send buffer");
    espat::ipText(*ip, reinterpret_cast<char*>(tx_));
    host = reinterpret_cast<const char*>(tx_);
  }
  rxLen_ = txLen_ = 0;  // (before waitIdle(): stores of bytes may alias the driver's state it vouches for)
  EspAtDrv& esp = esp_;
  espat::waitIdle(esp);
  uint8_t id = espat::freeLink(esp);  // not open, and no other client's
  if (id == EspAtDrv::kLinks) {
    status_ = EspStatus::Busy;
    return 0;
  }
  esp.setSink(id, &sink_);
  status_ = espat::waitDone(esp, esp.startConnect(id, host, port));
  if (status_ != EspStatus::Ok) {
    esp.setSink(id, nullptr);
    return 0;
  }
  link_ = id;
  checks_ = 0;  // nothing sent or come yet: nothing to ask about
  return 1;
}

__attribute__((noinline)) size_t EspAtClient::write(uint8_t c) {
  if ((txLen_ >= kTxSize || link_ == kNoLink) && !send()) return 0;
  tx_[txLen_++] = c;
  return 1;
}

// No tail call: the jump to Print::write took a second copy of the epilogue (10 B).
__attribute__((optimize("no-optimize-sibling-calls"))) size_t EspAtClient::write(const uint8_t* buf,
                                                                                  size_t size) {
  if (size > kTxSize) {  // more than the buffer: what was gathered, then this as one piece
    return send() && sendBytes(buf, size) ? size : 0;
  }
  return Print::write(buf, size);  // byte by byte, up to the first refused (the core's loop, linked anyway)
}

size_t EspAtClient::write(const Printable& data) {
  EspAtByteCounter counter;
  data.printTo(counter);
  return link_ != kNoLink && send() && sendNow(data, counter.count) ? counter.count : 0;
}

bool EspAtClient::send() {
  uint8_t n = txLen_;
  txLen_ = 0;  // gone, sent or not
  return sendBytes(tx_, n);
}

__attribute__((noinline)) bool EspAtClient::sendBytes(const uint8_t* p, uint16_t n) {
  if (link_ == kNoLink) return false;
  sending_ = espat::Bytes(p, n);
  return !n || sendNow(sending_, n);
}

bool EspAtClient::sendNow(const Printable& data, uint16_t length) {
  EspAtDrv& esp = esp_;  // (one reference for waitIdle() and the start: reread, gcc cannot tell it is the same driver)
  espat::waitIdle(esp);
  status_ = espat::waitDone(esp, esp.startSend(link_, data, length));
  if (status_ != EspStatus::Ok) {
    setWriteError();
    return false;
  }
  active();  // an answer may come
  return true;
}

void EspAtClient::active() {
  activeAt_ = (uint16_t)millis();
  checks_ = kCheckData | kCheckOpen;
}

bool EspAtClient::due(uint8_t check) {
  if (!(checks_ & check) || (uint16_t)((uint16_t)millis() - activeAt_) < kStillOpenMs) return false;
  checks_ &= ~check;
  return true;
}

void EspAtClient::flush() { send(); }

// The client whose sink_ this is. (offsetof on a class with virtual functions is conditionally supported: gcc
// gives the member's place, as for any class without virtual bases.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
inline EspAtClient& EspAtClient::Sink::client() {
  return *reinterpret_cast<EspAtClient*>(reinterpret_cast<char*>(this) - offsetof(EspAtClient, sink_));
}
#pragma GCC diagnostic pop

uint16_t EspAtClient::Sink::room() { return (uint8_t)(kRxSize - client().rxLen_); }  // (8 bits: rxLen_ <= kRxSize)
bool EspAtClient::Sink::put(uint8_t c) { return client().put(c); }

bool EspAtClient::put(uint8_t c) {
  if (rxLen_ < kRxSize) {
    rx_[(uint8_t)(rxHead_ + rxLen_) % kRxSize] = c;
    rxLen_++;
  } else {
    dropped_++;
  }
  return false;
}

uint8_t EspAtClient::fill() {
  if (link_ == kNoLink) return 0;  // (first: without a link rxLen_ means nothing)
  if (rxLen_) return rxLen_;
  send();  // an answer comes after the request: what was gathered goes first
  esp_.poll();
  // Only what the module announced: asking blindly gets ERROR, and on a software serial port the question can
  // blot out the very notice (or CLOSED) it is sent over.
  // Or a notice lost under one of our commands: fetch once anyway.
  if (!esp_.dataWaiting(link_) && !due(kCheckData)) return 0;
  EspAtDrv& esp = esp_;
  espat::waitIdle(esp);
  espat::waitDone(esp, esp.startReceive(link_));  // into the ring wherever its head is: it is empty
  if (rxLen_ == 0) return 0;
  active();
  return rxLen_;
}

int EspAtClient::available() { return fill(); }

int EspAtClient::peek() { return fill() ? rx_[rxHead_] : -1; }

__attribute__((noinline)) int EspAtClient::read() {
  int c = EspAtClient::peek();
  if (c >= 0) {
    rxHead_ = (uint8_t)(rxHead_ + 1) % kRxSize;
    rxLen_--;
  }
  return c;
}

// Byte by byte through read(): one copy of the ring buffer's arithmetic.
int EspAtClient::read(uint8_t* buf, size_t size) {
  size_t n = 0;
  for (int c; n < size && (c = EspAtClient::read()) >= 0;) buf[n++] = (uint8_t)c;
  return n ? (int)n : -1;
}

uint8_t EspAtClient::connected() {
  if (link_ == kNoLink) return 0;
  EspAtDrv& esp = esp_;  // (read once: gcc reads the reference again after every call)
  esp.poll();
  // Closed by the server, but what the module still holds (1.x says CLOSED before it was read, after its notice)
  // is read first.
  if (rxLen_ || esp.dataWaiting(link_)) return 1;
  if (!esp.linkOpen(link_)) return 0;
  if (!due(kCheckOpen)) return 1;
  // A CLOSED lost under one of our commands: the module's view.
  espat::waitIdle(esp);
  espat::waitDone(esp, esp.startStatus());
  return esp.linkOpen(link_);
}

void EspAtClient::stop() {
  if (link_ == kNoLink) return;
  send();
  EspAtDrv& esp = esp_;  // (read once: gcc reads the reference again after every call)
  espat::waitIdle(esp);
  // Closed even when the server closed first: the module may hold unread bytes (or missed lines left it open).
  status_ = espat::waitDone(esp, esp.startClose(link_));
  esp.setSink(link_, nullptr);
  link_ = kNoLink;
}
#endif  // ESPAT_CLIENTS && ESPAT_RAM_STRINGS
