// The host side of the shim: sockets for the serial ports, the scaled clock, the fake ADC, EEPROM in a file, the
// watchdog, the wire log, and main() calling setup() and loop() as the Arduino core does.
//
// Environment (all optional but ESPAT_SHIM_ESP):
//   ESPAT_SHIM_ESP=127.0.0.1:PORT   the fake ESP-01's TCP front end; SoftwareSerial ports connect to it
//   ESPAT_SHIM_SERIAL_IS_ESP=1      Serial (pins 0/1) is the ESP port too (the hwserial reporter); else it is USB:
//                                   writes go to stdout, reads come from stdin
//   ESPAT_SHIM_WIRELOG=FILE         every chunk on the ESP wire: 'T' (to the ESP) or 'R', u64 µs since start
//                                   (virtual with ESPAT_SHIM_VCLOCK), u32 length, the bytes (little-endian)
//   ESPAT_SHIM_CLOCK_SCALE=F        millis() runs F times as fast as the host clock (default 1)
//   ESPAT_SHIM_RUN_MS=N             exit 0 once millis() passes N
//   ESPAT_SHIM_EEPROM=FILE          the EEPROM's 1 KiB
//   ESPAT_SHIM_A0_MV / _TEMP_MV / _VCC_MV   ADC inputs: A0, the chip's temperature sensor, the supply
//   ESPAT_SHIM_VCLOCK=1             virtual time: the clock, the ESP port and EEPROM are driven by a harness in
//                                   lock-step (vclock.h); ESPAT_SHIM_ESP is then not needed
//   ESPAT_SHIM_MCUSR=N              the reset cause the sketch finds in MCUSR (1 power-on, 4 brown-out, 8 watchdog)
//   ESPAT_SHIM_LOSSY=1              a receive buffer that overflows loses the bytes that did not fit, as a board
//                                   does, and the run goes on (overflow() says so); without it the run ends there
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "Arduino.h"
#include "EEPROM.h"
#include "avr/wdt.h"
#include "vclock.h"

namespace {

double clockScale = 1.0;
unsigned long runMs = 0;
FILE* wireLog = nullptr;
int espFd = -1;
// Reads of the ESP-01's socket that found nothing, in a row within one loop() pass (main() clears it).
unsigned emptyPulls = 0;
// Past that many, a sketch that waits by polling in a loop (`while (!client.available())`) is put to sleep
// until a byte comes or a millisecond passes, instead of spinning the host's CPU: on the board that spin is
// free, here it cost a core per running sketch. A byte that comes wakes it at once, so nothing arrives later.
const unsigned kSpinBeforeSleep = 32;
uint64_t startNs;
unsigned long watchdogMs = 0, watchdogFed = 0;

uint64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

long envLong(const char* name, long fallback) {
  const char* v = getenv(name);
  return v && *v ? strtol(v, nullptr, 10) : fallback;
}

[[noreturn]] void die(const char* why) {
  fprintf(stderr, "shim: %s\n", why);
  fflush(stdout);
  _exit(86);
}

void logWire(char dir, const uint8_t* data, size_t n) {
  if (!wireLog || n == 0) return;
  uint64_t us = vclockOn() ? vclockNowUs() : (nowNs() - startNs) / 1000;  // the sketch's own time
  uint32_t len = (uint32_t)n;
  fputc(dir, wireLog);
  fwrite(&us, sizeof us, 1, wireLog);
  fwrite(&len, sizeof len, 1, wireLog);
  fwrite(data, 1, n, wireLog);
  fflush(wireLog);
}

// One connection to the fake ESP-01 shared by every port that plays the ESP's wire.
int connectEsp() {
  if (espFd >= 0) return espFd;
  const char* where = getenv("ESPAT_SHIM_ESP");
  if (!where || !strchr(where, ':')) die("ESPAT_SHIM_ESP=127.0.0.1:PORT is not set");
  char host[64];
  snprintf(host, sizeof host, "%.*s", (int)(strchr(where, ':') - where), where);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)atoi(strchr(where, ':') + 1));
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("ESPAT_SHIM_ESP: not an IPv4 address");
  espFd = socket(AF_INET, SOCK_STREAM, 0);
  if (espFd < 0 || connect(espFd, (sockaddr*)&addr, sizeof addr) != 0) die("cannot connect to the fake ESP-01");
  int one = 1;
  setsockopt(espFd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(espFd, F_SETFL, fcntl(espFd, F_GETFL) | O_NONBLOCK);
  return espFd;
}

