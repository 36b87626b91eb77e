/* Free SRAM by stack painting (--paint-from, the `ram` control line): at each reset every byte from the first free
   one (__heap_start) to the top of SRAM is painted; those still holding the paint were never touched since, by a
   variable or by the deepest stack the sketch reached. */
#include <string.h>

#include "uno.h"

#define PAINT 0xA5

long paint_from = 0;

void paint_stack(void) {
    if (paint_from) memset(avr->data + paint_from, PAINT, avr->ramend + 1 - paint_from);
}

long free_ram(void) {
    long a = paint_from;
    while (a <= (long)avr->ramend && avr->data[a] == PAINT) a++;
    return a - paint_from;
}
