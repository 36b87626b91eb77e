// The ESP-01 on UART0 (pins 0/1) for a sketch that uses that port for nothing else: a Stream with the 64-byte
// receive buffer HardwareSerial has, filled by the receive interrupt, and a transmitter that waits for the data
// register (87 us a byte at 115200). HardwareSerial's transmit buffer, its second interrupt and flush() are what
// a write-then-wait-for-the-answer driver never needs, and cost about 500 B of flash here.
// Include it from one source file only: it defines the receive interrupt (so the sketch cannot use Serial). The
// ESP-01 is then `espUart`: `EspAtDrv esp(espUart);` and `espUart.begin(115200);` in setup().
#pragma once
#include "EspAtIsr.h"
#include "EspAtRxStream.h"

class EspAtUartPort : public EspAtRxStream {
 public:
  void begin(uint32_t baud) {
    UCSR0A = _BV(U2X0);
    UBRR0 = (F_CPU / 4 / baud - 1) / 2;  // double speed, rounded as the core does
    UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);  // 8N1
    UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
  }
  // Waits after the byte rather than before it: the data register is empty from reset on the chip, but simavr
  // reports it empty only once a byte has gone through, and this order needs no first-byte flag for that.
  size_t write(uint8_t c) override {
    UDR0 = c;
    loop_until_bit_is_set(UCSR0A, UDRE0);
    return 1;
  }
  using Print::write;
};

EspAtUartPort espUart;

// The receive interrupt does what EspAtRxStream::received() does, in assembly: the compiler's version saved ten
// registers (r0 and r1 among them, 80 B in all), this one four and SREG (62 B; EspAtIsr.h).
struct EspAtRxRing {
  static_assert(EspAtRxStream::kSize == 64, "the wrap below is `andi 63`");
  // head_, then tail_, then buf_ (EspAtRxStream.h keeps them in that order, together).
  __attribute__((always_inline)) static volatile uint8_t* head() { return &espUart.head_; }
};
static_assert(sizeof(EspAtUartPort) == sizeof(Stream) + 2 + 64, "the ring's indexes and bytes, in one piece");
ISR(USART_RX_vect, ISR_NAKED) {
  __asm__ volatile(
      ESPAT_ISR_SAVE_R24_R25_Z
      "ldi r30, lo8(%[head])\n\t"
      "ldi r31, hi8(%[head])\n\t"
      "ld r24, Z\n\t"  // head_
      "ldd r25, Z+1\n\t"  // tail_
      "dec r25\n\t"
      "andi r25, 63\n\t"  // the ring is full when head_ is just before tail_
      "cp r24, r25\n\t"
      "lds r25, %[udr]\n\t"  // the byte, read even when it is lost (ld, lds and ldi leave the flags)
      "breq 1f\n\t"
      "add r30, r24\n\t"
      "brcc 2f\n\t"
      "inc r31\n\t"
      "2: std Z+2, r25\n\t"  // buf_[head_]
      "inc r24\n\t"
      "andi r24, 63\n\t"
      "sts %[head], r24\n\t"
      "1:\n\t" ESPAT_ISR_RESTORE_R24_R25_Z
      :
      : [head] "i"(EspAtRxRing::head()), [udr] "n"(_SFR_MEM_ADDR(UDR0)));
}
