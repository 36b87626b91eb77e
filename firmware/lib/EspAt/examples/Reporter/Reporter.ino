/*
  Reporter: a reading POSTed every minute without ever blocking -- the driver used directly, as the project's full
  reporter does. That one is a sketch of its own, firmware/src/reporter in the espat repository (`pio run -e
  reporter_softserial`): readings kept through outages, a recovery ladder up to a reset pin, an identity that
  never repeats, the collector's answers honoured. This example shows its core: loop() polls the driver and
  starts the next step (sync, join, POST) when the last has ended, so the sketch stays free for its sensors.

  Wiring (the ESP-01 is a 3.3 V part: its own 3.3 V regulator good for 300 mA, grounds joined; CH_PD/EN and RST to
  3.3 V through 10 kOhm):
    ESP_ON_SERIAL 0 (default), pins 2/3:
      ESP TX -> Uno pin 2;  Uno pin 3 -> 1 kOhm -> ESP RX, and 2 kOhm from ESP RX to GND (5 V would harm it).
      The module at 9600 baud, once: `espat --port /dev/ttyUSB0 baud 9600 --persist` (a software UART on an Uno
      cannot receive 115200). The page goes to the serial monitor at 115200 through EspAtUsbTx, a print-only
      port (Serial would bring its receive buffers and interrupts: 600 B of flash and 150 B of RAM more).
    ESP_ON_SERIAL 1, hardware serial (pins 0/1, 115200 baud, the module's default):
      ESP TX -> Uno pin 0 (RX);  Uno pin 1 (TX) -> the same divider -> ESP RX. Unplug both while uploading. The
      port is the module's now: nothing goes to the serial monitor; the LED is on while the last POST was answered 2xx.
*/
#include <EspAt.h>

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
#define ESPAT_SERVER_HOST "192.168.1.10"
#endif
#ifndef ESPAT_SERVER_PORT
#define ESPAT_SERVER_PORT 8080
#endif
#ifndef ESPAT_SERVER_PATH
#define ESPAT_SERVER_PATH "/api/readings"
#endif
#ifndef ESPAT_DEVICE
#define ESPAT_DEVICE "uno-example"
#endif

const unsigned long kIntervalMs = 60000;

EspAtDrv esp(espUart);
EspAtHttpExchange post;  // the request and its answer's status line

class Reading : public Printable {
 public:
  uint32_t seq;
  int a0;
  size_t printTo(Print& out) const override {
    size_t n = out.print(F("{\"device\":\"" ESPAT_DEVICE "\",\"incarnation\":\"00000001\",\"boot\":1,\"seq\":"));
    n += out.print(seq);
    n += out.print(F(",\"uptime_ms\":0,\"readings\":{\"a0\":"));
    n += out.print(a0);
    n += out.print(F("},\"dropped\":0}"));
    return n;
  }
} reading;

enum class Stage : uint8_t { Sync, Join, Idle, Post } stage = Stage::Sync;
unsigned long last = -kIntervalMs;

void setup() {
#if ESP_ON_SERIAL
  pinMode(LED_BUILTIN, OUTPUT);
  espUart.begin(115200);
#else
  monitor.begin();
  espUart.begin();
#endif
  post.request.host = F(ESPAT_SERVER_HOST);
  post.request.port = ESPAT_SERVER_PORT;
  post.request.path = F(ESPAT_SERVER_PATH);
  post.request.body = &reading;
  esp.startSync();
}

void report(EspStatus status, int http) {
#if ESP_ON_SERIAL
  digitalWrite(LED_BUILTIN, http >= 200 && http < 300);
#else
  monitor.print(F("seq "));
  monitor.print(reading.seq);
  monitor.print(F(": status "));
  monitor.print((int)status);
  monitor.print(F(", HTTP "));
  monitor.println(http);
#endif
}

void loop() {
  esp.poll();  // never blocks: reads what came, moves the operation in flight on
  // ... the sketch's own work goes here ...
  if (esp.busy()) return;
  EspStatus status = esp.status();
  switch (stage) {
    case Stage::Sync:
      if (status == EspStatus::Ok && esp.startJoin(F(ESPAT_WIFI_SSID), F(ESPAT_WIFI_PASS))) stage = Stage::Join;
      else esp.startSync();  // not answering yet: ask again
      return;
    case Stage::Join:
      stage = status == EspStatus::Ok ? Stage::Idle : Stage::Sync;
      return;
    case Stage::Post:
      report(post.result(esp), post.reply.status());
      stage = esp.wifiUp() ? Stage::Idle : Stage::Sync;
      return;
    case Stage::Idle:
      if (millis() - last < kIntervalMs) return;
      last = millis();
      reading.seq++;
      reading.a0 = analogRead(A0);
      if (post.start(esp, 0)) stage = Stage::Post;
      return;
  }
}
