// reporter: samples A0 (LM35), the chip's own temperature and Vcc every interval and POSTs each reading as JSON.
// Readings wait in a RAM ring and leave oldest first once the server has confirmed the one before, so Wi-Fi drops,
// module resets and server outages delay readings but do not reorder or lose them while the ring has room.
// What the server's answer does to the reading in flight (the collector's contract): 2xx delivered; 400, 413, 422
// refused for good (the reading's own fault: it leaves, and is counted); anything else, or no answer, keeps it and
// backs off. A module that stops answering is brought back by a ladder: resync, AT+RST, a pulse on ESPAT_RESET_PIN
// when one is wired; each reset the reporter orders is counted.
//
// Two wirings (platformio.ini): ESPAT_REPORTER_SOFTSERIAL puts the ESP-01 on pins 2/3 at 9600 with debug lines on
// USB; ESPAT_REPORTER_HWSERIAL puts it on pins 0/1 at 115200 and shows state on the LED only.
#include <Arduino.h>
#include <EspAt.h>
#include <avr/eeprom.h>
#include <avr/wdt.h>

#include "espat_config.h"
#include "report_json.h"
#include "sensors.h"

#if defined(ESPAT_REPORTER_SOFTSERIAL)
#include "soft_uart.h"
#include "usb_tx.h"
SoftUart& espPort = espUart;  // RX on pin 2 (from ESP TX), TX on pin 3 (to ESP RX through a divider), ESPAT_SOFT_BAUD
UsbTx usb;  // debug text only goes out: no HardwareSerial
// One line per event, "<what> <number>", through one function so each event costs a call, not a print chain.
void logEvent(const __FlashStringHelper* what, uint32_t value) {
  usb.print(what);
  usb.print(' ');
  usb.println(value);
}
#define LOG(text, value) logEvent(F(text), value)
#elif defined(ESPAT_REPORTER_HWSERIAL)
#include "uart_port.h"
UartPort& espPort = espUart;
#define LOG(text, value) ((void)0)
#else
#error "define ESPAT_REPORTER_SOFTSERIAL or ESPAT_REPORTER_HWSERIAL (see platformio.ini)"
#endif

static_assert(jsonPlain(ESPAT_CHOSEN(DEVICE)),
              "ESPAT_DEVICE must not contain a quote, a backslash or a control character (it goes into JSON as is)");
constexpr bool headerPlain(const char* text) {
  return *text == 0 || ((unsigned char)*text > ' ' && *text != 0x7F && headerPlain(text + 1));
}
static_assert(headerPlain(ESPAT_CHOSEN(TOKEN)), "ESPAT_TOKEN must not contain spaces or control characters");
const bool kToken = sizeof(ESPAT_CHOSEN(TOKEN)) > 1;

const uint8_t kLink = 0;
// EEPROM addresses; an erased byte reads 0xFF.
uint32_t* const kEepromBoot = (uint32_t*)0;         // boot counter
uint32_t* const kEepromIncarnation = (uint32_t*)4;  // random id, written once when blank
const uint8_t kSettleMs = 50;           // the 1.1 V reference's settling before the first reading

EspAtDrv esp(espPort);
EspAtHttpExchangeT<ESPAT_KEEP_ALIVE> http;  // the POST: its request and the answer's status line
ReadingRing ring;
ReadingJson post;  // the reading in flight: the ring may let it go (when full) before the answer came
uint32_t seq;
unsigned long lastSample;
unsigned long waitFrom, waitMs;  // nothing is started before waitMs has passed since waitFrom
uint8_t failures;                // consecutive failures; sets the backoff and when to resync the module
uint8_t rung;                    // the recovery ladder's next step: 0 resync, 1 AT+RST, 2 the reset pin
uint8_t resetsSeen;
uint16_t resetsOrdered;          // module resets the reporter ordered (AT+RST or the pin)
uint16_t refused;                // readings the server refused for good
bool synced;

enum class Job : uint8_t { None, Sync, Join, Post } job = Job::None;

// The interval is decimal text like the other settings, read at compile time: a constant costs no RAM.
constexpr uint32_t parseMs(const char* text, uint32_t v = 0) {
  return *text >= '0' && *text <= '9' ? parseMs(text + 1, v * 10 + (*text - '0')) : v ? v : 60000;
}
constexpr uint32_t intervalMs =
    sizeof(ESPAT_ENV_INTERVAL_MS) > 1 ? parseMs(ESPAT_ENV_INTERVAL_MS) : parseMs(ESPAT_INTERVAL_MS);

void pause(uint16_t ms) {
  waitFrom = millis();
  waitMs = ms;
}

// 1 s, 2 s, 4 s ... up to 32 s after consecutive failures.
void backOff() {
  if (failures < 6) failures++;
  pause(1000U << failures >> 1);
}

#if defined(ESPAT_REPORTER_HWSERIAL)
// LED code, repeated every 2 s: 1 blink no module, 2 no Wi-Fi, 3 server or link failing, dark when all is well.
// Blinks are 128 ms on in slots of 256 ms. The LED (pin 13) is PB5, set through the port: digitalWrite() and
// pinMode() would bring about 200 B of flash for this one pin.
void showState() {
  uint8_t code = !synced ? 1 : !esp.wifiUp() ? 2 : failures ? 3 : 0;
  uint16_t t = (uint16_t)millis() & 2047;
  if ((t >> 8) < code && !(t & 128)) {
    PORTB |= _BV(PORTB5);
  } else {
    PORTB &= ~_BV(PORTB5);
  }
}
#endif

