/* The run's randomness, seeded by --seed so a run repeats: an ADC's noise (a board's readings scatter by a step or
   two, from supply ripple and reference noise) and the junk bytes of a mismatched line, each its own stream so
   junk on the USB port never changes the noise the sketch reads. */
#include "harness_parts.h"

static uint64_t noise_state, junk_state;

/* splitmix64 (Steele, Lea, Flood 2014): one 64-bit draw, the state advanced */
static uint64_t splitmix(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void seed_randomness(uint64_t seed) {
    noise_state = seed;
    junk_state = seed ^ 0x5EEDULL;
}

uint32_t noisy(uint32_t mv) {
    uint64_t r = splitmix(&noise_state);
    int n = (int)(r % 3) + (int)((r >> 32) % 3) - 2;    /* the sum of two draws of -1..+1 */
    return n < 0 && mv < (uint32_t)-n ? 0 : (uint32_t)((int64_t)mv + n);
}

uint64_t junk_draw(void) { return splitmix(&junk_state); }
