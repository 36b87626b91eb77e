// The tutorial way to post a reading through an ESP-01, kept here only to be measured against espat's reporter:
// Strings built per reading, a fixed delay(1000) after each command and find() on whatever arrived meanwhile.
// A reading whose post fails is simply gone; nothing is retried.
#include <Arduino.h>
#include <SoftwareSerial.h>

SoftwareSerial esp(2, 3);
unsigned long seq = 0;

bool command(const String& line, const char* expect) {
  esp.println(line);
  delay(1000);
  return esp.find((char*)expect);
}

void setup() {
  Serial.begin(115200);
  esp.begin(9600);
  esp.setTimeout(200);
  delay(1000);
  command("AT", "OK");
  command("AT+CWMODE=1", "OK");
  esp.println(String("AT+CWJAP=\"") + SEED_SSID + "\",\"" + SEED_PASS + "\"");
  delay(5000);
  esp.find((char*)"OK");
  Serial.println("seed ready");
}

void loop() {
  seq++;
  float celsius = analogRead(A0) * 500.0 / 1024.0;
  String body = String("{\"device\":\"seed\",\"seq\":") + seq + ",\"readings\":{\"a0_c\":" + String(celsius, 1) + "}}";
  String request = String("POST /api/readings HTTP/1.1\r\nHost: ") + SEED_HOST +
                   "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() +
                   "\r\nConnection: close\r\n\r\n" + body;
  if (command(String("AT+CIPSTART=\"TCP\",\"") + SEED_HOST + "\",80", "OK")) {
    if (command(String("AT+CIPSEND=") + request.length(), ">")) {
      esp.print(request);
      delay(1000);
      Serial.println(esp.find((char*)"SEND OK") ? "sent" : "send failed");
    }
    command("AT+CIPCLOSE", "OK");
  }
  delay(1000);
}
