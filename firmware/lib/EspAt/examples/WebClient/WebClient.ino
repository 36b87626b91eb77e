/*
  WebClient: GET a page over an ESP-01 and print it to the serial monitor -- the classic example, done right:
  an HTTP/1.1 request with its Host header and `Connection: close`, and every byte of the answer read until the
  server closes. Nothing is lost while the sketch prints: the module keeps what arrives until the sketch asks.

  Wiring (the ESP-01 is a 3.3 V part: its own 3.3 V regulator good for 300 mA, grounds joined; CH_PD/EN and RST to
  3.3 V through 10 kOhm):
    ESP_ON_SERIAL 0 (default), pins 2/3:
      ESP TX -> Uno pin 2;  Uno pin 3 -> 1 kOhm -> ESP RX, and 2 kOhm from ESP RX to GND (5 V would harm it).
      The module at 9600 baud, once: `espat --port /dev/ttyUSB0 baud 9600 --persist` (a software UART on an Uno
      cannot receive 115200). The page goes to the serial monitor at 115200 through EspAtUsbTx, a print-only
      port (Serial would bring its receive buffers and interrupts: 600 B of flash and 150 B of RAM more).
    ESP_ON_SERIAL 1, hardware serial (pins 0/1, 115200 baud, the module's default):
      ESP TX -> Uno pin 0 (RX);  Uno pin 1 (TX) -> the same divider -> ESP RX. Unplug both while uploading. The
      port is the module's now: nothing goes to the serial monitor; the LED lights when the whole page arrived.
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
#define ESPAT_SERVER_HOST "example.com"
#endif
#ifndef ESPAT_SERVER_PORT
#define ESPAT_SERVER_PORT 80
#endif

EspAtDrv esp(espUart);
EspAtClient client(esp);
unsigned long received;

void setup() {
#if ESP_ON_SERIAL
  pinMode(LED_BUILTIN, OUTPUT);
  espUart.begin(115200);
#else
  monitor.begin();
  espUart.begin();
#endif
  EspStatus status = espat::begin(esp, F(ESPAT_WIFI_SSID), F(ESPAT_WIFI_PASS));
  if (status == EspStatus::Ok && client.connect(F(ESPAT_SERVER_HOST), ESPAT_SERVER_PORT)) {
    client.print(F("GET / HTTP/1.1\r\nHost: " ESPAT_SERVER_HOST "\r\nConnection: close\r\n\r\n"));
    return;
  }
#if !ESP_ON_SERIAL
  monitor.print(F("no connection, status "));
  monitor.println((int)(status == EspStatus::Ok ? client.lastStatus() : status));
#endif
}

void loop() {
  // read() says -1 while nothing is there: the same test as available(), without a second call for each byte
  for (int c; (c = client.read()) >= 0; received++) {
#if !ESP_ON_SERIAL
    monitor.write(c);
#endif
  }
  if (client && !client.connected()) {
    client.stop();
#if ESP_ON_SERIAL
    digitalWrite(LED_BUILTIN, HIGH);
#else
    monitor.print(F("\r\n-- closed, bytes received: "));
    monitor.println(received);
#endif
  }
}
