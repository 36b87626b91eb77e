#include "EspAtConfig.h"
#if ESPAT_CLIENTS && ESPAT_RAM_STRINGS
#include "EspAtUdp.h"

uint8_t EspAtUDP::begin(uint16_t localPort) {
  stop();
  localPort_ = localPort;
  return 1;
}

void EspAtUDP::stop() {
  if (link_ == kNoLink) return;
  espat::waitIdle(esp_);
  status_ = espat::waitDone(esp_, esp_.startClose(link_));
  release();
}

void EspAtUDP::release() {
  esp_.setSink(link_, nullptr);
  link_ = kNoLink;
  held_ = false;
}

int EspAtUDP::beginPacket(IPAddress ip, uint16_t port) { return open(nullptr, port, &ip); }
int EspAtUDP::beginPacket(const char* host, uint16_t port) { return open(host, port); }
int EspAtUDP::beginPacket(const __FlashStringHelper* host, uint16_t port) { return open(host, port); }

// A link to the peer (a new one for every packet begun: the module keeps one fixed peer per UDP link).
int EspAtUDP::open(EspStr host, uint16_t port, const IPAddress* ip) {
  stop();
  txLen_ = 0;
  if (ip) {
    // The datagram's buffer holds nothing until the link is open (open() drops what it held): the address's text
    // lives there meanwhile (no stack frame).
    static_assert(kSize >= 16, "\"255.255.255.255\" must fit in the datagram's buffer");
    espat::ipText(*ip, reinterpret_cast<char*>(tx_));
    host = reinterpret_cast<const char*>(tx_);
    peer_ = *ip;
  } else {
    peer_ = IPAddress();
  }
  port_ = port;
  uint8_t id = espat::freeLink(esp_);
  if (id == EspAtDrv::kLinks) {
    status_ = EspStatus::Busy;
    return 0;
  }
  esp_.setSink(id, this);
  held_ = false;
  // Without a local port the module picks one; AT+CIPSTART's UDP form needs one to name the mode, so 0 stays 0.
  status_ = espat::waitDone(esp_, esp_.startUdp(id, host, port, localPort_));
  if (status_ != EspStatus::Ok) {
    esp_.setSink(id, nullptr);
    return 0;
  }
  link_ = id;
  askedAt_ = (uint16_t)millis();
  return 1;
}

size_t EspAtUDP::write(uint8_t c) { return write(&c, 1); }

size_t EspAtUDP::write(const uint8_t* buf, size_t size) {
  if (link_ == kNoLink) return 0;
  size_t n = 0;
  while (n < size && txLen_ < kSize) tx_[txLen_++] = buf[n++];
  if (n < size) setWriteError();  // a datagram longer than the buffer is refused, not cut silently
  return n;
}

int EspAtUDP::endPacket() {
  if (link_ == kNoLink || getWriteError()) {
    clearWriteError();
    txLen_ = 0;
    return 0;
  }
  sending_ = espat::Bytes(tx_, txLen_);
  espat::waitIdle(esp_);
  status_ = espat::waitDone(esp_, esp_.startSend(link_, sending_, txLen_));
  txLen_ = 0;
  return status_ == EspStatus::Ok;
}

void EspAtUDP::frame(uint16_t len) {
  // A whole datagram still unread: this one is dropped. One that never came whole (the driver gave up its bytes)
  // gives way to this one, and is the one counted.
  dropping_ = held_ && !left_;
  dropped_ += held_;
  if (dropping_) return;
  held_ = true;
  announced_ = false;
  rxLen_ = rxHead_ = 0;
  left_ = len;
}

// Bytes past kSize are cut (the datagram is longer than an NTP packet).
bool EspAtUDP::put(uint8_t c) {
  if (!dropping_ && held_) {
    left_--;
    if (rxLen_ < kSize) rx_[rxLen_++] = c;
  }
  return false;
}

int EspAtUDP::parsePacket() {
  if (held_ && announced_) held_ = false;  // the one before is done with
  // A datagram's +IPD bytes come one by one at the wire's pace: it is announced once whole.
  if ((!held_ || left_) && link_ != kNoLink) {
    esp_.poll();
    uint16_t now = (uint16_t)millis();
    if (!held_ && (esp_.dataWaiting(link_) || (uint16_t)(now - askedAt_) >= kAskEveryMs)) {
      askedAt_ = now;
      espat::waitIdle(esp_);
      espat::waitDone(esp_, esp_.startReceive(link_));
    }
  }
  if (!held_ || left_) return 0;
  announced_ = true;
  return rxLen_;
}

int EspAtUDP::available() { return held_ && announced_ ? rxLen_ - rxHead_ : 0; }

int EspAtUDP::read() { return available() ? rx_[rxHead_++] : -1; }

int EspAtUDP::read(unsigned char* buf, size_t len) {
  size_t n = 0;
  for (int c; n < len && (c = EspAtUDP::read()) >= 0;) buf[n++] = (uint8_t)c;  // one copy of the look: read()'s
  return n ? (int)n : -1;
}

int EspAtUDP::peek() { return available() ? rx_[rxHead_] : -1; }

#endif  // ESPAT_CLIENTS && ESPAT_RAM_STRINGS
