// bridge: the Uno as a USB-to-serial adapter for an ESP-01 on pins 2/3, so `espat --port <uno port> --baud 9600`
// drives the module through the board. Both sides run at 9600: SoftwareSerial cannot receive faster on an Uno,
// and equal rates mean neither side's 64-byte buffer can be outrun.
#include <Arduino.h>
#include <SoftwareSerial.h>

SoftwareSerial esp(2, 3);

void setup() {
  Serial.begin(9600);
  esp.begin(9600);
}

void loop() {
  if (esp.available()) Serial.write(esp.read());
  if (Serial.available()) esp.write(Serial.read());
}
