// EspAtUDP: an Arduino UDP over the EspAt driver (NTP and the like). Like EspAtClient it never speaks AT: the
// first packet to a peer opens a UDP link to it (AT+CIPSTART=<id>,"UDP",<host>,<port>,<local port>,0), each
// endPacket() is one AT+CIPSEND, and each answer is one datagram of up to 48 bytes (an NTP packet). A datagram that
// arrives while the last one is still unread is dropped and counted, as UDP allows; a longer one is cut to 48; one
// whose bytes stop coming is replaced by the next and counted as dropped.
#pragma once
#include "EspAtNet.h"

#include "EspAtBlocking.h"
#include "EspAtDrv.h"

static_assert(ESPAT_CLIENTS && ESPAT_RAM_STRINGS,
              "EspAtUDP needs the library built with ESPAT_CLIENTS=1 and ESPAT_RAM_STRINGS=1 (the defaults)");

class EspAtUDP : public UDP, private EspAtSink {
 public:
  static const uint8_t kSize = 48;
  static const uint16_t kAskEveryMs = 500;  // a lost +IPD notice is made up for by asking anyway

  explicit EspAtUDP(EspAtDrv& esp) : esp_(esp), link_(kNoLink) {}

  uint8_t begin(uint16_t localPort) override;  // 1; the link opens with the first packet
  void stop() override;
  int beginPacket(IPAddress ip, uint16_t port) override;
  int beginPacket(const char* host, uint16_t port) override;
  int beginPacket(const __FlashStringHelper* host, uint16_t port);
  int endPacket() override;  // 1 when the module took the datagram
  size_t write(uint8_t c) override;
  size_t write(const uint8_t* buf, size_t size) override;
  using Print::write;
  int parsePacket() override;  // the next datagram's size, 0 if none has come
  int available() override;
  int read() override;
  int read(unsigned char* buf, size_t len) override;
  int read(char* buf, size_t len) override { return read((unsigned char*)buf, len); }
  int peek() override;
  void flush() override {}
  IPAddress remoteIP() override { return peer_; }  // the peer's address when it was given as one, else 0.0.0.0
  uint16_t remotePort() override { return port_; }

  EspStatus lastStatus() const { return status_; }
  uint16_t dropped() const { return dropped_; }  // datagrams dropped (the last one unread, or no link)

 private:
  static const uint8_t kNoLink = 0xFF;
  int open(EspStr host, uint16_t port, const IPAddress* ip = nullptr);  // ip: host ignored
  void release();
  uint16_t room() override { return held_ ? 0 : kSize; }
  void frame(uint16_t len) override;
  bool put(uint8_t c) override;

  // Every field starts clean, so an EspAtUDP made on the stack behaves as a global one does.
  EspAtDrv& esp_;
  uint8_t link_;
  EspStatus status_{};
  IPAddress peer_;
  uint16_t port_{}, localPort_{};
  uint16_t dropped_{};
  uint16_t askedAt_{};
  bool held_{};             // a datagram is in the buffer, or coming into it
  bool announced_{};        // parsePacket() has returned it
  uint16_t left_{};         // its bytes still to come (a datagram is announced only whole)
  bool dropping_{};         // the frame coming in is dropped
  uint8_t rxLen_{}, rxHead_{}, txLen_{};
  // What endPacket() hands the driver: set at each send (a member, not a Printable made on the stack at each send,
  // whose frame cost more flash than these 6 B of RAM).
  espat::Bytes sending_;
  uint8_t rx_[kSize];
  uint8_t tx_[kSize];
};
