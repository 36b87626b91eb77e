// http_get: GET one page with a proper HTTP/1.1 request (Host header, Connection: close, exact CIPSEND length)
// and print the whole response to USB as it arrives, then the outcome. Non-blocking, on the driver directly; the
// library's WebClient example does the same through the Arduino Client.
#include <Arduino.h>
#include <EspAt.h>
#include "espat_config.h"
#include "soft_uart.h"
#include "usb_tx.h"

EspAtDrv esp(espUart);  // the ESP-01 on pins 2/3 at 9600
UsbTx usb;  // the page only goes out: no HardwareSerial

// The answer, status line and headers included, straight to USB: the HTTP reader only watches it go by.
class ToUsb : public EspAtSink {
 public:
  bool put(uint8_t c) override {
    reply.feed(c);
    usb.write(c);
    return false;  // the request says Connection: close: the answer ends with the link
  }
  EspAtHttpReply reply;
} answer;
EspAtHttpRequest request;

enum class Stage : uint8_t { Sync, Join, Get, Done } stage = Stage::Sync;

void setup() {
  usb.begin();
  espUart.begin();
#if ESPAT_PASSIVE_RX
  esp.setPassiveReceive(true);  // needs the driver built with ESPAT_CLIENTS=1
#endif
  request.host = ESPAT_PICK(SERVER_HOST);
  request.port = ESPAT_SERVER_PORT_NUMBER;
  request.path = F("/");
  esp.startSync();
}

void loop() {
  esp.poll();
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
      esp.startExchange(0, request.host, request.port, request, answer);
      stage = Stage::Get;
      break;
    default:
      usb.print(F("\r\nHTTP status "));
      usb.println((unsigned)answer.reply.status());
      stage = Stage::Done;
  }
}
