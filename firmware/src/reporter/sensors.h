// The three readings, taken straight from the ADC registers (analogRead cannot select the bandgap or the sensor).
#pragma once
#include "reading.h"

void readSensors(Reading& r);
