// EspAtMqtt: MQTT 3.1.1 packets written and read over a Client (see EspAtMqtt.h). Packet layouts are the
// standard's (OASIS MQTT 3.1.1, section 3): a type byte, the remaining length in 7-bit groups, then the rest.
#include "EspAtMqtt.h"

#include "EspAtBytes.h"

namespace {

enum : uint8_t {
  kConnect = 0x10,
  kConnack = 2,   // types as read: the high nibble
  kPublish = 0x30,
  kPuback = 4,
  kPingreq = 0xC0,
  kPingresp = 13,
  kDisconnect = 0xE0,
};

// A string as a Printable (bytes: espat::Bytes): every publish() is the one for two Printables, one body in flash.
class Text : public Printable {
 public:
  explicit Text(EspStr s) : s_(s) {}
  size_t printTo(Print& out) const override { return s_.printTo(out); }

 private:
  EspStr s_;
};

// A packet's type, from its first byte. On the AVR one `swap` (a plain shift is done on the byte promoted to int, a
// four-step loop: 16 B more in MqttPublish).
inline uint8_t highNibble(uint8_t b) {
#ifdef __AVR__
  return __builtin_avr_swap(b) & 0x0F;
#else
  return b >> 4;
#endif
}

const uint8_t kNoLength = 0xFF;  // in inLen_ until the packet's length byte is read

const char kProtocol[] PROGMEM = {0, 4, 'M', 'Q', 'T', 'T', 4};  // name and level 4 (3.1.1)

}  // namespace

size_t EspAtMqtt::Out::write(uint8_t c) {
  if (counting_) {
    if (counted_ != 0xFFFF) counted_++;  // stops there: more than a packet can carry here
  } else if (!failed_ && net_.write(c) != 1) {
    failed_ = true;  // the link failed: the rest of the packet is moot
  }
  return 1;  // (once a write fell short the rest are dropped here: the print loops need not stop)
}

uint16_t EspAtMqtt::Out::lengthOf(const Printable& p) {
  counting_ = true;
  counted_ = 0;
  p.printTo(*this);
  counting_ = false;
  return counted_;
}

bool EspAtMqtt::Out::finish() {
  net_.flush();  // a Client that gathers bytes (EspAtClient) sends them now, not when its buffer fills
  return !failed_;
}

// Starts a packet: its type byte and remaining length. (A link that is gone refuses the bytes, and sendOut() ends
// the session: no question to the Client first.)
void EspAtMqtt::begin(uint8_t header, uint16_t remaining) {
  out_.reset();
  out_.write(header);
  do {
    uint8_t b = remaining & 0x7F;
    remaining >>= 7;
    out_.write(remaining ? (uint8_t)(b | 0x80) : b);
  } while (remaining);
}

// Two bytes, high first: a length, the keep-alive, a packet id.
void EspAtMqtt::twoBytes(uint16_t v) {
  out_.write((uint8_t)(v >> 8));
  out_.write((uint8_t)v);
}

// A string field: its length in two bytes, then its bytes.
void EspAtMqtt::text(EspStr s) {
  twoBytes(s.length());
  s.printTo(out_);
}

// The packet is written: flush it. False (the session ended, Closed) if any of it could not be sent.
bool EspAtMqtt::sendOut() {
  if (!out_.finish()) {
    fail(Error::Closed);
    return false;
  }
  // The keep-alive counts from now, and so does the wait for an answer when none was waited for before (the
  // value is looked at only while one is: CONNACK, PUBACK, PINGRESP).
  uint16_t now = millis();
  lastSent_ = now;
  if (!pending_ && !pinging_) waitFrom_ = now;
  return true;
}

bool EspAtMqtt::startConnect(EspStr clientId, EspStr user, EspStr password, uint16_t keepAliveS) {
  forget();  // a new session on the link the caller connected: nothing of the old one is waited for
  if (!net().connected()) {
    error_ = Error::NotConnected;
    return false;
  }
  // The payload's strings: the client id, then the user name and the password if given (3.1.1: no password
  // without a user name). Whether one is given is told by its length, which the remaining length needs anyway
  // (empty() read each one's first byte inline, both from flash and from RAM: 50 B more in MqttPublish).
  const EspStr fields[] = {clientId, user, password};
  uint8_t n = 0, flags = 0;
  uint16_t remaining = sizeof kProtocol + 3;
  do {
    uint16_t length = fields[n].length();
    if (n && !length) break;
    if (n) flags = flags >> 1 | 0x80;  // a user name 0x80, then a password 0x40
    n++;
    remaining += 2 + length;
  } while (n < 3);
  begin(kConnect, remaining);
  for (uint8_t i = 0; i < sizeof kProtocol; i++) out_.write((uint8_t)pgm_read_byte(kProtocol + i));
  out_.write(flags | 0x02);  // and clean session
  twoBytes(keepAliveS);
  for (uint8_t i = 0; i < n; i++) text(fields[i]);
  keepAliveMs_ = keepAliveS > kMaxWaitMs / 1000 ? kMaxWaitMs : keepAliveS * 1000U;
  if (!sendOut()) return false;
  state_ = State::Connecting;
  error_ = Error::None;
  return true;
}

bool EspAtMqtt::connect(EspStr clientId, EspStr user, EspStr password, uint16_t keepAliveS) {
  if (!startConnect(clientId, user, password, keepAliveS)) return false;
  while (state_ == State::Connecting) poll();  // poll() ends it: CONNACK, a closed link, or timeoutMs
  return state_ == State::Connected;
}

