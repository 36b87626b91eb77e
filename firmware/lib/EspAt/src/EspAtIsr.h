// The first and last instructions of an interrupt handler written in assembly (ISR_NAKED) that works in r24, r25
// and Z (r30/r31): those four saved, and SREG through r24, on the stack. r1 is not taken as zero: the interrupt
// may come in the middle of a multiply, which uses it. (The UART0 port's receive interrupt, the reporters' clock.)
#pragma once

#define ESPAT_ISR_SAVE_R24_R25_Z \
  "push r24\n\t"                 \
  "in r24, __SREG__\n\t"         \
  "push r24\n\t"                 \
  "push r25\n\t"                 \
  "push r30\n\t"                 \
  "push r31\n\t"

#define ESPAT_ISR_RESTORE_R24_R25_Z \
  "pop r31\n\t"                     \
  "pop r30\n\t"                     \
  "pop r25\n\t"                     \
  "pop r24\n\t"                     \
  "out __SREG__, r24\n\t"           \
  "pop r24\n\t"                     \
  "reti"
