/* The ESP-01's RST and CH_PD pins wired to Uno pins (--esp-rst, --esp-ch-pd). A pin is low only while the sketch
   drives it low (an output at 0); as an input the module's 10 kOhm pull-up holds it high, and a sketch never
   drives it high into the 3.3 V module (firmware/README.md). Each change of level goes out as `esp-pin NAME 0|1`,
   and the fake module is held in reset or booted by it (unosim/fakewires.py). */
#include <string.h>

#include "harness_parts.h"

static const char *const names[2] = {"rst", "ch_pd"};
static int pins[2] = {-1, -1};      /* Arduino pin numbers: 0-7 PORTD, 8-13 PORTB, 14-19 PORTC (A0-A5) */
static int levels[2] = {1, 1};

int wire_esp_pin(const char *name, int pin) {
    for (int i = 0; i < 2; i++) {
        if (strcmp(name, names[i]) == 0 && pin >= 0 && pin <= 19) {
            pins[i] = pin;
            return 1;
        }
    }
    return 0;
}

static int pin_level(avr_t *avr, int pin) {
    static const uint8_t ddr[3] = {0x2A, 0x24, 0x27}, port[3] = {0x2B, 0x25, 0x28};   /* D, B, C */
    int bank = pin < 8 ? 0 : pin < 14 ? 1 : 2, bit = pin < 8 ? pin : pin < 14 ? pin - 8 : pin - 14;
    int output = avr->data[ddr[bank]] >> bit & 1, high = avr->data[port[bank]] >> bit & 1;
    return !output || high;
}

void watch_esp_pins(avr_t *avr, FILE *out) {
    for (int i = 0; i < 2; i++) {
        if (pins[i] < 0) continue;
        int level = pin_level(avr, pins[i]);
        if (level == levels[i]) continue;
        levels[i] = level;
        fprintf(out, "esp-pin %s %d\n", names[i], level);
        fflush(out);
    }
}
