// Where the sketches' settings come from, in order: a non-empty ESPAT_ENV_* from the generated espat_settings.h
// (platformio.ini's extra script writes it from the environment variables ESPAT_*, byte for byte, C-escaped),
// then secrets.h (git-ignored, see secrets.h.example), then the defaults below. Every value is a string literal
// so it can live in flash; ESPAT_PICK keeps only the chosen one.
#pragma once
#include <avr/pgmspace.h>

#if defined(__has_include)
#if __has_include("espat_settings.h")
#include "espat_settings.h"
#endif
#endif

#if defined(__has_include)
#if __has_include("secrets.h")
#include "secrets.h"
#endif
#endif

#ifndef ESPAT_WIFI_SSID
#define ESPAT_WIFI_SSID "HomeNet"
#endif
#ifndef ESPAT_WIFI_PASS
#define ESPAT_WIFI_PASS "s3cr3t"
#endif
#ifndef ESPAT_SERVER_HOST
#define ESPAT_SERVER_HOST "example.com"
#endif
#ifndef ESPAT_SERVER_PORT
#define ESPAT_SERVER_PORT "80"
#endif
#ifndef ESPAT_SERVER_PATH
#define ESPAT_SERVER_PATH "/api/readings"
#endif
#ifndef ESPAT_DEVICE
#define ESPAT_DEVICE "uno-1"
#endif
#ifndef ESPAT_INTERVAL_MS
#define ESPAT_INTERVAL_MS "60000"
#endif
// Non-empty: every POST carries `Authorization: Bearer <token>`.
#ifndef ESPAT_TOKEN
#define ESPAT_TOKEN ""
#endif

// reporter_mqtt: the broker's user name and password (empty: connect without).
#ifndef ESPAT_MQTT_USER
#define ESPAT_MQTT_USER ""
#endif
#ifndef ESPAT_MQTT_PASS
#define ESPAT_MQTT_PASS ""
#endif

// The ATmega328P's bandgap in mV: 1.1 V nominal, 1.0 to 1.2 V from chip to chip. Vcc, the LM35 and the chip's
// sensor are all measured against it, so one measured value (the voltage at AREF while the 1.1 V reference is
// selected, or a known Vcc times the bandgap reading / 1023) calibrates all three.
#ifndef ESPAT_BANDGAP_MV
#define ESPAT_BANDGAP_MV 1100
#endif

// How long the server may take to answer a reading (and each further byte of the answer), ms. A cold serverless
// function or a busy Home Assistant can take over 10 s; an answer later than this counts as a failure and the
// reading is backed off and sent again.
#ifndef ESPAT_REPLY_MS
#define ESPAT_REPLY_MS 15000
#endif
static_assert(ESPAT_REPLY_MS >= 1000 && ESPAT_REPLY_MS <= 65535, "ESPAT_REPLY_MS: 1000 to 65535 ms");

// The driver's settings the sketches pass on at run time (EspAtDrv::setResetPin, setPassiveReceive;
// EspAtHttpRequest::keepAlive): a wired reset pin (-1: none), passive receive, HTTP keep-alive.
#ifndef ESPAT_RESET_PIN
#define ESPAT_RESET_PIN -1
#endif
#ifndef ESPAT_PASSIVE_RX
#define ESPAT_PASSIVE_RX 0
#endif
#ifndef ESPAT_KEEP_ALIVE
#define ESPAT_KEEP_ALIVE 0
#endif

// The Arduino IDE runs no extra script: without the generated header, treat them as empty.
#ifndef ESPAT_ENV_WIFI_SSID
#define ESPAT_ENV_WIFI_SSID ""
#endif
#ifndef ESPAT_ENV_WIFI_PASS
#define ESPAT_ENV_WIFI_PASS ""
#endif
#ifndef ESPAT_ENV_SERVER_HOST
#define ESPAT_ENV_SERVER_HOST ""
#endif
#ifndef ESPAT_ENV_SERVER_PORT
#define ESPAT_ENV_SERVER_PORT ""
#endif
#ifndef ESPAT_ENV_SERVER_PATH
#define ESPAT_ENV_SERVER_PATH ""
#endif
#ifndef ESPAT_ENV_DEVICE
#define ESPAT_ENV_DEVICE ""
#endif
#ifndef ESPAT_ENV_INTERVAL_MS
#define ESPAT_ENV_INTERVAL_MS ""
#endif
#ifndef ESPAT_ENV_TOKEN
#define ESPAT_ENV_TOKEN ""
#endif
#ifndef ESPAT_ENV_MQTT_USER
#define ESPAT_ENV_MQTT_USER ""
#endif
#ifndef ESPAT_ENV_MQTT_PASS
#define ESPAT_ENV_MQTT_PASS ""
#endif

// A flash string, typed as F() is: the build flag when it is non-empty, else the header's value. The condition is
// a constant, so the string not chosen is never referenced and the linker drops it.
#define ESPAT_PICK(name)                                                                                \
  reinterpret_cast<const __FlashStringHelper*>(sizeof(ESPAT_ENV_##name) > 1 ? PSTR(ESPAT_ENV_##name) \
                                                                              : PSTR(ESPAT_##name))
// The chosen value as a literal's text, for compile-time checks: ESPAT_CHOSEN(DEVICE)[0] and the like.
#define ESPAT_CHOSEN(name) (sizeof(ESPAT_ENV_##name) > 1 ? ESPAT_ENV_##name : ESPAT_##name)

// The server's port, a number read from its decimal text at compile time; a port that is not 1..65535 stops the
// build.
constexpr long espatPortNumber(const char* text, long v = 0) {
  return *text == 0 ? v : *text >= '0' && *text <= '9' && v < 65536 ? espatPortNumber(text + 1, v * 10 + (*text - '0'))
                                                                     : -1;
}
// A constant, so the compiler computes it: the constexpr call in an ordinary assignment was compiled as a run-time
// parse of the text (about 80 B of flash in each sketch).
constexpr uint16_t kEspatServerPort = (uint16_t)espatPortNumber(ESPAT_CHOSEN(SERVER_PORT));
#define ESPAT_SERVER_PORT_NUMBER kEspatServerPort
static_assert(espatPortNumber(ESPAT_CHOSEN(SERVER_PORT)) >= 1 && espatPortNumber(ESPAT_CHOSEN(SERVER_PORT)) <= 65535,
              "ESPAT_SERVER_PORT must be a number from 1 to 65535");

// The server's host, as settings_header.py checks it in the environment: a host name or IPv4 address of 1 to 64
// letters, digits, '.', '-' or '_'. secrets.h and the default are checked here, so a `"` or `,` there (which would end
// AT+CIPSTART's quoted argument early) stops the build instead of sending a command the module refuses.
constexpr bool espatHostAllowed(const char* s, int n = 0) {
  return *s == 0 ? n >= 1 && n <= 64
                 : ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
                    *s == '-' || *s == '_') && n < 64 && espatHostAllowed(s + 1, n + 1);
}
static_assert(espatHostAllowed(ESPAT_CHOSEN(SERVER_HOST)),
              "ESPAT_SERVER_HOST: a host name or IPv4 address of at most 64 letters, digits, '.', '-' or '_'");
