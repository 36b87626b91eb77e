/*
  MqttPublish: publish a reading (A0) to an MQTT broker every 10 seconds at QoS 1 with EspAtMqtt on an
  EspAtClient, and a Home Assistant discovery config (retained) first, so the sensor shows up in Home Assistant
  without any configuration. A reading counts as delivered only when the broker's PUBACK for it came; one that was
  not acknowledged (broker gone, link dropped, no answer in 10 s) is published again, the same seq in it, after
  the session is opened again. For a broker to try it against: `mosquitto -p 1883` (Debian's mosquitto package),
  `mosquitto_sub -t 'espat/#' -v` to watch, and ESPAT_SERVER_HOST set to that machine's address.

  Wiring (the ESP-01 is a 3.3 V part: its own 3.3 V regulator good for 300 mA, grounds joined; CH_PD/EN and RST to
  3.3 V through 10 kOhm):
    ESP_ON_SERIAL 0 (default), pins 2/3:
      ESP TX -> Uno pin 2;  Uno pin 3 -> 1 kOhm -> ESP RX, and 2 kOhm from ESP RX to GND (5 V would harm it).
      The module at 9600 baud, once: `espat --port /dev/ttyUSB0 baud 9600 --persist` (a software UART on an Uno
      cannot receive 115200). What the sketch prints goes to the serial monitor at 115200 through EspAtUsbTx, a
      print-only port.
    ESP_ON_SERIAL 1, hardware serial (pins 0/1, 115200 baud, the module's default):
      ESP TX -> Uno pin 0 (RX);  Uno pin 1 (TX) -> the same divider -> ESP RX. Unplug both while uploading. The
      port is the module's now: nothing goes to the serial monitor; the LED lights while readings are acknowledged.
*/
#include <EspAt.h>
#include <EspAtMqtt.h>

#ifndef ESP_ON_SERIAL
#define ESP_ON_SERIAL 0  // 1: the ESP-01 on pins 0/1 (see the wiring above)
#endif

#if ESP_ON_SERIAL
#include <EspAtUartPort.h>  // espUart: UART0, pins 0/1
#else
#include <EspAtSoftUart.h>  // espUart: pins 2/3 at 9600
#include <EspAtUsbTx.h>
EspAtUsbTx monitor;         // the serial monitor, output only
#endif

#ifndef ESPAT_WIFI_SSID
#define ESPAT_WIFI_SSID "your-network"
#endif
#ifndef ESPAT_WIFI_PASS
#define ESPAT_WIFI_PASS "your-password"
#endif
#ifndef ESPAT_SERVER_HOST
#define ESPAT_SERVER_HOST "192.168.1.10"  // the broker
#endif
#ifndef ESPAT_SERVER_PORT
#define ESPAT_SERVER_PORT 1883
#endif
#ifndef ESPAT_DEVICE
#define ESPAT_DEVICE "uno-example"  // client id and topic level: letters, digits, _ and - only
#endif
#ifndef ESPAT_MQTT_USER
#define ESPAT_MQTT_USER ""  // empty: the broker takes anonymous clients
#endif
#ifndef ESPAT_MQTT_PASS
#define ESPAT_MQTT_PASS ""
#endif

#define STATE_TOPIC "espat/" ESPAT_DEVICE "/reading"

EspAtDrv esp(espUart);
EspAtClient client(esp);
EspAtMqtt mqtt(client);
bool configured;  // the discovery config was acknowledged in this session
// When the broker was last tried, and when the last reading went: the low 16 bits of millis(), enough for waits of
// 5 and 10 s, in half the code of four bytes. 0: not yet (a time that happens to be 0 only skips one wait).
uint16_t lastSent, lastTry;

