// The HTTP reporters' start on the Uno, in place of avr-libc's (they link with -nostartfiles, through
// firmware/tools/pio_own_start.py): its vector table ends at the last vector they use, and its exit is four bytes.
// Everything avr-libc's start does still happens, in the same order: r1 and SREG cleared, the stack pointer set,
// .data copied and .bss cleared (libgcc's __do_copy_data and __do_clear_bss, .init4, linked because the code has
// those sections), the constructors run (libgcc's __do_global_ctors, .init6), main() called, and should it ever
// return, interrupts off and a loop (exit()'s end). An unused vector still goes to __bad_interrupt, which starts
// over at 0 as avr-libc's does.
// Built with avr-libc's start as well it cannot link: both define __vectors.
#if defined(__AVR__)
#include <avr/io.h>

// The last vector the reporter uses: USART_RX (18), the ESP's port, on pins 0/1; TIMER0_OVF (16), the clock, with
// the ESP on pins 2/3 (PCINT2, 5).
#if defined(ESPAT_REPORTER_HWSERIAL)
#define LAST_VECTOR 18
#else
#define LAST_VECTOR 16
#endif

    .section .vectors,"ax",@progbits
    .global __vectors
__vectors:
    jmp __init
    .irp n, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25
    .if \n <= LAST_VECTOR
    // An ISR defined in C takes the vector; else it goes to __bad_interrupt (weak, as avr-libc's table does).
    .weak __vector_\n
    .set __vector_\n, __bad_interrupt
    jmp __vector_\n
    .else
    // Past the table: an ISR for it would never run, so one defined anywhere fails to link (a second definition).
    .global __vector_\n
    .set __vector_\n, __bad_interrupt
    .endif
    .endr
__bad_interrupt:
    rjmp __vectors

    .section .init0,"ax",@progbits
    .weak __init
__init:
    clr r1
    out _SFR_IO_ADDR(SREG), r1
    ldi r28, lo8(RAMEND)
    ldi r29, hi8(RAMEND)
    out _SFR_IO_ADDR(SPH), r29
    out _SFR_IO_ADDR(SPL), r28

    .section .init9,"ax",@progbits
    call main
    // A pure virtual call stops here too, as the core's (abort()) would: the same end in four bytes.
    .global __cxa_pure_virtual
__cxa_pure_virtual:
    cli
1:  rjmp 1b
#endif
