// The ESP-01 on UART0 (pins 0/1) for a sketch that uses that port for nothing else: a Stream with the 64-byte
// receive buffer HardwareSerial has, filled by the receive interrupt, and a transmitter that waits for the data
// register (87 us a byte at 115200). HardwareSerial's transmit buffer, its second interrupt and flush() are what
// a write-then-wait-for-the-answer driver never needs, and cost about 500 B of flash here.
// Include it from one source file only: it defines the receive interrupt (so the sketch cannot use Serial). The
// ESP-01 is then `espUart`: `EspAtDrv esp(espUart);` and `espUart.begin(115200);` in setup().
#pragma once
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
ISR(USART_RX_vect) {
  uint8_t c = UDR0;
  espUart.received(c);
}
