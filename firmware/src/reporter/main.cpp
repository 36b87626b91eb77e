// reporter: samples A0 (LM35), the chip's own temperature and Vcc every interval and POSTs each reading as JSON.
// Readings wait in EEPROM (reading_queue.h) and leave oldest first once the server has answered for the one before,
// so an outage, a reset or a power cut delays readings but loses none uncounted. Every reading names itself by
// (device, incarnation, boot, seq) (boot_identity.h), so a reading sent twice is stored once.
// What the server's answer does is the collector's contract (contract.json, compiled into espat_contract.h):
// stored/repeat deliver the reading, drop lets it go (counted), conflict draws a new incarnation and sends it again,
// keep and backoff keep it and wait (backoff.h; at least Retry-After). Failures are told apart: the server
// failing (back off, Wi-Fi left alone), Wi-Fi lost (join again, backing off), the module's links failing while it
// answers (AT+RST after a few), the module silent (resync, AT+RST, the reset pin). The watchdog is fed only while
// the reporter makes progress.
//
// Two wirings (platformio.ini): ESPAT_REPORTER_SOFTSERIAL puts the ESP-01 on pins 2/3 at 9600 with debug lines on
// USB; ESPAT_REPORTER_HWSERIAL puts it on pins 0/1 at 115200 and shows state on the LED only.
#include <Arduino.h>
#include <EspAt.h>
#include <EspAtDecimal.h>
#include <avr/wdt.h>

#include "backoff.h"
#include "boot_identity.h"
#include "espat_config.h"
#include "espat_contract.h"  // generated from contract.json by platformio.ini's extra script
#include "log_event.h"
#include "next_reading.h"
#include "post_exchange.h"
#include "reading_queue.h"
#include "recovery.h"
#include "report_json.h"
#include "retry_after.h"
#include "sampling.h"
#include "sensors.h"

#if defined(ESPAT_REPORTER_SOFTSERIAL)
#include "soft_uart.h"
#include "usb_tx.h"
SoftUart& espPort = espUart;  // RX on pin 2 (from ESP TX), TX on pin 3 (to ESP RX through a divider), ESPAT_SOFT_BAUD
UsbTx usb;  // debug text only goes out: no HardwareSerial
void logEvent(const __FlashStringHelper* what, uint32_t value) {
  usb.print(what);
  usb.print(' ');
  espatDecimal(usb, value);
  usb.print(F("\r\n"));  // as println() ends it, without the RAM-string writer println() brings
}
#elif defined(ESPAT_REPORTER_HWSERIAL)
#include "uart_port.h"
UartPort& espPort = espUart;
#else
#error "define ESPAT_REPORTER_SOFTSERIAL or ESPAT_REPORTER_HWSERIAL (see platformio.ini)"
#endif

// The collector's rule (contract.json, through the generated header): a name it would refuse does not build.
static_assert(deviceAllowed(ESPAT_CHOSEN(DEVICE)), "ESPAT_DEVICE: the collector refuses it: " ESPAT_CONTRACT_DEVICE_RULE);
constexpr bool headerPlain(const char* text) {
  return *text == 0 || ((unsigned char)*text > ' ' && *text != 0x7F && headerPlain(text + 1));
}
static_assert(headerPlain(ESPAT_CHOSEN(TOKEN)), "ESPAT_TOKEN must not contain spaces or control characters");

// Link failures in a row, while the module answers, after which its TCP stack is taken as wedged: AT+RST. A
// wedged stack answers CIPSTART with ERROR only after its wait for an answer, as it does for a server nothing
// answers for, so those count; a refusal within ESPAT_REFUSED_MS (the server's host said no: the stack works), an
// answer of any status, or none from the server does not. An unreachable server costs one AT+RST every
// ESPAT_WEDGED_AFTER tries (at the back-off's cap, one in 20 minutes).
#ifndef ESPAT_WEDGED_AFTER
#define ESPAT_WEDGED_AFTER 4
#endif
#ifndef ESPAT_REFUSED_MS
#define ESPAT_REFUSED_MS 1000
#endif
// The longest one operation may run (the driver bounds every wait; an exchange is the longest, 120 s). A
// reporter stuck in one longer stops feeding the watchdog, and the board resets.
#ifndef ESPAT_STALL_MS
#define ESPAT_STALL_MS (ESPAT_EXCHANGE_MAX_MS + 30000UL)
#endif
const uint8_t kLink = 0;

EspAtDrv esp(espPort);
PostExchange http;  // the POST: its request, the answer's status line and Retry-After (post_exchange.h)
BootIdentity identity;
ReadingQueue queue;
Backoff backoff;
ReadingBody post;  // the reading in flight, and the diagnostics every reading carries
uint16_t postId;   // its place in the queue
Recovery recovery;
unsigned long jobSince;  // when the operation in flight started
// How long it has run, ms (out of line: two callers).
__attribute__((noinline)) unsigned long jobMs() { return millis() - jobSince; }
uint8_t stackFailures;   // link failures in a row that blame the module's TCP stack
uint8_t serverFailures;  // connects in a row that the server (or the network) refused
bool posting;            // the POST is the operation in flight (else one of recovery's, or none)

// The interval is decimal text like the other settings, read at compile time: a constant costs no RAM.

