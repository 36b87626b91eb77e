// With -mcall-prologues gcc saves and restores a function's call-saved registers through one shared routine
// (__prologue_saves__, 12-14 B a function) only when those registers run unbroken up to r17, then Y (r28/r29);
// where its allocation leaves a gap, it pushes and pops each register (4 B each). REPORTER_SAVED(...) names the
// gap's registers as used, so the run is whole and the shared routine saves them. Measured per function on the
// HTTP reporters, which alone use it (in reporter_mqtt these functions are inlined where Y is the frame pointer,
// which an asm statement cannot name): what the allocator leaves free moves with the code, so check the push/pop
// sequences (avr-objdump -d) after changes.
#pragma once

#if defined(__AVR__) && (defined(ESPAT_REPORTER_HWSERIAL) || defined(ESPAT_REPORTER_SOFTSERIAL))
#define REPORTER_SAVED(...) __asm__ volatile("" ::: __VA_ARGS__)
#else
#define REPORTER_SAVED(...) ((void)0)
#endif
