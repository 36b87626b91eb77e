// EspAt: an ESP-01 (ESP8266, Espressif's AT firmware 1.7 or 2.x) on an Arduino. Include this one header.
//   EspAtDrv           the driver, the only part that speaks AT (non-blocking; the reporter uses it directly)
//   EspAtClient        an Arduino Client (TCP) over it, for any library written for WiFiClient/EthernetClient
//   EspAtUDP           an Arduino UDP over it (NTP and the like)
//   EspAtHttp          HTTP/1.1 GET/POST on any Client (blocking, bounded)
//   EspAtHttpRequest / EspAtHttpReply / EspAtHttpExchange   HTTP/1.1 without blocking, on the driver
#pragma once
#include "EspAtDrv.h"
#include "EspAtHttpExchange.h"
#if ESPAT_CLIENTS
#include "EspAtBlocking.h"
#endif
#if ESPAT_CLIENTS && ESPAT_RAM_STRINGS
#include "EspAtClient.h"
#include "EspAtHttp.h"
#include "EspAtUdp.h"
#endif