struct Start {
  Start() {
    startNs = nowNs();
    const char* scale = getenv("ESPAT_SHIM_CLOCK_SCALE");
    if (scale && *scale) clockScale = atof(scale);
    runMs = (unsigned long)envLong("ESPAT_SHIM_RUN_MS", 0);
    const char* log = getenv("ESPAT_SHIM_WIRELOG");
    if (log && *log && !(wireLog = fopen(log, "wb"))) die("cannot open ESPAT_SHIM_WIRELOG");
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    MCUSR = (uint8_t)envLong("ESPAT_SHIM_MCUSR", 0);
    vclockStart();
  }
} start;

}  // namespace

// ---- time and pins

namespace {
unsigned long extraMs = 0;  // shimAdvanceMs(): time a test moved the clock on
}  // namespace

void shimAdvanceMs(unsigned long ms) { extraMs += ms; }

unsigned long millis() {
  unsigned long now;
  if (vclockOn()) {
    vclockTick();
    now = (unsigned long)(vclockNowUs() / 1000) + extraMs;
    if (watchdogMs && now - watchdogFed > watchdogMs) vclockExit('W');  // the chip resets
    return now;
  }
  now = (unsigned long)((nowNs() - startNs) / 1e6 * clockScale) + extraMs;
  if (watchdogMs && now - watchdogFed > watchdogMs) die("watchdog: loop() starved it, the board would reset");
  return now;
}
unsigned long micros() {
  if (vclockOn()) {
    vclockTick();
    return (unsigned long)vclockNowUs() + extraMs * 1000UL;
  }
  return (unsigned long)((nowNs() - startNs) / 1e3 * clockScale);
}
void delay(unsigned long ms) {
  if (vclockOn()) {
    vclockWaitUs((uint64_t)ms * 1000);
    return;
  }
  for (unsigned long t = millis(); millis() - t < ms;) usleep(200);
}
void delayMicroseconds(unsigned int us) {
  if (vclockOn()) vclockWaitUs(us);
}
__attribute__((weak)) void yield() {}
uint8_t shimPinMode[20], shimPinLevel[20];
void pinMode(uint8_t pin, uint8_t mode) { shimPinMode[pin % 20] = mode; }
void digitalWrite(uint8_t pin, uint8_t value) { shimPinLevel[pin % 20] = value; }
int digitalRead(uint8_t) { return LOW; }

void wdt_enable(uint8_t period) {
  watchdogMs = 15UL << period;
  watchdogFed = millis();
}
void wdt_reset() { watchdogFed = millis(); }
void wdt_disable() { watchdogMs = 0; }

// ---- the ADC

uint8_t MCUSR, PORTB, DDRB;
AdcMux ADMUX;
AdcControl ADCSRA;
uint16_t ADC;
TimerCount TCNT0;

namespace {
const uint8_t kRefBits = _BV(REFS1) | _BV(REFS0);
const unsigned long kAref11SettleMs = 5;  // about 5 time constants of the AREF pin's 100 nF
}  // namespace

AdcMux& AdcMux::operator=(uint8_t v) {
  if ((v ^ bits) & kRefBits) refChangedMs = millis();
  bits = v;
  return *this;
}

AdcControl& AdcControl::operator=(uint8_t v) {
  bits = v & (uint8_t)~_BV(ADSC);  // the conversion is over as soon as it starts
  if (!(v & _BV(ADSC))) return *this;
  long vcc = envLong("ESPAT_SHIM_VCC_MV", 5000);
  long input;
  if (vclockOn()) vcc = vclockAdcMv(2);
  switch (ADMUX & 0x0F) {
    case 0x00: input = vclockOn() ? vclockAdcMv(0) : envLong("ESPAT_SHIM_A0_MV", 215); break;
    case 0x08: input = vclockOn() ? vclockAdcMv(1) : envLong("ESPAT_SHIM_TEMP_MV", 314); break;
    case 0x0E: input = 1100; break;  // the bandgap
    default: input = 0;
  }
  long ref = (ADMUX & kRefBits) == kRefBits ? 1100 : vcc;
  // Switched to 1.1 V from AVcc a moment ago (at boot the reference is AVcc): AREF is still near AVcc.
  if (ref == 1100 && millis() - ADMUX.refChangedMs < kAref11SettleMs) ref = vcc;
  long value = (input * 1024 + ref / 2) / ref;
  ADC = (uint16_t)(value > 1023 ? 1023 : value);
  return *this;
}

