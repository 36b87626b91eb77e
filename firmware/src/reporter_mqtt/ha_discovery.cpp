#include "ha_discovery.h"

namespace {

// Per value: its key in the reading's "readings" object, its name in Home Assistant, unit, device class.
struct ValueInfo {
  const char* key;
  const char* name;
  const char* unit;
  const char* deviceClass;
};
const char kA0[] PROGMEM = "a0_c";
const char kA0Name[] PROGMEM = "A0 temperature";
const char kChip[] PROGMEM = "chip_c";
const char kChipName[] PROGMEM = "Chip temperature";
const char kVcc[] PROGMEM = "vcc_mv";
const char kVccName[] PROGMEM = "Supply";
const char kCelsius[] PROGMEM = "\xC2\xB0" "C";  // °C in UTF-8
const char kMillivolt[] PROGMEM = "mV";
const char kTemperature[] PROGMEM = "temperature";
const char kVoltage[] PROGMEM = "voltage";
const ValueInfo kValues[] PROGMEM = {
    {kA0, kA0Name, kCelsius, kTemperature},
    {kChip, kChipName, kCelsius, kTemperature},
    {kVcc, kVccName, kMillivolt, kVoltage},
};
static_assert(sizeof kValues / sizeof kValues[0] == (uint8_t)HaValue::Count, "one entry per HaValue");

// One of a value's strings: 0 key, 1 name, 2 unit, 3 device class. The entry is copied out of flash whole
// (memcpy_P), which reads pointers of any width.
const __FlashStringHelper* field(HaValue v, uint8_t which) {
  ValueInfo info;
  memcpy_P(&info, &kValues[(uint8_t)v], sizeof info);
  const char* texts[] = {info.key, info.name, info.unit, info.deviceClass};
  return reinterpret_cast<const __FlashStringHelper*>(texts[which]);
}

}  // namespace

size_t HaConfigTopic::printTo(Print& out) const {
  out.print(F("homeassistant/sensor/"));
  out.print(device_);
  out.print('_');
  out.print(field(value_, 0));
  out.print(F("/config"));
  return 0;  // nobody uses the count: the publisher counts with a Print of its own
}

size_t HaStateTopic::printTo(Print& out) const {
  out.print(F("espat/"));
  out.print(device_);
  out.print(F("/reading"));
  return 0;
}

size_t HaConfigJson::printTo(Print& out) const {
  out.print(F("{\"name\":\""));
  out.print(field(value_, 1));
  out.print(F("\",\"unique_id\":\""));
  out.print(device_);
  out.print('_');
  out.print(field(value_, 0));
  out.print(F("\",\"state_topic\":\""));
  HaStateTopic(device_).printTo(out);
  out.print(F("\",\"value_template\":\"{{ value_json.readings."));
  out.print(field(value_, 0));
  out.print(F(" }}\",\"unit_of_measurement\":\""));
  out.print(field(value_, 2));
  out.print(F("\",\"device_class\":\""));
  out.print(field(value_, 3));
  out.print(F("\",\"state_class\":\"measurement\",\"device\":{\"identifiers\":[\"espat_"));
  out.print(device_);
  out.print(F("\"],\"name\":\""));
  out.print(device_);
  out.print(F("\",\"manufacturer\":\"espat\",\"model\":\"Arduino Uno + ESP-01\"}}"));
  return 0;
}
