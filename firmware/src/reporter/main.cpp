// reporter: samples A0 (LM35), the chip's own temperature and Vcc every interval and POSTs each reading as JSON.
// Readings wait in a RAM ring and leave oldest first once the server has confirmed the one before, so Wi-Fi drops,
// module resets and server outages delay readings but do not reorder or lose them while the ring has room.
//
// Two wirings (platformio.ini): ESPAT_REPORTER_SOFTSERIAL puts the ESP-01 on pins 2/3 at 9600 with debug lines on
// USB; ESPAT_REPORTER_HWSERIAL puts it on pins 0/1 at 115200 and shows state on the LED only.
#include <Arduino.h>
#include <EEPROM.h>
#include <EspAt.h>
#include <avr/wdt.h>

#include "espat_config.h"
#include "report_json.h"
#include "sensors.h"

#if defined(ESPAT_REPORTER_SOFTSERIAL)
#include <SoftwareSerial.h>

#include "usb_tx.h"
SoftwareSerial espPort(2, 3);  // RX on pin 2 (from ESP TX), TX on pin 3 (to ESP RX through a divider)
#ifndef ESPAT_SOFT_BAUD
#define ESPAT_SOFT_BAUD 9600  // SoftwareSerial at 16 MHz receives back-to-back bytes reliably up to 57600, not 115200
#endif
const uint32_t kEspBaud = ESPAT_SOFT_BAUD;
UsbTx usb;  // debug text only goes out: no HardwareSerial
// One line per event, "<what> <number>", through one function so each event costs a call, not a print chain.
void logEvent(const __FlashStringHelper* what, uint32_t value) {
  usb.print(what);
  usb.print(' ');
  usb.println(value);
}
#define LOG(text, value) logEvent(F(text), value)
#elif defined(ESPAT_REPORTER_HWSERIAL)
HardwareSerial& espPort = Serial;
const uint32_t kEspBaud = 115200;
#define LOG(text, value) ((void)0)
#else
#error "define ESPAT_REPORTER_SOFTSERIAL or ESPAT_REPORTER_HWSERIAL (see platformio.ini)"
#endif

// The body buffer fits the longest reading for this build's device name, known at compile time.
constexpr size_t kBodyMax =
    readingJsonMax((sizeof(ESPAT_ENV_DEVICE) > 1 ? sizeof(ESPAT_ENV_DEVICE) : sizeof(ESPAT_DEVICE)) - 1);
static_assert(kBodyMax <= 255, "device name too long: the body's length must fit a byte");
const uint8_t kLink = 0;
const uint16_t kEepromBoot = 0;  // uint32_t boot counter

EspAt esp(espPort);
ReadingRing ring;
char body[kBodyMax];
uint32_t boot;
uint32_t seq;
uint32_t postSeq;  // the reading in flight: the ring may have let it go (when full) before the answer came
unsigned long lastSample;
unsigned long waitFrom, waitMs;  // nothing is started before waitMs has passed since waitFrom
uint8_t failures;                // consecutive failures; sets the backoff and when to reset the module
uint8_t resetsSeen;
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
void showState() {
  uint8_t code = !synced ? 1 : !esp.wifiUp() ? 2 : failures ? 3 : 0;
  unsigned long t = millis() % 2000;
  digitalWrite(LED_BUILTIN, t / 300 < code && t % 300 < 150);
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
      LOG("module ready", esp.resets());
    } else {
      LOG("sync failed", (uint8_t)status);
      backOff();
    }
  } else if (job == Job::Join) {
    if (status == EspStatus::Ok) {
      LOG("wifi joined", 1);
    } else {
      LOG("join failed", (uint8_t)status);
      backOff();
    }
  } else if (job == Job::Post) {
    unsigned http = esp.httpStatus();
    LOG("post seq", postSeq);
    LOG("post status", (uint8_t)status * 1000UL + http);  // e.g. 201 = Ok and HTTP 201; 3000 = Error
    // Taken or refused for good, the reading leaves the ring -- unless the ring, full, already let it go.
    bool stillOldest = ring.count() && ring.oldestSeq(seq) == postSeq;
    if (status == EspStatus::Ok && http >= 200 && http < 300) {
      if (stillOldest) ring.pop();
      failures = 0;
    } else if (status == EspStatus::Ok && http >= 400 && http < 500 && http != 408 && http != 429) {
      LOG("dropped", postSeq);
      if (stillOldest) ring.pop();  // refused for good; keeping it would block every later one
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
    // The first try only syncs; after a failed one the module is reset.
    if (failures ? esp.startReset() : esp.startSync()) job = Job::Sync;
  } else if (!esp.wifiUp()) {
    if (esp.startJoin(ESPAT_PICK(WIFI_SSID), ESPAT_PICK(WIFI_PASS))) job = Job::Join;
  } else if (ring.count()) {
    postSeq = ring.oldestSeq(seq);
    uint8_t len = formatReading(body, sizeof body, ESPAT_PICK(DEVICE), boot, postSeq, ring.oldest());
    if (esp.startHttp(kLink, ESPAT_PICK(SERVER_HOST), ESPAT_PICK(SERVER_PORT), ESPAT_PICK(SERVER_PATH), body, len,
                      false)) {
      job = Job::Post;
    }
  }
}

void setup() {
  MCUSR = 0;
  wdt_disable();
#if defined(ESPAT_REPORTER_SOFTSERIAL)
  usb.begin();
#else
  pinMode(LED_BUILTIN, OUTPUT);
#endif
  espPort.begin(kEspBaud);
  EEPROM.get(kEepromBoot, boot);
  if (boot == 0xFFFFFFFFUL) boot = 0;  // erased EEPROM
  EEPROM.put(kEepromBoot, ++boot);
  LOG("reporter boot", boot);  // before the clock is set: the debug text goes out byte by byte
  lastSample = millis() - intervalMs;  // first reading at once
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
