// EspAtMqtt over a real TCP socket (host_client.h), run natively against a real mosquitto by
// test_native_mqtt.py. It publishes MQTT_COUNT readings to espat/test/readings, one at a time: a QoS 1 reading
// moves on only once its PUBACK came, and a session that ends (broker gone, link cut, no answer in time) is
// reconnected and the same reading is sent again. It prints one line per event on stdout.
//
// Environment: MQTT_PORT (the broker on 127.0.0.1), MQTT_USER, MQTT_PASS, MQTT_CLIENT (client id),
// MQTT_COUNT (readings, 10), MQTT_QOS (1), MQTT_KEEPALIVE (s, 60), MQTT_IDLE_MS (pause between readings, 0),
// MQTT_TIMEOUT_MS (the publisher's bound on the broker's answers, 10000), MQTT_CONFIG=1 (first a retained
// Home Assistant discovery config on homeassistant/sensor/native-1_t/config; 2: the same, its payload given as
// bytes).
#include <stdio.h>

#include "EspAtMqtt.h"
#include "host_client.h"

namespace {

long envLong(const char* name, long fallback) {
  const char* v = getenv(name);
  return v && *v ? strtol(v, nullptr, 10) : fallback;
}
const char* envText(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

HostClient net;
EspAtMqtt* mqtt;
long count, seq = 1, idleMs;
uint8_t qos;
bool configDone, configBytes;
unsigned long readyAt;
uint16_t inFlight;
EspAtMqtt::State was = EspAtMqtt::State::Disconnected;

class Reading : public Printable {
 public:
  size_t printTo(Print& p) const override {
    size_t n = p.print(F("{\"device\":\"native-1\",\"incarnation\":\"1a2b3c4d\",\"boot\":1,\"seq\":"));
    n += p.print(seq);
    return n + p.print('}');
  }
};

}  // namespace

void setup() {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  static EspAtMqtt instance(net, (uint16_t)envLong("MQTT_TIMEOUT_MS", 10000));
  mqtt = &instance;
  count = envLong("MQTT_COUNT", 10);
  qos = (uint8_t)envLong("MQTT_QOS", 1);
  idleMs = envLong("MQTT_IDLE_MS", 0);
  configDone = envLong("MQTT_CONFIG", 0) == 0;
  configBytes = envLong("MQTT_CONFIG", 0) == 2;
}

void loop() {
  mqtt->poll();
  EspAtMqtt::State now = mqtt->state();
  if (now != was) {
    if (now == EspAtMqtt::State::Connected) printf("connected\n");
    if (now == EspAtMqtt::State::Disconnected) {
      if (mqtt->error() == EspAtMqtt::Error::Refused) {
        printf("refused %u\n", mqtt->returnCode());
        exit(3);
      }
      printf("lost %u\n", (unsigned)mqtt->error());
      readyAt = millis() + 200;  // back off a little before the next try
    }
    was = now;
  }
  if (now == EspAtMqtt::State::Disconnected) {
    inFlight = 0;
    if ((long)(millis() - readyAt) < 0) return;
    readyAt = millis() + 200;
    if (!net.connect("127.0.0.1", (uint16_t)envLong("MQTT_PORT", 1883))) return;
    const char* user = envText("MQTT_USER");
    const char* pass = envText("MQTT_PASS");
    if (mqtt->startConnect(envText("MQTT_CLIENT"), user, pass, (uint16_t)envLong("MQTT_KEEPALIVE", 60))) {
      was = EspAtMqtt::State::Connecting;
    }
    return;
  }
  if (now != EspAtMqtt::State::Connected) return;
  if (inFlight) {
    if (!mqtt->acked(inFlight)) return;  // still waiting (poll() ends the session if it never comes)
    inFlight = 0;
    if (!configDone) {
      configDone = true;
      printf("config acked\n");
    } else {
      printf("acked %ld\n", seq);
      seq++;
      readyAt = millis() + idleMs;
    }
  }
  if (!configDone) {
#define CONFIG_JSON                                                                                  \
  "{\"name\":\"t\",\"state_topic\":\"espat/test/readings\",\"unit_of_measurement\":\"\xC2\xB0" \
  "C\",\"value_template\":\"{{value_json.seq}}\",\"unique_id\":\"native-1_t\"}"
    if (configBytes) {  // the payload as bytes in RAM
      static const char json[] = CONFIG_JSON;
      inFlight = mqtt->publish(F("homeassistant/sensor/native-1_t/config"), (const uint8_t*)json, sizeof json - 1,
                               EspAtMqtt::Qos1, true);
    } else {
      inFlight = mqtt->publish(F("homeassistant/sensor/native-1_t/config"), F(CONFIG_JSON), EspAtMqtt::Qos1, true);
    }
    return;
  }
  if (seq > count) {
    printf("done\n");
    mqtt->disconnect();
    exit(0);
  }
  if ((long)(millis() - readyAt) < 0) return;
  Reading reading;
  uint16_t id = mqtt->publish(F("espat/test/readings"), reading, qos ? EspAtMqtt::Qos1 : EspAtMqtt::Qos0);
  if (!id) return;  // the session ended on the write: poll() notices, the reading is sent again later
  if (qos) {
    inFlight = id;
  } else {
    printf("sent %ld\n", seq);
    seq++;
    readyAt = millis() + idleMs;
  }
}
