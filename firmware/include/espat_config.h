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

// The ATmega328P's bandgap in mV: 1.1 V nominal, 1.0 to 1.2 V from chip to chip. Vcc, the LM35 and the chip's
// sensor are all measured against it, so one measured value (the voltage at AREF while the 1.1 V reference is
// selected, or a known Vcc times the bandgap reading / 1023) calibrates all three.
#ifndef ESPAT_BANDGAP_MV
#define ESPAT_BANDGAP_MV 1100
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

// A flash string: the build flag when it is non-empty, else the header's value. The condition is a constant,
// so the string not chosen is never referenced and the linker drops it.
#define ESPAT_PICK(name) (sizeof(ESPAT_ENV_##name) > 1 ? PSTR(ESPAT_ENV_##name) : PSTR(ESPAT_##name))
// The chosen value as a literal's text, for compile-time checks: ESPAT_CHOSEN(DEVICE)[0] and the like.
#define ESPAT_CHOSEN(name) (sizeof(ESPAT_ENV_##name) > 1 ? ESPAT_ENV_##name : ESPAT_##name)
