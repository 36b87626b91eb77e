// Home Assistant MQTT discovery: for each value of a reading, a config published retained on
// homeassistant/sensor/<device>_<value>/config, so Home Assistant shows the sensor without any configuration.
// Every config points at the one state topic the readings go to, espat/<device>/reading, and picks its value
// out of the reading's JSON with a value_template.
#pragma once
#include <Arduino.h>

// The values a reading carries, in the order of the configs.
enum class HaValue : uint8_t { A0, Chip, Vcc, Count };

// True when `text` can be an MQTT topic level and a discovery object id as it is: [A-Za-z0-9_-] only.
constexpr bool topicPlain(const char* text) {
  return *text == 0 || (((*text >= 'a' && *text <= 'z') || (*text >= 'A' && *text <= 'Z') ||
                         (*text >= '0' && *text <= '9') || *text == '_' || *text == '-') &&
                        topicPlain(text + 1));
}

// homeassistant/sensor/<device>_<value>/config
class HaConfigTopic : public Printable {
 public:
  HaConfigTopic(const __FlashStringHelper* device, HaValue value) : device_(device), value_(value) {}
  size_t printTo(Print& out) const override;

 private:
  const __FlashStringHelper* device_;
  HaValue value_;
};

// The config's JSON: name, unique_id, state_topic, value_template, unit, device_class, state_class, device.
class HaConfigJson : public Printable {
 public:
  HaConfigJson(const __FlashStringHelper* device, HaValue value) : device_(device), value_(value) {}
  size_t printTo(Print& out) const override;

 private:
  const __FlashStringHelper* device_;
  HaValue value_;
};

// espat/<device>/reading: where the readings go (QoS 1, not retained).
class HaStateTopic : public Printable {
 public:
  explicit HaStateTopic(const __FlashStringHelper* device) : device_(device) {}
  size_t printTo(Print& out) const override;

 private:
  const __FlashStringHelper* device_;
};
