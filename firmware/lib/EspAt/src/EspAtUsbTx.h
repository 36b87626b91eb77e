// Text out of the USB port (the Uno's UART0, 115200 baud) for sketches that never read it: each byte waits at most
// one byte time (87 us) for the data register. The core's HardwareSerial would bring its receive side, two
// interrupt handlers, ring buffers and flush -- about 600 B of flash and 150 B of RAM -- for output alone. Not in
// a sketch that uses Serial (the same UART), nor with the ESP-01 on pins 0/1.
#pragma once
#include <Arduino.h>

class EspAtUsbTx : public Print {
 public:
  void begin() {
    UCSR0A = _BV(U2X0);
    UBRR0 = (F_CPU / 4 / 115200 - 1) / 2;  // 115200 baud in double speed, computed as the core does
    UCSR0B = _BV(TXEN0);
  }
  // Waits after the byte rather than before it, as EspAtUartPort does: the data register is empty from reset on the
  // chip, but simavr reports it empty only once a byte has gone through, and this order needs no first-byte flag
  // (its byte of RAM and 12 B of flash) for that. The bytes go out at the same rate.
  size_t write(uint8_t c) override {
    UDR0 = c;
    loop_until_bit_is_set(UCSR0A, UDRE0);
    return 1;
  }
  using Print::write;
};
