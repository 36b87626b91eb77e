// The three readings, taken straight from the ADC registers (analogRead cannot select the bandgap or the sensor),
// kept as the ADC gave them, and the ADC noise the board's random incarnation id is made from.
#pragma once
#include "reading_queue.h"

// Selects the 1.1 V reference, which readSensors() expects to have settled (the AREF capacitor takes several ms
// after a switch away from AVcc): call it at boot, some 50 ms before the first readSensors().
void settleReference();
// The raw results (uptimeMs is left to the caller).
void readSensors(Sample& s);
// 32 bits mixed from the temperature sensor's and A0's noisy low bits and Timer0's count as each conversion ends.
uint32_t noiseBits();

// The sample's numbers as the JSON gives them, from their ADC results (Sample::adc(Sample::kA0), kChip, kBand):
// LM35 and chip temperature in 0.1 °C, Vcc in mV.
int16_t degreeTenths(uint16_t raw, bool chip);  // chip: the chip's sensor, else the LM35 on A0
uint16_t vccMv(uint16_t band);
