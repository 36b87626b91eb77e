// http_get: GET one page with a proper HTTP/1.1 request (Host header, Connection: close, exact CIPSEND length)
// and print the whole response to USB as it arrives, then the outcome.
#include <Arduino.h>
#include <EspAt.h>
#include "espat_config.h"
#include "soft_uart.h"
#include "usb_tx.h"

EspAt esp(espUart);  // the ESP-01 on pins 2/3 at 9600
UsbTx usb;  // the page only goes out: no HardwareSerial

enum class Stage : uint8_t { Sync, Join, Get, Done } stage = Stage::Sync;

void setup() {
  usb.begin();
  espUart.begin();
  esp.startSync();
}

void loop() {
  esp.poll();
  for (int c; (c = esp.read()) >= 0;) usb.write((uint8_t)c);
  if (esp.busy() || stage == Stage::Done) return;
  if (esp.status() != EspStatus::Ok) {
    usb.print(F("\r\nfailed at stage "));
    usb.print((unsigned)stage);
    usb.print(F(", status "));
    usb.println((unsigned)esp.status());
    stage = Stage::Done;
    return;
  }
  switch (stage) {
    case Stage::Sync:
      esp.startJoin(ESPAT_PICK(WIFI_SSID), ESPAT_PICK(WIFI_PASS));
      stage = Stage::Join;
      break;
    case Stage::Join:
      esp.startHttp(0, ESPAT_PICK(SERVER_HOST), ESPAT_PICK(SERVER_PORT), PSTR("/"), nullptr, true);
      stage = Stage::Get;
      break;
    default:
      usb.print(F("\r\nHTTP status "));
      usb.println((unsigned)esp.httpStatus());
      if (esp.rxOverflow()) {
        usb.print(F("bytes lost: "));
        usb.println(esp.rxOverflow());
      }
      stage = Stage::Done;
  }
}
