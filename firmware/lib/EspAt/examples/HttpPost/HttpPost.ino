/*
  HttpPost: POST a reading as JSON every 10 seconds and print the server's answer -- status code and body --
  with EspAtHttp on an EspAtClient: an exact Content-Length, `Connection: close` (or keep-alive), an optional
  bearer token, and a body read never past its Content-Length. For a server to try it against, run the project's
  collector (`espat collect --listen 0.0.0.0:8080`) and set ESPAT_SERVER_HOST to this machine's address.

  Wiring (the ESP-01 is a 3.3 V part: its own 3.3 V regulator good for 300 mA, grounds joined; CH_PD/EN and RST to
  3.3 V through 10 kOhm):
    ESP_ON_SERIAL 0 (default), pins 2/3:
      ESP TX -> Uno pin 2;  Uno pin 3 -> 1 kOhm -> ESP RX, and 2 kOhm from ESP RX to GND (5 V would harm it).
      The module at 9600 baud, once: `espat --port /dev/ttyUSB0 baud 9600 --persist` (a software UART on an Uno
      cannot receive 115200). What the sketch prints goes to the serial monitor at 115200 through EspAtUsbTx, a print-only
      port (Serial would bring its receive buffers and interrupts: 600 B of flash and 150 B of RAM more).
    ESP_ON_SERIAL 1, hardware serial (pins 0/1, 115200 baud, the module's default):
      ESP TX -> Uno pin 0 (RX);  Uno pin 1 (TX) -> the same divider -> ESP RX. Unplug both while uploading. The
      port is the module's now: nothing goes to the serial monitor; the LED shows each answer (on: 2xx).
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
#ifndef ESPAT_TOKEN
#define ESPAT_TOKEN ""  // the collector's token for this device, if it has any
#endif

EspAtDrv esp(espUart);
EspAtClient client(esp);
EspAtHttp http(client);
uint32_t seq;

// The body, printed twice by the request (counted for Content-Length, then sent): it must print the same both times.
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

void setup() {
#if ESP_ON_SERIAL
  pinMode(LED_BUILTIN, OUTPUT);
  espUart.begin(115200);
#else
  monitor.begin();
  espUart.begin();
#endif
  if (sizeof(ESPAT_TOKEN) > 1) http.setBearer(F(ESPAT_TOKEN));
  EspStatus status = espat::begin(esp, F(ESPAT_WIFI_SSID), F(ESPAT_WIFI_PASS));
#if !ESP_ON_SERIAL
  monitor.print(F("joined: status "));
  monitor.println((int)status);
#endif
}

void loop() {
  reading.seq = ++seq;
  reading.a0 = analogRead(A0);
  int status = http.post(F(ESPAT_SERVER_HOST), ESPAT_SERVER_PORT, F(ESPAT_SERVER_PATH), reading);
#if ESP_ON_SERIAL
  digitalWrite(LED_BUILTIN, status >= 200 && status < 300);
  while (http.read() >= 0) {
  }
#else
  monitor.print(F("seq "));
  monitor.print(seq);
  monitor.print(F(": HTTP "));
  monitor.println(status);  // negative: no answer (EspAtHttp.h says which)
  for (int c; (c = http.read()) >= 0;) monitor.write(c);
  monitor.println();
#endif
  http.end();
  delay(10000);
}
