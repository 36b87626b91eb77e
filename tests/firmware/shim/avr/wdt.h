// Host watchdog: wdt_enable arms it, wdt_reset feeds it, and a loop that starves it for the period kills the
// process with exit status 86 and a line on stderr, where the real chip would reset. Tests treat that as a hang.
#pragma once
#include <stdint.h>

enum { WDTO_15MS, WDTO_30MS, WDTO_60MS, WDTO_120MS, WDTO_250MS, WDTO_500MS, WDTO_1S, WDTO_2S, WDTO_4S, WDTO_8S };

void wdt_enable(uint8_t period);
void wdt_reset();
void wdt_disable();