void sampleIfDue() {
  if (millis() - lastSample < intervalMs) return;
  lastSample += intervalMs;
  Reading r;
  r.uptimeMs = millis();
  readSensors(r);
  ring.push(r);
  seq++;
  LOG("sample", seq);
}

void onDone(EspStatus status) {
  if (job == Job::Sync) {
    synced = status == EspStatus::Ok;
    if (synced) {
      failures = 0;
      rung = 0;
      LOG("module ready", esp.resets());
    } else {
      LOG("sync failed", (uint8_t)status);
      // The next try goes one step further down the ladder; its last step repeats.
      if (rung < (ESPAT_RESET_PIN >= 0 ? 2 : 1)) rung++;
      backOff();
    }
  } else if (job == Job::Join) {
    if (status == EspStatus::Ok) {
      LOG("wifi joined", 1);
    } else {
      LOG("join failed", (uint8_t)status);
      // FAIL or ERROR: the module answers, the network said no. No answer: the module is not listening.
      if (status == EspStatus::Timeout) synced = false;
      backOff();
    }
  } else if (job == Job::Post) {
    unsigned code = http.reply.status();
    status = http.result(esp);  // NoReply when the answer had no status line
    LOG("post seq", post.seq);
    LOG("post status", (uint8_t)status * 1000UL + code);  // e.g. 201 = Ok and HTTP 201; 3000 = Error
    // Taken or refused for good, the reading leaves the ring -- unless the ring, full, already let it go.
    bool stillOldest = ring.count() && ring.oldestSeq(seq) == post.seq;
    bool refusedForGood = code == 400 || code == 413 || code == 422;
    if (status == EspStatus::Ok && ((code >= 200 && code < 300) || refusedForGood)) {
      if (refusedForGood) LOG("refused", ++refused);  // keeping it would block every later one
      if (stillOldest) ring.pop();
      failures = 0;
    } else {
      backOff();
      // Three link failures running: the module may have rebooted unheard (a `ready` sent while SoftwareSerial
      // was transmitting is lost) or be wedged; start over from sync, which now resets it.
      if (status != EspStatus::Ok && failures >= 3) synced = false;
    }
  }
  if (status == EspStatus::ModuleReset) synced = false;
}

void startNext() {
  if (esp.resets() != resetsSeen) {  // a reboot between operations also loses echo, mux and Wi-Fi
    resetsSeen = esp.resets();
    synced = false;
  }
  if (millis() - waitFrom < waitMs) return;
  if (!synced) {
    job = Job::Sync;
    if (rung == 0) {
      esp.startSync();
    } else {
      LOG("reset module", ++resetsOrdered);
      esp.startReset(rung == 2);  // 2 only with ESPAT_RESET_PIN wired
    }
  } else if (!esp.wifiUp()) {
    if (esp.startJoin(ESPAT_PICK(WIFI_SSID), ESPAT_PICK(WIFI_PASS))) job = Job::Join;
  } else if (ring.count()) {
    post.seq = ring.oldestSeq(seq);
    post.reading = ring.oldest();
    post.dropped = ring.lost();
    if (http.start(esp, kLink)) job = Job::Post;
  }
}

void setup() {
  MCUSR = 0;
  wdt_disable();
#if defined(ESPAT_REPORTER_SOFTSERIAL)
  usb.begin();
#else
  DDRB |= _BV(DDB5);  // LED_BUILTIN, an output
#endif
  uint32_t boot = eeprom_read_dword(kEepromBoot);
  if (boot == 0xFFFFFFFFUL) boot = 0;  // erased EEPROM
  eeprom_write_dword(kEepromBoot, ++boot);
  post.boot = boot;
  LOG("reporter boot", boot);  // before the clock is set: the debug text goes out byte by byte
  // An upload through ISP erases EEPROM and the boot count starts over: a new random id then tells this
  // board's readings from the ones it sent before, so (device, incarnation, boot, seq) never repeats.
  post.incarnation = eeprom_read_dword(kEepromIncarnation);
  if (post.incarnation == 0xFFFFFFFFUL) {
    uint32_t id = noiseBits();
    post.incarnation = id == 0xFFFFFFFFUL ? 0 : id;  // never the blank value
    eeprom_write_dword(kEepromIncarnation, post.incarnation);
  }
  settleReference();
  post.device = ESPAT_PICK(DEVICE);
  http.request.host = ESPAT_PICK(SERVER_HOST);
  http.request.port = ESPAT_SERVER_PORT_NUMBER;
  http.request.path = ESPAT_PICK(SERVER_PATH);
  http.request.body = &post;
  if (kToken) http.request.bearer = ESPAT_PICK(TOKEN);
#if ESPAT_PASSIVE_RX
  esp.setPassiveReceive(true);  // needs the driver built with ESPAT_CLIENTS=1
#endif
  if (ESPAT_RESET_PIN >= 0) esp.setResetPin(ESPAT_RESET_PIN);
  // The ESP port last: from here on loop() polls it, so nothing it hears waits behind EEPROM writes.
#if defined(ESPAT_REPORTER_SOFTSERIAL)
  espPort.begin();
#else
  espPort.begin(115200);
#endif
  lastSample = millis() - intervalMs + kSettleMs;  // first reading once the reference has settled
  wdt_enable(WDTO_8S);
}

void loop() {
  wdt_reset();
  esp.poll();
  sampleIfDue();
#if defined(ESPAT_REPORTER_HWSERIAL)
  showState();
#endif
  if (esp.busy()) return;
  if (job != Job::None) {
    onDone(esp.status());
    job = Job::None;
  }
  startNext();
}
