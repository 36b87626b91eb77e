// EspAtClient: an Arduino Client (TCP) over the EspAt driver, for any code written for WiFiClient or
// EthernetClient (ArduinoHttpClient, PubSubClient, the HTTP helper here). It never speaks AT itself: it asks the
// driver to open, send, fetch and close, and waits for each (blocking, bounded by the driver's step bounds).
//
// Received bytes stay in the module (passive receive, AT+CIPRECVMODE=1) until read() or available() fetches
// them into a 32-byte buffer, so a sketch that is busy, or a reply that arrives while the board is transmitting,
// loses nothing. It fetches only what the module announced (+IPD,<id>,<len>): an idle client sends nothing. Written bytes gather in a 32-byte buffer and go out as one AT+CIPSEND when it is full, on
// flush(), or before anything is read. Up to five clients at once (the module's five links).
//
//   EspAtDrv esp(espSerial);
//   EspAtClient client(esp);
//   espat::begin(esp, F("ssid"), F("password"));   // passive receive, sync, join
//   if (client.connect(F("example.com"), 80)) { client.print(F("GET / HTTP/1.1\r\n...")); ... }
#pragma once
#include "EspAtNet.h"

#include "EspAtBlocking.h"
#include "EspAtBytes.h"
#include "EspAtDrv.h"

static_assert(ESPAT_CLIENTS && ESPAT_RAM_STRINGS,
              "EspAtClient needs the library built with ESPAT_CLIENTS=1 and ESPAT_RAM_STRINGS=1 (the defaults)");

class EspAtClient : public Client {
 public:
  static const uint8_t kRxSize = 32, kTxSize = 32;
  // A board on a software serial port hears nothing while it transmits, so a notice or the module's `<id>,CLOSED`
  // can be lost under one of our commands. Once something was sent or came and then nothing for this long, the
  // client asks once: read() and available() fetch anyway (AT+CIPRECVDATA), connected() asks whether the link is
  // still open (AT+CIPSTATUS). Once each until something is sent or comes again: an idle client asks nothing.
  static const uint16_t kStillOpenMs = 1000;

  explicit EspAtClient(EspAtDrv& esp) : esp_(esp), link_(kNoLink) {}

  // 1 when connected, 0 when not (lastStatus() says why). A client still connected is stopped first.
  int connect(IPAddress ip, uint16_t port) override;
  int connect(const char* host, uint16_t port) override;
  int connect(const __FlashStringHelper* host, uint16_t port);

  size_t write(uint8_t c) override;
  // More than the send buffer holds goes out as one AT+CIPSEND (up to the module's 2048 bytes), not 32 at a time.
  size_t write(const uint8_t* buf, size_t size) override;
  // All that `data` prints as one AT+CIPSEND, its length counted exactly by printing it once before (it must print
  // the same both times): a JSON reading or a whole request without the 32-byte buffer. The bytes, or 0 if refused.
  size_t write(const Printable& data);
  using Print::write;
  int available() override;
  int read() override;
  int read(uint8_t* buf, size_t size) override;
  int peek() override;
  void flush() override;  // sends what write() gathered
  void stop() override;
  // True while the link is open or bytes remain to be read (the server may have closed after its answer).
  uint8_t connected() override;
  operator bool() override { return link_ != kNoLink; }

  EspStatus lastStatus() const { return status_; }
  uint16_t dropped() const { return dropped_; }  // bytes that found the buffer full (active receive only)

 private:
  static const uint8_t kNoLink = 0xFF;
  int connectTo(EspStr host, uint16_t port, const IPAddress* ip = nullptr);  // ip: host ignored
  uint8_t fill();  // fetches from the module when the buffer is empty; the bytes there (0: none)
  bool send();   // sends what was gathered; false if the link refused it (or there is none)
  bool sendBytes(const uint8_t* p, uint16_t n);  // the same for these bytes (none: true while linked)
  bool sendNow(const Printable& data, uint16_t length);  // the same for `data`, `length` bytes, as one AT+CIPSEND
  bool put(uint8_t c);
  // Where the driver hands over what it fetched for our link: a member rather than a second base class, whose
  // functions would each need a this-adjusting thunk in flash.
  // It finds its client from its own address (it is always the client's sink_), so it stores nothing: no pointer
  // back, no store of one in each client's constructor.
  class Sink : public EspAtSink {
   public:
    uint16_t room() override;
    bool put(uint8_t c) override;

   private:
    EspAtClient& client();
  };

  EspAtDrv& esp_;
  Sink sink_;
  // What sendBytes() hands the driver: set at each send, so never read unset (a member, not a Printable made on the
  // stack at each send, whose frame cost more flash than these 6 B of RAM).
  espat::Bytes sending_;
  // Every field read before a connect starts clean, so a client made on the stack (as sketches do inside loop()) is
  // not connected and holds nothing until its first connect. rxLen_, txLen_, activeAt_ and checks_ do not: connect
  // sets them, and without a link nothing looks at them past the test for one (send() clears txLen_ before that
  // test): their zeros were stores in each sketch's constructor.
  uint8_t link_;
  EspStatus status_{};
  uint8_t rxHead_{}, rxLen_, txLen_;
  uint16_t dropped_{};
  uint16_t activeAt_;  // ms (low 16 bits) when something was last sent or came
  uint8_t checks_;     // the checks still due since then: kCheckData, kCheckOpen
  static const uint8_t kCheckData = 1, kCheckOpen = 2;
  void active();       // arms both checks
  bool due(uint8_t check);  // `check` is armed and kStillOpenMs have passed: true once, disarming it
  uint8_t rx_[kRxSize];
  uint8_t tx_[kTxSize];
};