// Every publish(): the PUBLISH packet (header, remaining length, topic, a QoS 1 message's packet id, payload),
// then for QoS 1 the wait for its PUBACK. 0 (nothing written) when it cannot be sent now. The topic is `topic`,
// or `topicText` when that is null.
uint16_t EspAtMqtt::send(const Printable* topic, EspStr topicText, const Printable& payload, Qos qos, bool retain) {
  if (state_ != State::Connected || (qos && pending_)) return 0;
  uint16_t t = topic ? out_.lengthOf(*topic) : topicText.length(), length = out_.lengthOf(payload);
  if (length > kMaxPacket || t > kMaxPacket - length) return 0;  // beyond what an Uno sends
  begin((uint8_t)(kPublish | qos << 1 | (retain ? 1 : 0)), 2 + t + (qos ? 2 : 0) + length);
  twoBytes(t);
  if (topic) {
    topic->printTo(out_);
  } else {
    topicText.printTo(out_);
  }
  uint16_t id = nextId_ + 1;
  if (!id) id = 1;  // never 0
  if (qos) {
    nextId_ = id;
    twoBytes(id);
  }
  payload.printTo(out_);
  if (!sendOut()) return 0;
  if (!qos) return 1;
  pending_ = id;
  acked_ = 0;
  return id;
}

uint16_t EspAtMqtt::publish(const Printable& topic, const Printable& payload, Qos qos, bool retain) {
  return send(&topic, nullptr, payload, qos, retain);
}

uint16_t EspAtMqtt::publish(EspStr topic, const Printable& payload, Qos qos, bool retain) {
  return send(nullptr, topic, payload, qos, retain);
}

uint16_t EspAtMqtt::publish(EspStr topic, EspStr payload, Qos qos, bool retain) {
  return send(nullptr, topic, Text(payload), qos, retain);
}

uint16_t EspAtMqtt::publish(EspStr topic, const uint8_t* payload, uint16_t length, Qos qos, bool retain) {
  return send(nullptr, topic, espat::Bytes(payload, length), qos, retain);
}

void EspAtMqtt::disconnect() {
  if (state_ == State::Connected) {
    begin(kDisconnect, 0);
    out_.finish();
  }
  fail(Error::NotConnected);
}

// Ends the session: the link is closed and nothing is waited for any more.
void EspAtMqtt::fail(Error why) {
  net().stop();
  forget();
  error_ = why;
}

// Out of line: inlined into fail() and startConnect() it was 6 B more in MqttPublish.
__attribute__((noinline)) void EspAtMqtt::forget() {
  state_ = State::Disconnected;
  pending_ = 0;
  pinging_ = false;
  inType_ = 0;
}

// noclone, as poll() below, where it is inlined: 50 B less in MqttPublish.
__attribute__((noclone)) void EspAtMqtt::onPacket() {
  uint8_t type = highNibble(inType_);
  bool two = inLen_ == 2;
  inType_ = 0;  // (the next packet's first byte starts its length over)
  if (pending_ || pinging_) waitFrom_ = millis();  // the broker is there: the wait for the rest starts again
  if (type == kConnack && two && state_ == State::Connecting) {
    returnCode_ = (uint8_t)inHead_;
    if (returnCode_) {
      fail(Error::Refused);
    } else {
      state_ = State::Connected;
    }
  } else if (type == kPuback && two && pending_ == inHead_) {
    acked_ = pending_;
    pending_ = 0;
  } else if (type == kPingresp) {
    pinging_ = false;
  }  // anything else (a PUBACK for an id no longer waited for) is read and let go
}

// noclone: for a sketch with one global publisher, gcc would make a copy of poll() with the object's address built
// in, and each of its many field accesses then takes a 4-byte absolute load or store instead of a 2-byte one off
// the object pointer (about 90 B more in MqttPublish). No tail calls: each `return fail(...)` would get its own copy
// of the epilogue (14 B more).
__attribute__((noclone, optimize("no-optimize-sibling-calls"))) void EspAtMqtt::poll() {
  if (state_ == State::Disconnected) return;
  for (int c; (c = net().read()) >= 0;) {
    if (!inType_) {
      if (!c) return fail(Error::Protocol);  // type 0 is reserved
      inType_ = (uint8_t)c;
      inLen_ = kNoLength;
    } else if (inLen_ == kNoLength) {
      // What a publisher is sent (CONNACK, PUBACK, PINGRESP) is 0 or 2 bytes long: a length past one byte's 127 is
      // never one of those (it subscribes to nothing, so no PUBLISH comes).
      if (c & 0x80) return fail(Error::Protocol);
      inLen_ = inLeft_ = (uint8_t)c;
    } else {
      inLeft_--;
      inHead_ = inHead_ << 8 | (uint8_t)c;  // the last two bytes: a two-byte body's whole
    }
    if (inLen_ != kNoLength && !inLeft_) onPacket();
    if (state_ == State::Disconnected) return;
  }
  uint16_t now = millis();
  if ((state_ == State::Connecting || pending_ || pinging_) && (uint16_t)(now - waitFrom_) > timeoutMs_) {
    return fail(Error::Timeout);
  }
  if (!net().connected()) return fail(Error::Closed);  // after reading: a PUBACK may come just before the close
  if (state_ == State::Connected && keepAliveMs_ && !pinging_ &&
      (uint16_t)(now - lastSent_) >= keepAliveMs_) {
    begin(kPingreq, 0);
    if (!sendOut()) return;
    pinging_ = true;
    // A PINGREQ's times count from before it was written (sendOut() took them after).
    if (!pending_) waitFrom_ = now;
    lastSent_ = now;
  }
}
