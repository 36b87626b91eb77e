// reporter_mqtt: the reporter's readings published to an MQTT broker, for Home Assistant. The same samples, the
// same JSON and the same store-and-forward rule as the HTTP reporter (reporter/): readings wait in the EEPROM
// queue (reading_queue.h), through outages, resets and power cuts, and leave oldest first, each only once the
// broker's PUBACK for it came (QoS 1); a session that ends before that
// (broker gone, link dropped, no answer within 10 s) is opened again and the same reading, with the same key
// (device, incarnation, boot, seq), is published again, so a consumer that keys on it counts it once.
//
// Each session also publishes Home Assistant's MQTT discovery configs, taking turns with the readings: one retained
// config per value on homeassistant/sensor/<device>_<value>/config, so the sensor appears in Home Assistant with no
// configuration.
// Readings go to espat/<device>/reading.
//
// Wiring: the ESP-01 on pins 2/3 at 9600 (SoftwareSerial's timing), debug lines on USB at 115200, as
// reporter_softserial. The broker is ESPAT_SERVER_HOST:ESPAT_SERVER_PORT (1883 usually), with ESPAT_MQTT_USER
// and ESPAT_MQTT_PASS when it wants them.
#include <Arduino.h>
#include <EspAt.h>
#include <EspAtMqtt.h>
#include <avr/wdt.h>

#include "../reporter/backoff.h"
#include "../reporter/boot_identity.h"
#include "../reporter/log_event.h"
#include "../reporter/next_reading.h"
#include "../reporter/reading_queue.h"
#include "../reporter/recovery.h"
#include "../reporter/report_json.h"
#include "../reporter/sampling.h"
#include "espat_config.h"
#include "espat_contract.h"  // generated from contract.json by platformio.ini's extra script
#include "ha_discovery.h"
#include "soft_uart.h"
#include "usb_tx.h"

// The collector's rule too (contract.json): the readings carry the same key as the HTTP reporter's.
static_assert(deviceAllowed(ESPAT_CHOSEN(DEVICE)), "ESPAT_DEVICE: the collector refuses it: " ESPAT_CONTRACT_DEVICE_RULE);
static_assert(topicPlain(ESPAT_CHOSEN(DEVICE)),
              "ESPAT_DEVICE goes into MQTT topics and Home Assistant ids: only A-Z a-z 0-9 _ - (no dot, no space)");

UsbTx usb;
void logEvent(const __FlashStringHelper* what, uint32_t value) {
  usb.print(what);
  usb.print(' ');
  usb.println(value);
}

const uint16_t kKeepAliveS = 60;

EspAtDrv esp(espUart);
EspAtClient net(esp);
EspAtMqtt mqtt(net);
BootIdentity identity;
ReadingQueue queue;
Backoff backoff;   // the pauses, as the HTTP reporter's: back to the start only when a reading is delivered
ReadingBody post;  // the reading in flight, and the diagnostics every reading carries
// The reading as the publisher takes it: a Printable that prints `post`.
struct PostJson : Printable {
  size_t printTo(Print& out) const override { return post.printTo(out); }
} postJson;
uint16_t postId;   // its place in the queue
Recovery recovery;  // the HTTP reporter's sync, ladder, join and pauses
uint8_t failures;  // sessions or links lost in a row: three, and the module is synced again
uint8_t configsAcked;   // discovery configs the broker has taken in this session
uint16_t inFlight;      // packet id waiting for its PUBACK (0: none)
bool inFlightIsReading;  // ... and whether it is the reading in `post` (else a discovery config)
EspAtMqtt::State was = EspAtMqtt::State::Disconnected;


// One more session or link lost: a pause, and the third in a row resyncs (the module may have rebooted unheard).
void backOff() {
  recovery.backOff();
  if (++failures >= 3) {
    failures = 0;
    recovery.resync();
  }
}