// ---- UART0 written directly

UartStatus UCSR0A;
uint8_t UCSR0B, UCSR0C;
uint16_t UBRR0;
UartData UDR0;
UartData& UartData::operator=(uint8_t c) {
  fputc(c, stdout);
  if (c == '\n') fflush(stdout);
  return *this;
}

// ---- EEPROM

namespace {
uint8_t eepromBytes[1024];
bool eepromLoaded = false;
void loadEeprom() {
  if (eepromLoaded) return;
  eepromLoaded = true;
  memset(eepromBytes, 0xFF, sizeof eepromBytes);
  const char* path = getenv("ESPAT_SHIM_EEPROM");
  if (FILE* f = path ? fopen(path, "rb") : nullptr) {
    size_t got = fread(eepromBytes, 1, sizeof eepromBytes, f);
    (void)got;
    fclose(f);
  }
}
}  // namespace

HostEeprom EEPROM;
uint8_t HostEeprom::read(int address) {
  loadEeprom();
  return eepromBytes[address & 1023];
}
// Each byte goes to the file as it is written (one pwrite on a file kept open), so a run killed at any moment
// leaves the EEPROM as a power cut would, and formatting the whole of it takes milliseconds, not a second.
void HostEeprom::write(int address, uint8_t value) {
  loadEeprom();
  if (vclockOn()) {  // the harness keeps the image (and may cut the power in this write)
    eepromBytes[address & 1023] = vclockEepromWrite(address & 1023, eepromBytes[address & 1023], value);
    return;
  }
  eepromBytes[address & 1023] = value;
  static int fd = -2;
  if (fd == -2) {
    const char* path = getenv("ESPAT_SHIM_EEPROM");
    fd = path && *path ? open(path, O_RDWR | O_CREAT, 0644) : -1;
    if (fd >= 0 && pwrite(fd, eepromBytes, sizeof eepromBytes, 0) != (ssize_t)sizeof eepromBytes) die("EEPROM file");
  }
  if (fd >= 0 && pwrite(fd, &value, 1, address & 1023) != 1) die("EEPROM file");
}

// ---- serial ports

HostSerial Serial("usb");

void HostSerial::begin(unsigned long baud) {
  esp_ = strcmp(role_, "usb") != 0 || envLong("ESPAT_SHIM_SERIAL_IS_ESP", 0) == 1;
  baud_ = baud;
  if (esp_ && vclockOn()) {
    fd_ = -2;  // the harness's wire
    vclockTx(nullptr, 0, baud);
  } else {
    fd_ = esp_ ? connectEsp() : 0;
  }
}

// Moves what has arrived into the 64-byte receive buffer. In virtual time each byte arrives when the wire
// delivers it, so what does not fit is lost, as on the board. On a real-time socket, how much has piled up
// says how long the host left this process unscheduled, not how late the sketch polled: only what fits is
// taken, and the rest waits in the socket (a board's receive interrupt never falls behind).
//
// A loss ends the run, on stderr, unless ESPAT_SHIM_LOSSY=1 says the test means it: nothing the sketch does
// reports it (it never asks overflow()), so a test would pass on whatever the lost bytes left behind. The
// shim's own bugs showed up that way: a module handed a request at its first byte answered into a board still
// sending it, and the answer's headers were lost without a word (vclock.cpp).
void HostSerial::reportOverflow(unsigned lost) {
  overflowed_ = true;
  if (envLong("ESPAT_SHIM_LOSSY", 0) == 1) return;
  char why[200];
  snprintf(why, sizeof why,
           "the %s port's %u-byte receive buffer overflowed at %.3f s: %u bytes lost "
           "(ESPAT_SHIM_LOSSY=1 if the test means it)",
           role_, (unsigned)kRxBuffer, (double)(vclockOn() ? vclockNowUs() : (nowNs() - startNs) / 1000) / 1e6, lost);
  die(why);
}

