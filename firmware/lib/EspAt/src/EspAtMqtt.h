// EspAtMqtt: a small MQTT 3.1.1 publisher over any Arduino `Client` (EspAtClient, EthernetClient, WiFiClient).
//
// It publishes; it does not subscribe. CONNECT (client id, optional user and password, keep-alive, clean
// session), PUBLISH at QoS 0 or 1 (retained or not), PUBACK matched to the packet id of the one QoS 1 message in
// flight, PINGREQ/PINGRESP keep-alive, DISCONNECT. No heap, no String, no buffer: a packet is written to the Client
// as it is made and the Client is flushed at its end (EspAtClient gathers the bytes and sends them as few
// AT+CIPSENDs). Every wait for the broker is bounded by timeoutMs (10 s by default): a CONNACK, PUBACK or PINGRESP
// that does not come in time closes the link and says Timeout.
//
//   client.connect("broker.local", 1883);          // the TCP link is the caller's (Client::connect)
//   mqtt.connect(F("uno-1"), F("user"), F("pw"));  // blocks, bounded; or startConnect() + poll() without blocking
//   uint16_t id = mqtt.publish(F("home/t"), F("21.5"), EspAtMqtt::Qos1);
//   ... mqtt.poll() in loop(); mqtt.acked(id) once the broker has it.
//
// Strings are EspStr: RAM `const char*` or F("...") told apart by type, so a RAM pointer is never read as flash.
// A payload (or a topic) may also be a Printable, printed twice: counted, then sent; it must print the
// same both times. So neither needs a RAM buffer.
#pragma once
#include <Arduino.h>
#include "EspAtNet.h"

#include "EspAtStr.h"

class EspAtMqtt {
 public:
  enum Qos : uint8_t { Qos0 = 0, Qos1 = 1 };
  enum class State : uint8_t { Disconnected, Connecting, Connected };
  // Why the last session ended or was refused (None while it is fine). Refused: see returnCode() (CONNACK's:
  // 1 protocol version, 2 client id, 3 server unavailable, 4 bad user name or password, 5 not authorised).
  enum class Error : uint8_t { None, NotConnected, Refused, Timeout, Protocol, Closed };

  // Make it a global (or static), as the driver: its state starts from static storage's zeros (Disconnected,
  // nothing waited for), so the constructor stores its two arguments and nothing else. timeoutMs: at most 65,000
  // (its times are kept in 16 bits; a larger one is taken as that).
  explicit EspAtMqtt(Client& net, uint16_t timeoutMs = 10000)
      : out_(net), timeoutMs_(timeoutMs > kMaxWaitMs ? kMaxWaitMs : timeoutMs) {}

  // Sends CONNECT over the already connected Client and returns at once; poll() moves to Connected when the
  // CONNACK accepts, or to Disconnected (error() says why). keepAliveS 0 turns the keep-alive off.
  bool startConnect(EspStr clientId, EspStr user = nullptr, EspStr password = nullptr,
                    uint16_t keepAliveS = 60);
  // The same, waiting (at most timeoutMs) for the broker's answer: true when connected.
  bool connect(EspStr clientId, EspStr user = nullptr, EspStr password = nullptr,
               uint16_t keepAliveS = 60);
  // Reads what the broker sent, sends PINGREQ when the link has been idle for the keep-alive, enforces the
  // bounds. Call it from loop().
  void poll();

  // Publishes; returns 0 when it could not (not connected, a QoS 1 message still waiting for its PUBACK, the
  // write failed), else the packet id (QoS 1) or 1 (QoS 0, nothing to wait for).
  uint16_t publish(EspStr topic, EspStr payload, Qos qos = Qos0, bool retain = false);
  uint16_t publish(EspStr topic, const Printable& payload, Qos qos = Qos0, bool retain = false);
  // A topic made as it is printed (a device name in it, say): no RAM buffer for it either.
  uint16_t publish(const Printable& topic, const Printable& payload, Qos qos = Qos0, bool retain = false);
  uint16_t publish(EspStr topic, const uint8_t* payload, uint16_t length, Qos qos = Qos0, bool retain = false);
  // True once the broker's PUBACK for `packetId` arrived (until the next QoS 1 publish).
  bool acked(uint16_t packetId) const { return packetId && packetId == acked_; }
  // A QoS 1 message is waiting for its PUBACK.
  bool waitingAck() const { return pending_ != 0; }

  // DISCONNECT, then Client::stop().
  void disconnect();

  State state() const { return state_; }
  bool connected() const { return state_ == State::Connected; }
  Error error() const { return error_; }
  uint8_t returnCode() const { return returnCode_; }

 private:
  // A packet on its way out, written to the Client as it is made; remembers whether any write fell short. It
  // also counts what a Printable prints, to announce its length before it is sent (no second Print class).
  class Out : public Print {
   public:
    explicit Out(Client& net) : net_(net) {}
    size_t write(uint8_t c) override;
    using Print::write;
    bool finish();  // flushes the Client; false if any write fell short
    void reset() { failed_ = false; }
    uint16_t lengthOf(const Printable& p);  // what `p` prints, in bytes (0xFFFF: that many or more)
    Client& net_;  // the publisher's Client (one reference for both)

   private:
    bool failed_;
    bool counting_;
    uint16_t counted_;
  };

  void begin(uint8_t header, uint16_t remaining);
  void twoBytes(uint16_t v);
  void text(EspStr s);
  bool sendOut();
  uint16_t send(const Printable* topic, EspStr topicText, const Printable& payload, Qos qos, bool retain);
  // Every time here is the low 16 bits of millis(), so every wait must stay under 65.5 s (poll() runs far more
  // often): half the code of four-byte times (72 B less in MqttPublish).
  static const uint16_t kMaxWaitMs = 65000;
  static const uint16_t kMaxPacket = 16000;  // topic + payload at most: far past an Uno's RAM, under 3 length bytes
  void onPacket();
  void fail(Error why);
  void forget();

  Out out_;  // holds the Client: one reference where two were stored
  Client& net() { return out_.net_; }
  uint16_t timeoutMs_;
  // 0: no keep-alive. In ms, so poll() compares it without a division; a keep-alive past 65 s is pinged every 65 s
  // (a client may ping whenever it likes).
  uint16_t keepAliveMs_;
  uint16_t nextId_;
  uint16_t pending_;  // packet id of the QoS 1 message waiting for its PUBACK
  uint16_t acked_;
  uint16_t lastSent_;   // keep-alive: when we last sent a packet
  uint16_t waitFrom_;   // when the oldest answer we wait for (CONNACK, PUBACK, PINGRESP) was asked for
  bool pinging_;
  State state_;
  Error error_;
  uint8_t returnCode_;
  // The packet being read: its first byte, its remaining length, and the last two bytes of it read (high first:
  // the whole body of a CONNACK or a PUBACK).
  uint8_t inType_;
  uint8_t inLen_;   // its remaining length (one byte: at most 127), 0xFF until it is read
  uint8_t inLeft_;  // bytes of it still to come
  uint16_t inHead_;
};
