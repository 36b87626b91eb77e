// The driver's knobs, each with its default; define one before including EspAt.h (or as a build flag) to change it.
#pragma once

// Longest line kept for parsing; longer lines are cut (nothing we act on is that long, and of AT+GMR's version line
// only the first 12 characters matter).
#ifndef ESPAT_LINE_MAX
#define ESPAT_LINE_MAX 20
#endif

// Received payload bytes kept for read(); more are counted in rxOverflow(), never written.
#ifndef ESPAT_RX_MAX
#define ESPAT_RX_MAX 16
#endif

// The longest +IPD (or +CIPRECVDATA) payload the AT firmware sends: one TCP segment (MSS 1460) per +IPD, at most
// 2048 bytes per CIPRECVDATA. A longer length is a damaged header: it is skipped like garbage, never counted down.
#ifndef ESPAT_IPD_MAX
#define ESPAT_IPD_MAX 2048
#endif

// The whole of one HTTP exchange, ms. Each step also has its own bound (the reply's is extended while bytes keep
// arriving, so a long answer at 9600 baud is not cut); this one ends a server that trickles forever.
#ifndef ESPAT_HTTP_MAX_MS
#define ESPAT_HTTP_MAX_MS 120000UL
#endif

// An Uno pin wired to the ESP-01's RST (or CH_PD): startReset(true) pulls it low for 100 ms, then lets it go
// (high impedance; the module's own 10 kOhm pull-up to 3.3 V raises it, the Uno never drives 5 V into it).
// -1: no pin wired, and the hardware reset compiles to nothing.
#ifndef ESPAT_RESET_PIN
#define ESPAT_RESET_PIN -1
#endif

// 1: a status-only exchange (keepBody false) leaves its link open when the server allows it (HTTP/1.1 keep-alive)
// and the next one on the same link id reuses it: no CIPSTART, CONNECT or CLOSED per request, about 100 fewer bytes
// on the wire each. It reads the answer's Content-Length to know where the answer ends, for about 400 B of flash.
#ifndef ESPAT_KEEP_ALIVE
#define ESPAT_KEEP_ALIVE 0
#endif

// 1: sync also turns on passive receive (AT+CIPRECVMODE=1; ignored where the firmware lacks it): the module keeps
// what the server sends until the driver asks for it with AT+CIPRECVDATA, never more than read() has room for, so
// a slow sketch cannot overrun the serial port's 64-byte buffer. Costs flash and a command per chunk; not combined
// with ESPAT_KEEP_ALIVE (a kept link waits for its answer's end in active mode only).
#ifndef ESPAT_PASSIVE_RX
#define ESPAT_PASSIVE_RX 0
#endif

// Define ESPAT_DEBUG as a Print (-DESPAT_DEBUG=Serial) to trace the module's lines and the driver's steps on it;
// undefined, the driver prints nothing and the tracing compiles to nothing.