// The payload, printed twice by the publisher (counted, then sent): it must print the same both times. The
// publisher counts the bytes itself, so printTo() need not add up what it printed (that sum is 28 B of flash).
class Reading : public Printable {
 public:
  uint32_t seq = 1;
  uint16_t a0 = 0;
  size_t printTo(Print& out) const override {
    out.print(F("{\"seq\":"));  // (the topic names the device)
    out.print(seq);
    out.print(F(",\"a0\":"));
    out.print(a0);
    out.print('}');
    return 0;
  }
} reading;

void report(const __FlashStringHelper* what, unsigned long value) {
#if ESP_ON_SERIAL
  (void)what;
  (void)value;
#else
  monitor.print(what);
  monitor.println(value);
#endif
}

// Waits for the PUBACK of `id` (0: the publish failed); at most the publisher's 10 s bound, then the session ends.
bool delivered(uint16_t id) {
  while (mqtt.waitingAck()) mqtt.poll();
  return mqtt.acked(id);
}

void setup() {
#if ESP_ON_SERIAL
  pinMode(LED_BUILTIN, OUTPUT);
  espUart.begin(115200);
#else
  monitor.begin();
  espUart.begin();
#endif
  // Passive receive off (false): what a broker sends a publisher (CONNACK, PUBACK, PINGRESP) is a few bytes, each
  // the answer to a packet of ours, so it fits the client's buffer as it comes (+IPD), and the sketch links none of
  // passive receive's code (about 400 B of flash). A sketch that reads long answers leaves it on. The price, on
  // pins 2/3: an answer that arrives while the board is sending (a software serial port hears nothing then, and
  // the client asks the module after 1 s of quiet whether the link is still open) is lost; its reading is published
  // again, the same seq in it, once the 10 s wait has ended the session and it is opened again: a repeat QoS 1
  // allows (the full reporter, reporter_mqtt, keeps passive receive on).
  EspStatus status = espat::begin(esp, F(ESPAT_WIFI_SSID), F(ESPAT_WIFI_PASS), false);
  report(F("wifi "), (uint8_t)status);  // 0: joined
}

void loop() {
  mqtt.poll();  // PUBACKs, PINGREQ when idle, a session that ended
  uint16_t now = millis();
  if (!mqtt.connected()) {
    // A broker that failed is tried again 5 s later.
    if (lastTry && (uint16_t)(now - lastTry) < 5000) return;
    lastTry = now;
    // The TCP link, then the MQTT session; both wait, bounded.
    if (!client.connect(F(ESPAT_SERVER_HOST), ESPAT_SERVER_PORT) ||
        !mqtt.connect(F(ESPAT_DEVICE), F(ESPAT_MQTT_USER), F(ESPAT_MQTT_PASS))) {
      // error() * 10 + returnCode(): 30 no answer in time, 50 the link closed; 25 refused, not authorised (the
      // CONNACK's code 5).
      report(F("broker error "), (uint8_t)((uint8_t)mqtt.error() * 10 + mqtt.returnCode()));
      return;
    }
    configured = false;
  }
  if (!configured) {
    configured = delivered(mqtt.publish(F("homeassistant/sensor/" ESPAT_DEVICE "_a0/config"),
                                        F("{\"name\":\"A0\",\"uniq_id\":\"" ESPAT_DEVICE "_a0\",\"stat_t\":\""
                                          STATE_TOPIC "\",\"val_tpl\":\"{{value_json.a0}}\"}"),
                                        EspAtMqtt::Qos1, true));
    return;
  }
  if (lastSent && (uint16_t)(now - lastSent) < 10000) return;
  lastSent = now;
  reading.a0 = analogRead(A0);
  bool ok = delivered(mqtt.publish(F(STATE_TOPIC), reading, EspAtMqtt::Qos1));
#if ESP_ON_SERIAL
  digitalWrite(LED_BUILTIN, ok);
#endif
  if (ok) {
    report(F("published seq "), reading.seq);
    reading.seq++;  // only now: a reading the broker did not acknowledge goes again with the same seq
  } else {
    report(F("no ack, error "), (uint8_t)mqtt.error());
    lastSent = 0;
  }
}
