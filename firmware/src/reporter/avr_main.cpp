// The HTTP reporters' start and clock on the Uno (main.cpp is the sketch: setup() and loop()). The MQTT reporter
// builds the reporter's folder without this file (platformio.ini): it keeps the core's main() and clock.
#include <Arduino.h>
#include <EspAtIsr.h>

// The sketch's own main(), in place of the core's: the core's init() also sets up timers 1 and 2 for PWM and the
// ADC, none of which the reporter uses that way (sensors.cpp sets the ADC for each conversion). Only timer 0 is
// needed, exactly as init() sets it, for millis(); the USART is set by whichever port uses it.
// About 100 B. (The host-native tests bring their own main() and clock, tests/firmware/shim.)
#if defined(__AVR__)
// And its own clock, in place of wiring.c's (nothing else of wiring.c is used, so it is not linked at all):
// millis() exactly as the core counts it, 1 ms and 3/125 of one every overflow of timer 0 (1.024 ms), without
// the overflow count only micros() needs, which the reporter never calls. About 50 B and 4 B of RAM.
// The steps below are wiring.c's for 16 MHz (its MILLIS_INC and FRACT_INC follow F_CPU; these do not).
static_assert(F_CPU == 16000000UL, "the reporter's clock counts timer 0's overflows as 1.024 ms: a 16 MHz board");
namespace {
// The fraction first, then the count: the interrupt walks them with one pointer.
struct Clock {
  uint8_t fract;  // in 1/125 ms
  unsigned long ms;
};
volatile Clock clockNow;
static_assert(offsetof(Clock, ms) == 1, "the count right after the fraction");
}  // namespace
// In assembly: the compiler's version saved and restored nine registers for it (about 100 B in all). It adds 1
// ms, and 1 more when the fraction (3 more each time) passes 125 (EspAtIsr.h: what it saves). The five bytes
// through Z (ld/st, 2 B each) rather than each by its address (lds/sts, 4 B), for Z's saving and loading.
ISR(TIMER0_OVF_vect, ISR_NAKED) {
  __asm__ volatile(
      ESPAT_ISR_SAVE_R24_R25_Z
      "ldi r30, lo8(%[clock])\n\t"
      "ldi r31, hi8(%[clock])\n\t"
      "ld r24, Z\n\t"  // the fraction
      "subi r24, -3\n\t"
      "ldi r25, 1\n\t"  // the step, ms
      "cpi r24, 125\n\t"
      "brlo 1f\n\t"
      "subi r24, 125\n\t"
      "ldi r25, 2\n\t"
      "1: st Z+, r24\n\t"
      "ld r24, Z\n\t"
      "add r24, r25\n\t"
      "st Z+, r24\n\t"
      "ldi r25, 0\n\t"  // (ldi, ld and st leave the carry as it is)
      "ld r24, Z\n\t"
      "adc r24, r25\n\t"
      "st Z+, r24\n\t"
      "ld r24, Z\n\t"
      "adc r24, r25\n\t"
      "st Z+, r24\n\t"
      "ld r24, Z\n\t"
      "adc r24, r25\n\t"
      "st Z, r24\n\t" ESPAT_ISR_RESTORE_R24_R25_Z
      :
      : [clock] "i"(&clockNow));
}
unsigned long millis() {
  uint8_t sreg = SREG;
  cli();  // the ISR must not change it between two of its bytes
  unsigned long ms = clockNow.ms;
  SREG = sreg;
  return ms;
}

// OS_main: it never returns, so the registers a function must keep for its caller are not saved on the way in
// (the C runtime's start only calls it). It needs no stack frame either (setup and loop, inlined here, keep their
// scratch in globals), so nothing changes the stack pointer with interrupts on.
__attribute__((OS_main)) int main() {
  TCCR0A = _BV(WGM01) | _BV(WGM00);  // fast PWM: overflows every 256 ticks
  TCCR0B = _BV(CS01) | _BV(CS00);    // clock / 64: the overflow interrupt every 1.024 ms, as wiring.c expects
  TIMSK0 = _BV(TOIE0);
  sei();
  setup();
  for (;;) loop();
}
#endif
