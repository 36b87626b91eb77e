/*
  NtpTime: ask an NTP server for the time over UDP (EspAtUDP) once a minute and print it as UTC.

  Wiring (the ESP-01 is a 3.3 V part: its own 3.3 V regulator good for 300 mA, grounds joined; CH_PD/EN and RST to
  3.3 V through 10 kOhm):
    ESP_ON_SERIAL 0 (default), pins 2/3:
      ESP TX -> Uno pin 2;  Uno pin 3 -> 1 kOhm -> ESP RX, and 2 kOhm from ESP RX to GND (5 V would harm it).
      The module at 9600 baud, once: `espat --port /dev/ttyUSB0 baud 9600 --persist` (a software UART on an Uno
      cannot receive 115200). What the sketch prints goes to the serial monitor at 115200 through EspAtUsbTx, a print-only
      port (Serial would bring its receive buffers and interrupts: 600 B of flash and 150 B of RAM more).
    ESP_ON_SERIAL 1, hardware serial (pins 0/1, 115200 baud, the module's default):
      ESP TX -> Uno pin 0 (RX);  Uno pin 1 (TX) -> the same divider -> ESP RX. Unplug both while uploading. The
      port is the module's now: nothing goes to the serial monitor; the LED blinks once for each answer.
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
#ifndef ESPAT_NTP_HOST
#define ESPAT_NTP_HOST "pool.ntp.org"
#endif
#ifndef ESPAT_NTP_PORT
#define ESPAT_NTP_PORT 123
#endif

const uint16_t kLocalPort = 2390;
const uint32_t kSeventyYears = 2208988800UL;  // NTP counts from 1900, Unix time from 1970

EspAtDrv esp(espUart);
EspAtUDP udp(esp);

// Seconds since 1970 from the server, or 0 when no answer came within 5 s.
uint32_t askTime() {
  uint8_t packet[48] = {0xE3, 0, 6, 0xEC};  // LI unknown, version 4, client; stratum, poll, precision
  if (!udp.beginPacket(F(ESPAT_NTP_HOST), ESPAT_NTP_PORT)) return 0;
  udp.write(packet, sizeof packet);
  if (!udp.endPacket()) return 0;
  for (unsigned long since = millis(); millis() - since < 5000;) {
    if (udp.parsePacket() >= 44) {
      udp.read(packet, sizeof packet);
      uint32_t seconds = (uint32_t)packet[40] << 24 | (uint32_t)packet[41] << 16 | (uint16_t)packet[42] << 8 | packet[43];
      return seconds - kSeventyYears;
    }
  }
  return 0;
}

void setup() {
#if ESP_ON_SERIAL
  pinMode(LED_BUILTIN, OUTPUT);
  espUart.begin(115200);
#else
  monitor.begin();
  espUart.begin();
#endif
  espat::begin(esp, F(ESPAT_WIFI_SSID), F(ESPAT_WIFI_PASS));
  udp.begin(kLocalPort);
}

void printTwo(Print& out, uint8_t v, char after) {
  out.print((char)('0' + v / 10));
  out.print((char)('0' + v % 10));
  if (after) out.print(after);
}

void loop() {
  uint32_t t = askTime();
#if ESP_ON_SERIAL
  if (t) {
    digitalWrite(LED_BUILTIN, HIGH);
    delay(200);
    digitalWrite(LED_BUILTIN, LOW);
  }
#else
  if (t) {
    monitor.print(F("UTC "));
    printTwo(monitor, t / 3600 % 24, ':');
    printTwo(monitor, t / 60 % 60, ':');
    printTwo(monitor, t % 60, ' ');
    monitor.print(F("unix "));
    monitor.println(t);
  } else {
    monitor.println(F("no answer"));
  }
#endif
  udp.stop();
  delay(60000);
}
