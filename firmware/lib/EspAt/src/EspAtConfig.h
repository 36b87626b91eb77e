// The driver's knobs, each with its default. None of them changes the layout of a class, so a sketch that sets one
// and a library compiled without it (as the Arduino IDE compiles libraries) still agree on every object.
#pragma once

// The longest +IPD (or +CIPRECVDATA) payload the AT firmware sends: one TCP segment (MSS 1460) per +IPD, at most
// 2048 bytes per CIPRECVDATA. A longer length is a damaged header: it is skipped like garbage, never counted down.
#ifndef ESPAT_IPD_MAX
#define ESPAT_IPD_MAX 2048
#endif

// The whole of one exchange (startExchange), ms. Each step also has its own bound (the answer's is extended while
// bytes keep arriving, so a long answer at 9600 baud is not cut); this one ends a server that trickles forever.
#ifndef ESPAT_EXCHANGE_MAX_MS
#define ESPAT_EXCHANGE_MAX_MS 120000UL
#endif
static_assert(ESPAT_EXCHANGE_MAX_MS >= 256 && ESPAT_EXCHANGE_MAX_MS / 256 < 65536UL,
              "ESPAT_EXCHANGE_MAX_MS is kept in 256 ms steps, 16 bits");

// Define ESPAT_DEBUG as a Print (-DESPAT_DEBUG=Serial) to trace the module's lines and the driver's steps on it;
// undefined, the driver prints nothing and the tracing compiles to nothing.

// The two knobs that change what the library is made of. A sketch and the library must be built with the same
// values (PlatformIO's build_flags reach both; the Arduino IDE builds the library with these defaults): the
// driver's constructor names a symbol made of them, ESPAT_LAYOUT_TAG, which only the library's EspAtDrv.cpp
// defines, so a sketch built with other values fails to link ("undefined reference to espat_layout_...").
//
// ESPAT_CLIENTS 1: the parts EspAtClient and EspAtUDP stand on -- links opened, written, read and closed one by
// one, several at once, UDP, passive receive (AT+CIPRECVMODE=1). 0: the driver only runs exchanges
// (startExchange) on one link at a time, about 500 B of flash less (the reporters).
#ifndef ESPAT_CLIENTS
#define ESPAT_CLIENTS 1
#endif
// ESPAT_RAM_STRINGS 1: string arguments may be RAM strings or F() strings (EspStr). 0: F() strings only -- a RAM
// string does not compile -- for a little less flash.
#ifndef ESPAT_RAM_STRINGS
#define ESPAT_RAM_STRINGS 1
#endif

#define ESPAT_LAYOUT_CAT2(a, b, c) espat_layout_clients##a##_ram##b##_v##c
#define ESPAT_LAYOUT_CAT(a, b, c) ESPAT_LAYOUT_CAT2(a, b, c)
#define ESPAT_LAYOUT_TAG ESPAT_LAYOUT_CAT(ESPAT_CLIENTS, ESPAT_RAM_STRINGS, 1)
extern "C" const char ESPAT_LAYOUT_TAG;