// What the broker's answers did: a session that began or ended, a PUBACK for what was in flight.
void followSession() {
  EspAtMqtt::State now = mqtt.state();
  if (now != was) {
    if (now == EspAtMqtt::State::Connected) {
      LOG16("mqtt connected", 1);
      failures = 0;
    } else if (now == EspAtMqtt::State::Disconnected) {
      LOG16("mqtt lost", (uint8_t)mqtt.error() * 1000U + mqtt.returnCode());
      inFlight = 0;
      backOff();
    }
    was = now;
  }
  if (!inFlight || !mqtt.acked(inFlight)) return;
  inFlight = 0;
  if (!inFlightIsReading) {
    configsAcked++;
    return;
  }
  LOG16("published seq", post.reading.seq);
  backoff.delivered();
  recovery.answered();
  // The broker has it: it leaves the queue -- unless the queue, full, already let it go.
  queue.leave(postId, false);
}

void startNext() {
  // A module that rebooted or lost Wi-Fi has lost the link and the session with it.
  bool linkUsable = recovery.synced() && esp.wifiUp();
  if (!linkUsable && mqtt.state() != EspAtMqtt::State::Disconnected) mqtt.disconnect();
  if (recovery.waiting() || recovery.step()) {
    // (a pause, or the module's next step towards a link)
  } else if (mqtt.state() == EspAtMqtt::State::Disconnected) {
    // The TCP link (blocking, bounded by the driver's CIPSTART step), then CONNECT; the CONNACK comes in poll().
    if (!net.connect(ESPAT_PICK(SERVER_HOST), ESPAT_SERVER_PORT_NUMBER)) {
      LOG16("broker link failed", (uint8_t)net.lastStatus());
      count(post.diag.linkFailures);
      backOff();
      return;
    }
    configsAcked = 0;
    inFlight = 0;
    inFlightIsReading = false;  // a reading goes first
    mqtt.startConnect(ESPAT_PICK(DEVICE), ESPAT_PICK(MQTT_USER), ESPAT_PICK(MQTT_PASS),
                      kKeepAliveS);
  } else if (mqtt.connected() && !inFlight) {
    // A reading first, then the discovery configs (about 1 s each on the wire) take turns with the readings until
    // the three are out: a backlog after an outage waits 3 s for them at most, and a queue that never empties
    // (readings sampled faster than a slow link takes them) cannot keep the sensor out of Home Assistant.
    bool configDue = configsAcked < (uint8_t)HaValue::Count;
    if (queue.count() && !(configDue && inFlightIsReading)) {
      postId = takeOldest(post, queue, identity);
      inFlightIsReading = true;
      inFlight = mqtt.publish(HaStateTopic(ESPAT_PICK(DEVICE)), postJson, EspAtMqtt::Qos1);
    } else if (configDue) {
      HaValue v = (HaValue)configsAcked;
      inFlightIsReading = false;
      inFlight = mqtt.publish(HaConfigTopic(ESPAT_PICK(DEVICE), v), HaConfigJson(ESPAT_PICK(DEVICE), v),
                              EspAtMqtt::Qos1, true);
    }
  }
}

// EspAtClient waits (bounded by the driver's steps: a CIPSTART up to 10 s) call yield(); the watchdog guards
// loop() and is fed meanwhile, so a slow connect does not reset the board.
void yield() { wdt_reset(); }

void setup() {
  // Why the board reset, before it is cleared: its low byte only (the AVR is little-endian), the other three are
  // zero already (a global).
  *reinterpret_cast<uint8_t*>(&post.diag.resetCause) = MCUSR;
  MCUSR = 0;
  // The watchdog at its 8 s from here on, as the HTTP reporters set it: one that reset the board is still running
  // (at whatever period it had), and the longest setup (a blank EEPROM formatted, about 3.3 s) fits well within
  // it. Set once, not disabled now and enabled at the end.
  wdt_enable(WDTO_8S);
  usb.begin();
  // As the HTTP reporter (sampling.h): readings kept before a reset or power cut are published after it, and the
  // back-off goes on from the level kept.
  beginReadings();
  post.device = ESPAT_PICK(DEVICE);
  if (ESPAT_RESET_PIN >= 0) esp.setResetPin(ESPAT_RESET_PIN);
  esp.setPassiveReceive(true);  // the broker's answers wait in the module until the client reads them
  espUart.begin();
  startSampling();
}

void loop() {
  wdt_reset();
  esp.poll();
  recovery.poll();
  mqtt.poll();
  followSession();
  sampleIfDue();
  if (esp.busy()) return;
  recovery.done(esp.status());
  startNext();
}