#if defined(ESPAT_REPORTER_HWSERIAL)
// LED code, repeated every 2 s: 1 blink no module, 2 no Wi-Fi, 3 server or link failing, dark when all is well.
// Blinks are 128 ms on in slots of 256 ms. The LED (pin 13) is PB5, set through the port: digitalWrite() and
// pinMode() would bring about 200 B of flash for this one pin.
void showState() {
  uint8_t code = 0;  // the first of these that holds, set from the bottom up
  if (backoff.failures()) code = 3;
  if (!esp.wifiUp()) code = 2;
  if (!recovery.synced()) code = 1;
  uint16_t t = (uint16_t)millis();
  uint8_t slot = (uint8_t)(t >> 8) & 7;  // 0-7, compared in 8 bits
  if (slot < code && !(t & 128)) {
    PORTB |= _BV(PORTB5);
  } else {
    PORTB &= ~_BV(PORTB5);
  }
}
#endif


// The POST ended: what the server said, or how the link failed.
void onPost(EspStatus ended) {
  unsigned code = http.status();
  EspStatus status = http.result(esp);  // NoReply when the answer had no status line
  LOG16("post seq", post.reading.seq);
  // e.g. 201 = Ok and HTTP 201; 3000 = Error. At most 18,999 (statuses to 9, codes to 9,999): 16 bits.
  LOG16("post status", (uint8_t)status * 1000U + code);
  bool rebooted = recovery.rebooted(ended);  // the module's doing, not the server's: no back-off, no blame
  if (rebooted || status != EspStatus::Ok) count(post.diag.linkFailures);
  if (rebooted) return;
  if (status == EspStatus::Ok) {
    stackFailures = 0;
    serverFailures = 0;
    recovery.answered();
    Verdict verdict = verdictFor(code);
    // Taken or refused for good, the reading leaves the queue -- unless the queue, full, already let it go.
    // Stored or Repeat: delivered. Drop: the reading's own fault (keeping it would block every later one), counted.
    bool drop = verdict == Verdict::Drop;
    if (verdict <= Verdict::Repeat || drop) {
      queue.leave(postId, drop);  // one call for the three
      if (drop) {
        LOG16("refused", queue.dropped());
      } else {
        backoff.delivered();
      }
    } else if (verdict == Verdict::Conflict) {
      // The key names another reading at the collector: a new incarnation, and the reading goes again.
      identity.redraw(noiseBits());
      LOG("new incarnation", identity.incarnation());
      recovery.backOff();
    } else {
      recovery.backOff(verdict == Verdict::Backoff ? http.retryAfter.ms() : 0);  // keep; backoff: at least Retry-After
    }
  } else {
    // A link that could not be opened (CIPSTART's late ERROR or no answer) or used (CIPSEND refused, `busy p...`
    // past the driver's patience): the module's TCP stack or an unreachable server, which look the same on the
    // wire; ESPAT_WEDGED_AFTER of them in a row reset the module. A quick refusal, a server that never answered,
    // or a reboot is not the stack's doing.
    bool refused = status == EspStatus::ConnectFailed && jobMs() < ESPAT_REFUSED_MS;
    if (status != EspStatus::NoReply && status != EspStatus::ModuleReset && !refused) stackFailures++;
    // Refused twice running: the server, or a module that rebooted unheard (its `ready` lost while the board
    // was sending; multiplexing off, so every CIPSTART is an ERROR). Resync (Wi-Fi untouched), then ask the
    // module whether the station is still joined, and join only if it is not.
    if (status == EspStatus::ConnectFailed && ++serverFailures >= 2) {
      serverFailures = 0;
      recovery.resync();
    }
    if (stackFailures >= ESPAT_WEDGED_AFTER) {
      stackFailures = 0;
      recovery.resetModule();  // the module rejoins by itself after AT+RST: ask before joining
    }
    recovery.backOff();
  }
}

void startNext() {
  if (recovery.waiting() || recovery.step()) {
    // (a pause, or the module's next step towards a link)
  } else if (queue.count()) {
    postId = takeOldest(post, queue, identity);
    posting = http.start(esp, kLink);
  }
  jobSince = millis();
}

void setup() {
  // Why the board reset, before it is cleared: its low byte only (the AVR is little-endian), the other three are
  // zero already (a global).
  *reinterpret_cast<uint8_t*>(&post.diag.resetCause) = MCUSR;
  MCUSR = 0;
  // The watchdog at its 8 s from here on: one that reset the board is still running (at whatever period it had),
  // and the longest setup (a blank EEPROM formatted, about 3.3 s) fits well within it. Set once, not disabled now
  // and enabled at the end.
  wdt_enable(WDTO_8S);
#if defined(ESPAT_REPORTER_SOFTSERIAL)
  usb.begin();
#else
  DDRB |= _BV(DDB5);  // LED_BUILTIN, an output
#endif
  beginReadings();  // the identity and the queue from EEPROM (sampling.h)
  post.device = ESPAT_PICK(DEVICE);
#if ESPAT_PASSIVE_RX
  esp.setPassiveReceive(true);  // needs the driver built with ESPAT_CLIENTS=1
#endif
  if (ESPAT_RESET_PIN >= 0) esp.setResetPin(ESPAT_RESET_PIN);
  esp.setReplyMs(ESPAT_REPLY_MS);
  // The ESP port last: from here on loop() polls it, so nothing it hears waits behind EEPROM writes.
#if defined(ESPAT_REPORTER_SOFTSERIAL)
  espPort.begin();
#else
  espPort.begin(115200);
#endif
  startSampling();
}

void loop() {
  esp.poll();
  recovery.poll();
  sampleIfDue();
#if defined(ESPAT_REPORTER_HWSERIAL)
  showState();
#endif
  if (esp.busy()) {
    if (jobMs() < ESPAT_STALL_MS) wdt_reset();  // an operation within its bound is progress
    return;
  }
  wdt_reset();  // idle, or an operation just ended
  if (!recovery.done(esp.status()) && posting) {
    posting = false;
    onPost(esp.status());
  }
  startNext();
}
