// EspAtMqtt's packets as written, for test_native_mqtt.py to compare byte for byte with MQTT 3.1.1's layouts. A
// Client that keeps nothing prints each packet as one line of hex (a line ends where the publisher flushes) and
// each call's result as "= N"; the broker's answers are handed to poll() from a fixed script (CONNACK, PUBACK, and
// packets a publisher is never sent).
#include <stdio.h>

#include "Client.h"
#include "EspAtMqtt.h"

namespace {

class PrintingClient : public Client {
 public:
  int connect(IPAddress, uint16_t) override { return 1; }
  int connect(const char*, uint16_t) override { return 1; }
  size_t write(uint8_t c) override {
    printf("%02x", c);
    return 1;
  }
  size_t write(const uint8_t* buf, size_t n) override {
    for (size_t i = 0; i < n; i++) write(buf[i]);
    return n;
  }
  int available() override { return (int)(inLen_ - inPos_); }
  int read() override { return inPos_ < inLen_ ? in_[inPos_++] : -1; }
  int read(uint8_t* buf, size_t n) override {
    size_t k = 0;
    while (k < n && inPos_ < inLen_) buf[k++] = in_[inPos_++];
    return (int)k;
  }
  int peek() override { return inPos_ < inLen_ ? in_[inPos_] : -1; }
  void flush() override { printf("\n"); }
  void stop() override {}
  uint8_t connected() override { return 1; }
  operator bool() override { return true; }
  void answer(const uint8_t* bytes, size_t n) {
    in_ = bytes;
    inLen_ = n;
    inPos_ = 0;
  }

 private:
  const uint8_t* in_ = nullptr;
  size_t inLen_ = 0, inPos_ = 0;
};

// A payload printed in pieces, as a sketch's reading is: {"v":N}
class Reading : public Printable {
 public:
  explicit Reading(long v) : v_(v) {}
  size_t printTo(Print& p) const override {
    size_t n = p.print(F("{\"v\":"));
    n += p.print(v_);
    return n + p.print('}');
  }

 private:
  long v_;
};

// n letters a..z over and over: a topic or payload of any length.
class Letters : public Printable {
 public:
  explicit Letters(unsigned n) : n_(n) {}
  size_t printTo(Print& p) const override {
    for (unsigned i = 0; i < n_; i++) p.write((uint8_t)('a' + i % 26));
    return n_;
  }

 private:
  unsigned n_;
};

PrintingClient net;
EspAtMqtt mqtt(net);

void accepted() {
  static const uint8_t connack[] = {0x20, 2, 0, 0};
  net.answer(connack, sizeof connack);
  mqtt.poll();
}

void acked(uint16_t id) {
  static uint8_t puback[] = {0x40, 2, 0, 0};
  puback[2] = (uint8_t)(id >> 8);
  puback[3] = (uint8_t)id;
  net.answer(puback, sizeof puback);
  mqtt.poll();
}

void result(long r) { printf("= %ld\n", r); }

}  // namespace

void setup() {
  setvbuf(stdout, nullptr, _IONBF, 0);
  result(mqtt.startConnect(F("uno-1")));
  result(mqtt.startConnect("uno-1", F("user"), nullptr, 0));
  result(mqtt.startConnect(F("uno-1"), "user", F("pw"), 300));
  result(mqtt.startConnect(F(""), F(""), F("pw"), 7));  // no user name: no password either
  accepted();
  result(mqtt.publish(F("home/t"), F("21.5")));
  result(mqtt.publish("home/t", "x", EspAtMqtt::Qos0, true));
  result(mqtt.publish(F("home/t"), Reading(-42), EspAtMqtt::Qos1));
  acked(1);
  static const uint8_t bytes[] = {0, 1, 2, 0xff};
  result(mqtt.publish(F("t/b"), bytes, sizeof bytes, EspAtMqtt::Qos1, true));
  acked(2);
  result(mqtt.publish(Reading(7), Letters(130), EspAtMqtt::Qos1));  // two remaining-length bytes
  acked(3);
  result(mqtt.publish(F("tt"), Letters(15998)));                   // topic + payload 16,000 B: the most
  result(mqtt.publish(F("tt"), Letters(15999)));                   // one more: refused, nothing written
  // What a publisher is never sent: a short packet is read and let go (the PUBACK behind it still counts); one
  // 128 bytes long or more (a second length byte) ends the session as the broker's protocol error.
  result(mqtt.publish(F("t"), F("q"), EspAtMqtt::Qos1));
  static const uint8_t otherThenAck[] = {0xB0, 3, 0, 9, 9, 0x40, 2, 0, 4};
  net.answer(otherThenAck, sizeof otherThenAck);
  mqtt.poll();
  result(mqtt.acked(4));
  static const uint8_t longPacket[] = {0x30, 0x80, 0x01};
  net.answer(longPacket, sizeof longPacket);
  mqtt.poll();
  result((long)mqtt.error());
  result(mqtt.startConnect(F("uno-1")));
  accepted();
  mqtt.disconnect();
  exit(0);
}

void loop() {}
