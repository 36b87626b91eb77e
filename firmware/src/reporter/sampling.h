// Both reporters' readings, from boot to the queue: the boot identity and the EEPROM queue recovered (or formatted)
// at power-up, the back-off level kept with them taken back, and a reading sampled and queued every interval.
#pragma once
#include "backoff.h"
#include "boot_identity.h"
#include "reading_queue.h"

// What the sketch defines, used here by name.
extern BootIdentity identity;
extern ReadingQueue queue;
extern Backoff backoff;

// At boot, before anything else touches the EEPROM: a blank EEPROM (a new board, or an upload through ISP) gets an
// empty queue before its first identity, so a cut while formatting simply formats again; the incarnation is drawn
// from ADC noise then. An outage does not end with a reset: the back-off goes on from the level kept. Then the
// 1.1 V reference starts settling for the first reading.
void beginReadings();
// Last in setup(): the first reading comes once the reference has settled, the next every ESPAT_INTERVAL_MS.
void startSampling();
// Every loop: samples and queues a reading when one is due.
void sampleIfDue();
