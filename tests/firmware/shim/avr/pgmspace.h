// Host stand-in for avr-libc's pgmspace.h: on a PC flash and RAM are one address space, so the _P functions are the
// plain ones and PROGMEM means nothing.
#pragma once
#include <stdint.h>
#include <string.h>

#define PROGMEM
#define PGM_P const char*
#define PSTR(s) (s)
#define pgm_read_byte(p) (*(const uint8_t*)(p))
#define pgm_read_word(p) (*(const uint16_t*)(p))
#define memcmp_P memcmp
#define memcpy_P memcpy
#define strlen_P strlen
#define strcmp_P strcmp
#define strncmp_P strncmp
