// The three readings, taken straight from the ADC registers (analogRead cannot select the bandgap or the sensor),
// and the ADC noise the board's random incarnation id is made from.
#pragma once
#include "reading.h"

// Selects the 1.1 V reference, which readSensors() expects to have settled (the AREF capacitor takes several ms
// after a switch away from AVcc): call it at boot, some 50 ms before the first readSensors().
void settleReference();
void readSensors(Reading& r);
// 32 bits mixed from the temperature sensor's and A0's noisy low bits and Timer0's count as each conversion ends.
uint32_t noiseBits();
