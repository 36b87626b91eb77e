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

const __FlashStringHelper* flash(PGM_P p) { return reinterpret_cast<const __FlashStringHelper*>(p); }
const __FlashStringHelper* field(HaValue v, uint8_t which) {
  const char* const* entry = reinterpret_cast<const char* const*>(&kValues[(uint8_t)v]);
  return flash((PGM_P)pgm_read_word(entry + which));
}

}  // namespace

size_t HaConfigTopic::printTo(Print& out) const {
  out.print(F("homeassistant/sensor/"));
  out.print(flash(device_));
  out.print('_');
  out.print(field(value_, 0));
  out.print(F("/config"));
  return 0;  // nobody uses the count: the publisher counts with a Print of its own
}

size_t HaStateTopic::printTo(Print& out) const {
  out.print(F("espat/"));
  out.print(flash(device_));
  out.print(F("/reading"));
  return 0;
}

size_t HaConfigJson::printTo(Print& out) const {
  out.print(F("{\"name\":\""));
  out.print(field(value_, 1));
  out.print(F("\",\"unique_id\":\""));
  out.print(flash(device_));
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
  out.print(flash(device_));
  out.print(F("\"],\"name\":\""));
  out.print(flash(device_));
  out.print(F("\",\"manufacturer\":\"espat\",\"model\":\"Arduino Uno + ESP-01\"}}"));
  return 0;
}
