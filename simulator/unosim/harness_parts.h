/* The pieces of the AVR harness beside uno_harness.c, each one idea with no state of the harness's own. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <simavr/sim_avr.h>

/* randomness.c: the run's randomness, from --seed (ADC noise, junk bytes), each its own stream */
void seed_randomness(uint64_t seed);
uint32_t noisy(uint32_t mv);        /* mv with -2..+2 mV of noise, triangular, never below 0 */
uint64_t junk_draw(void);

/* line_rates.c: two UARTs at different rates, as wire.py models it for the fake's own host side */
long uart0_baud(avr_t *avr);                        /* the rate UBRR0 and U2X0 give the ATmega's UART */
long tty_baud(int fd);                              /* the rate a terminal's client set (0: unknown) */
int rates_differ(long a, long b);                   /* more than 3 % apart: neither reads the other's bytes */
int set_junk_bytes(const char *hex);                /* the junk a mismatch makes (wire.py's); 0 when not hex */
/* the junk bytes one byte sent at `sender` baud makes at `receiver` baud; `owed` carries fractions between bytes */
unsigned junk_count(double *owed, long sender, long receiver);
uint8_t junk_byte(void);

/* esp_pins.c: the ESP-01's RST and CH_PD wired to Uno pins */
int wire_esp_pin(const char *name, int pin);        /* "rst" or "ch_pd" to pin 0..19; 0 when either is wrong */
void watch_esp_pins(avr_t *avr, FILE *out);         /* writes `esp-pin NAME 0|1` for each change of level */