void HostSerial::pull() {
  if (fd_ == -1) return;
  uint8_t chunk[256];
  size_t room = fd_ == -2 ? sizeof chunk : (size_t)(kRxBuffer - len_);
  if (room == 0) return;
  ssize_t n = fd_ == -2 ? (ssize_t)vclockRx(chunk, room) : ::read(fd_, chunk, room);
  if (n == 0 && esp_ && fd_ != -2) {
    fflush(stdout);
    fprintf(stderr, "shim: the fake ESP-01 closed the connection\n");
    _exit(0);
  }
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) die("serial read failed");
    if (esp_ && fd_ >= 0 && ++emptyPulls > kSpinBeforeSleep) {
      pollfd p = {fd_, POLLIN, 0};
      ::poll(&p, 1, 1);
    }
    return;
  }
  emptyPulls = 0;
  if (esp_) logWire('R', chunk, (size_t)n);
  unsigned lost = 0;
  for (ssize_t i = 0; i < n; i++) {
    if (len_ == kRxBuffer) {
      lost++;
      continue;
    }
    buf_[(head_ + len_) % kRxBuffer] = chunk[i];
    len_++;
  }
  if (lost) reportOverflow(lost);
}

int HostSerial::available() {
  if (len_ < kRxBuffer) pull();
  return len_;
}

int HostSerial::peek() { return available() ? buf_[head_] : -1; }

int HostSerial::read() {
  if (!available()) return -1;
  uint8_t c = buf_[head_];
  head_ = (uint16_t)((head_ + 1) % kRxBuffer);
  len_--;
  return c;
}

bool HostSerial::overflow() {
  bool was = overflowed_;
  overflowed_ = false;
  return was;
}

size_t HostSerial::write(const uint8_t* buf, size_t n) {
  if (!esp_) {
    fwrite(buf, 1, n, stdout);
    fflush(stdout);
    return n;
  }
  if (fd_ == -1) return 0;  // written before begin(): nothing is wired yet
  logWire('T', buf, n);
  if (fd_ == -2) {
    vclockTx(buf, n, baud_);
    return n;
  }
  for (size_t done = 0; done < n;) {
    ssize_t w = ::write(fd_, buf + done, n - done);
    if (w > 0) {
      done += (size_t)w;
    } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p = {fd_, POLLOUT, 0};
      ::poll(&p, 1, 100);
    } else {
      die("serial write failed");
    }
  }
  return n;
}

// ---- main, as the Arduino core's

int main() {
  setup();
  if (vclockOn()) {
    for (;;) loop();  // the clock moves as the sketch looks at it
  }
  for (;;) {
    emptyPulls = 0;
    loop();
    unsigned long now = millis();
    if (runMs && now >= runMs) {
      fflush(stdout);
      return 0;
    }
    // Nothing to do until a byte arrives or a millisecond passes: sleep instead of spinning the host's CPU.
    pollfd p = {espFd, POLLIN, 0};
    if (espFd >= 0) {
      ::poll(&p, 1, 1);
    } else {
      usleep(1000);
    }
  }
}

// ---- Print's numbers, as the Arduino core prints them

size_t Print::print(unsigned long n, int base) {
  if (base < 2) base = 10;
  char digits[8 * sizeof n + 1];
  char* p = digits + sizeof digits;
  do {
    unsigned d = (unsigned)(n % (unsigned)base);
    *--p = (char)(d < 10 ? '0' + d : 'A' + d - 10);
    n /= (unsigned)base;
  } while (n);
  return write((const uint8_t*)p, (size_t)(digits + sizeof digits - p));
}

size_t Print::print(long n, int base) {
  if (base == 10 && n < 0) return print('-') + print((unsigned long)-n, 10);
  return print((unsigned long)n, base);
}

// ---- the virtual clock (ESPAT_SHIM_VCLOCK), in this translation unit so that shim.cpp is all a build needs

#include "vclock.cpp"
