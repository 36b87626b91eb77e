#include <Arduino.h>

#include "sensors.h"

namespace {

// One conversion after the channel and reference settle; the first result after a switch is discarded.
uint16_t convert(uint8_t admux) {
  ADMUX = admux;
  ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);  // 125 kHz ADC clock at 16 MHz
  delayMicroseconds(500);  // bandgap/reference settling, datasheet 24.5
  uint16_t value = 0;
  for (uint8_t i = 0; i < 2; i++) {
    ADCSRA |= _BV(ADSC);
    while (ADCSRA & _BV(ADSC)) {
    }
    value = ADC;
  }
  return value;
}

}  // namespace

void readSensors(Reading& r) {
  // Vcc: the 1.1 V bandgap measured against AVcc.
  uint16_t band = convert(_BV(REFS0) | 0x0E);
  r.vccMv = band ? (uint16_t)(1125300UL / band) : 0;
  // LM35: 10 mV per °C, so its millivolts are tenths of a degree; scaled by the measured Vcc.
  r.a0Tenths = (int16_t)((uint32_t)convert(_BV(REFS0)) * r.vccMv / 1024);
  // Internal sensor against the 1.1 V reference: about 1 mV per °C, 314 mV at 25 °C (datasheet 24.8).
  r.chipTenths = (int16_t)((int32_t)convert(_BV(REFS1) | _BV(REFS0) | 0x08) * 11000 / 1024 - 2890);
}
