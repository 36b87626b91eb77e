#include <Arduino.h>
#if defined(__AVR__)
#include <util/delay.h>
#endif

#include <EspAtDecimal.h>

#include "espat_config.h"
#include "saved_regs.h"
#include "sensors.h"

namespace {

const uint8_t kInternal11 = _BV(REFS1) | _BV(REFS0), kAvcc = _BV(REFS0);
const uint8_t kA0 = 0x00, kChipSensor = 0x08, kBandgap = 0x0E;

uint16_t convertOnce() {
  ADCSRA |= _BV(ADSC);
  while (ADCSRA & _BV(ADSC)) {
  }
  return ADC;
}

// One conversion after the channel settles; the first result after a switch is discarded.
uint16_t convert(uint8_t admux) {
  ADMUX = admux;
  ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);  // 125 kHz ADC clock at 16 MHz
  // The bandgap channel's settling time (ATmega328P datasheet, "Bandgap reference"). On the board a delay loop
  // counted at compile time: the core's delayMicroseconds() would bring in wiring.c, whose clock the HTTP
  // reporter replaces with its own (main.cpp).
#if defined(__AVR__)
  _delay_us(500);
#else
  delayMicroseconds(500);
#endif
  convertOnce();
  return convertOnce();
}

}  // namespace

void settleReference() { convert(kInternal11 | kChipSensor); }

void readSensors(Sample& s) {
  // A0 and the sensor against the 1.1 V reference, selected since the last reading: the AREF capacitor has long
  // settled. Vcc last: the bandgap measured against AVcc (switching to AVcc settles at once: AVcc drives AREF).
  // In the sample's order (kA0, kChip, kBand), by one loop: each result's top two bits come in at bits 4-5 and
  // move down two per later result, so the first ends in bits 0-1 (a result is 10 bits: bits 6-7 stay clear).
  static_assert(Sample::kA0 == 0 && Sample::kChip == 1 && Sample::kBand == 2, "the channels in the sample's order");
  static_assert((kInternal11 | kA0) + 8 == (kInternal11 | kChipSensor), "A0's channel, then the sensor's");
  uint8_t tops = 0;
  for (uint8_t i = 0; i < 3; i++) {
    uint16_t v = convert(i == 2 ? kAvcc | kBandgap : (kInternal11 | kA0) + 8 * i);
    s.low[i] = (uint8_t)v;
    tops = (uint8_t)(tops >> 2 | (v >> 8) << 4);
  }
  s.tops = tops;
  // Back to 1.1 V, to settle until the next reading.
  ADMUX = kInternal11 | kChipSensor;
}

// LM35: 10 mV per °C, so its millivolts are tenths of a degree; about 1.07 mV per step against 1.1 V.
// Internal sensor: about 1 mV per °C, 314 mV at 25 °C (datasheet, "Temperature Measurement").
// One scaling for both: a product below 2^24 and never negative, so the shift is the division by 1024.
static_assert(ESPAT_BANDGAP_MV * 10L <= 0xFFFF, "ESPAT_BANDGAP_MV: the chip sensor's scale must fit 16 bits");
int16_t degreeTenths(uint16_t raw, bool chip) {
  uint16_t scale = chip ? ESPAT_BANDGAP_MV * 10 : ESPAT_BANDGAP_MV;
  // >> 10 as a byte move and two 16-bit shifts (the product's >> 8 fits 16 bits), not ten 32-bit shifts.
  return (int16_t)((uint16_t)((uint32_t)raw * scale >> 8) >> 2) - (chip ? 2890 : 0);
}
// (The division EspAtDecimal.h's writer brings, where the HTTP reporters build it.)
uint16_t vccMv(uint16_t band) { return band ? (uint16_t)espatDivide(ESPAT_BANDGAP_MV * 1023UL, band) : 0; }

uint32_t noiseBits() {
  REPORTER_SAVED("r16", "r17", "r29");  // r12-r15 and r28 are used (saved_regs.h)
  // The 16-bit mix goes into the low half only (as a union's member): the XOR of the high half with zeros is
  // not computed.
  union {
    uint32_t v;
    uint16_t low;  // the low half on a little-endian machine (the board's and the host's)
  } n = {0};
  for (uint8_t i = 0; i < 64; i++) {
    uint16_t mix = convert(kInternal11 | (i & 1 ? kA0 : kChipSensor)) ^ (uint16_t)TCNT0 << 8;
    n.v = n.v << 1 | n.v >> 31;
    n.low ^= mix;
  }
  return n.v;
}
