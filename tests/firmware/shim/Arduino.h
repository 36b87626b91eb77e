// A small Arduino core for the host: enough of Print, Stream, Serial, timing, pins and the ADC registers to compile
// the EspAt library and the sketches with g++ and run them against the fake ESP-01. The serial ports are sockets
// (see shim.cpp); time is the host's monotonic clock times ESPAT_SHIM_CLOCK_SCALE.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "avr/pgmspace.h"

typedef uint8_t byte;
typedef bool boolean;

#define HIGH 1
#define LOW 0
#define INPUT 0
#define OUTPUT 1
#define LED_BUILTIN 13
#define _BV(bit) (1 << (bit))

unsigned long millis();
unsigned long micros();
void delay(unsigned long ms);
// Called while a blocking wait goes on (the core's delay() and the library's waits); a sketch may define its own.
void yield();
void delayMicroseconds(unsigned int us);
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t value);
int digitalRead(uint8_t pin);
// For tests: the pins' last mode and level, and moving the clock on without waiting.
extern uint8_t shimPinMode[20], shimPinLevel[20];
void shimAdvanceMs(unsigned long ms);

// Registers the sketches touch. The ADC converts as soon as ADSC is set, from the inputs the test chose
// (ESPAT_SHIM_A0_MV, ESPAT_SHIM_TEMP_MV, ESPAT_SHIM_VCC_MV), as the 328P would with that ADMUX.
enum { ADPS0 = 0, ADPS1, ADPS2, ADIE, ADIF, ADATE, ADSC, ADEN };
enum { MUX0 = 0, ADLAR = 5, REFS0 = 6, REFS1 = 7 };
struct AdcControl {
  uint8_t bits = 0;
  AdcControl& operator=(uint8_t v);
  AdcControl& operator|=(uint8_t v) { return *this = (uint8_t)(bits | v); }
  operator uint8_t() const { return bits; }
};
// ADMUX remembers when the reference last changed: the AREF capacitor takes several ms to fall from AVcc to 1.1 V,
// and a conversion before that reads as if the reference were still AVcc (low), as on the board.
struct AdcMux {
  uint8_t bits = 0;
  unsigned long refChangedMs = 0;
  AdcMux& operator=(uint8_t v);
  operator uint8_t() const { return bits; }
};
extern AdcMux ADMUX;
extern AdcControl ADCSRA;
extern uint16_t ADC;
extern uint8_t MCUSR;
// Port B, for the LED on pin 13 (PB5).
enum { PORTB5 = 5, DDB5 = 5 };
extern uint8_t PORTB, DDRB;
// Timer0's count, from the host clock (16 MHz / 64: 4 us a tick), for the sketch's timer jitter.
struct TimerCount {
  operator uint8_t() const { return (uint8_t)(micros() / 4); }
};
extern TimerCount TCNT0;

// UART0 driven directly (a sketch that only writes to USB): the data register is always ready and what is
// written to UDR0 goes to stdout, like the Serial port's output.
#ifndef F_CPU
#define F_CPU 16000000L
#endif
enum { MPCM0 = 0, U2X0, UPE0, DOR0, FE0, UDRE0, TXC0, RXC0 };
enum { TXB80 = 0, RXB80, UCSZ02, TXEN0, RXEN0, UDRIE0, TXCIE0, RXCIE0 };
struct UartStatus {
  uint8_t bits = 0;
  UartStatus& operator=(uint8_t v) {
    bits = v;
    return *this;
  }
  operator uint8_t() const { return bits | _BV(UDRE0); }
};
struct UartData {
  UartData& operator=(uint8_t c);
  operator uint8_t() const { return 0; }
};
extern UartStatus UCSR0A;
extern uint8_t UCSR0B, UCSR0C;
extern uint16_t UBRR0;
extern UartData UDR0;
#define bit_is_set(reg, bit) ((reg) & _BV(bit))
#define loop_until_bit_is_set(reg, bit) \
  do {                                  \
  } while (!bit_is_set(reg, bit))

class __FlashStringHelper;
#define F(s) (reinterpret_cast<const __FlashStringHelper*>(PSTR(s)))

class Print;
// What can print itself, as the core's Printable.h.
class Printable {
 public:
  virtual ~Printable() {}
  virtual size_t printTo(Print& p) const = 0;
};

class Print {
 public:
  virtual ~Print() {}
  virtual size_t write(uint8_t c) = 0;
  virtual size_t write(const uint8_t* buf, size_t n) {
    size_t done = 0;
    while (n--) done += write(*buf++);
    return done;
  }
  size_t write(const char* s) { return s ? write((const uint8_t*)s, strlen(s)) : 0; }
  size_t write(const char* buf, size_t n) { return write((const uint8_t*)buf, n); }

  size_t print(const __FlashStringHelper* s) { return write(reinterpret_cast<const char*>(s)); }
  size_t print(const char* s) { return write(s); }
  size_t print(char c) { return write((uint8_t)c); }
  size_t print(const Printable& x) { return x.printTo(*this); }
  size_t print(unsigned char n, int base = 10) { return print((unsigned long)n, base); }
  size_t print(int n, int base = 10) { return print((long)n, base); }
  size_t print(unsigned int n, int base = 10) { return print((unsigned long)n, base); }
  size_t print(long n, int base = 10);
  size_t print(unsigned long n, int base = 10);

  size_t println() { return write((const uint8_t*)"\r\n", 2); }
  int getWriteError() { return writeError_; }
  void clearWriteError() { writeError_ = 0; }
  template <typename T>
  size_t println(T v) { return print(v) + println(); }
  template <typename T>
  size_t println(T v, int base) { return print(v, base) + println(); }

 protected:
  void setWriteError(int err = 1) { writeError_ = err; }

 private:
  int writeError_ = 0;
};

class Stream : public Print {
 public:
  virtual int available() = 0;
  virtual int read() = 0;
  virtual int peek() = 0;
  virtual void flush() {}
};

// One serial port of the host program: a TCP connection to the fake ESP-01, or stdout for USB debug text.
class HostSerial : public Stream {
 public:
  explicit HostSerial(const char* role) : role_(role) {}
  void begin(unsigned long baud);
  void end() {}
  int available() override;
  int read() override;
  int peek() override;
  size_t write(uint8_t c) override { return write(&c, 1); }
  size_t write(const uint8_t* buf, size_t n) override;
  using Print::write;
  size_t write(unsigned long n) { return write((uint8_t)n); }
  size_t write(long n) { return write((uint8_t)n); }
  size_t write(unsigned int n) { return write((uint8_t)n); }
  size_t write(int n) { return write((uint8_t)n); }
  bool overflow();
  bool listen() { return true; }
  operator bool() const { return true; }

 private:
  void pull();
  void reportOverflow(unsigned lost);  // ends the run unless ESPAT_SHIM_LOSSY=1 (shim.cpp)
  const char* role_;
  int fd_ = -1;  // -2: the virtual-time harness's wire (vclock.h)
  unsigned long baud_ = 0;
  bool esp_ = false;
  bool overflowed_ = false;
  static const uint16_t kRxBuffer = 64;  // what an Uno's serial receive buffer holds
  uint8_t buf_[kRxBuffer];
  uint16_t head_ = 0, len_ = 0;
};

typedef HostSerial HardwareSerial;
extern HostSerial Serial;

void setup();
void loop();
