// EspAtClient (and the driver under it) against a scripted module that answers each command as the AT firmware
// does: the test lists the commands it expects, in order, with the module's answer to each; a command that differs
// from the script fails the case. Unsolicited lines (+IPD notices, CLOSED) are injected where a real module sends
// them, glued to answers included. Run as `client_cases NAME`; prints "ok" or why not.
#include "client_script.h"

namespace {

// connect, write (gathered, one CIPSEND on flush), available, peek, read, the server's close, stop.
void connectWriteRead() {
  begin();
  EspAtClient client(esp);
  expectConnect(0, "example.com", 80);
  CHECK(client.connect(F("example.com"), 80) == 1 && client && client.connected());
  // 56 bytes written a byte at a time: a full buffer goes as one 32-byte CIPSEND, the rest waits for flush().
  expectSend(0, kRequest.substr(0, 32));
  size_t wrote = 0;
  for (char c : kRequest) wrote += client.write((uint8_t)c);
  CHECK(wrote == kRequest.size());
  CHECK(module.done());
  expectSend(0, kRequest.substr(32), "", "+IPD,0,17\r\n");
  client.flush();
  CHECK(module.done());
  expectRecv(0, 32, "HTTP/1.1 200 OK\r\n");
  CHECK(client.available() == 17);
  CHECK(client.peek() == 'H' && client.peek() == 'H' && client.available() == 17);
  uint8_t buf[8];
  CHECK(client.read(buf, sizeof buf) == 8 && std::string((char*)buf, 8) == "HTTP/1.1");
  CHECK(readAll(client) == " 200 OK\r\n");
  module.inject("0,CLOSED\r\n");
  CHECK(!client.connected());  // nothing announced is left: no question to the module
  expectClose(0, false);
  client.stop();
  CHECK(!client && module.done());
}

// The answer is announced before SEND OK, glued to the send's own lines: nothing of it is lost.
void replyGluedToSendOk() {
  begin();
  EspAtClient client(esp);
  expectConnect(0, "example.com", 80);
  CHECK(client.connect("example.com", 80) == 1);  // a RAM string
  expectSend(0, "ping", "+IPD,0,20\r\n");
  client.print("ping");
  client.flush();
  CHECK(client.lastStatus() == EspStatus::Ok);
  expectRecv(0, 32, "HTTP/1.1 204 Nope\r\n\r");
  CHECK(readAll(client) == "HTTP/1.1 204 Nope\r\n\r");
  CHECK(module.done());
}

// A server that answers and closes at once: its answer and CLOSED arrive before SEND OK. 1.x says CLOSED while it
// still holds the bytes; they are read all the same.
void serverClosesAtOnce() {
  begin();
  EspAtClient client(esp);
  expectConnect(0, "example.com", 80);
  CHECK(client.connect(F("example.com"), 80) == 1);
  expectSend(0, "hi", "+IPD,0,20\r\n0,CLOSED\r\n");
  client.print("hi");
  client.flush();
  CHECK(client.lastStatus() == EspStatus::Ok);
  CHECK(client.connected());  // closed, but 20 bytes wait
  expectRecv(0, 32, "0123456789abcdefghij");
  CHECK(readAll(client) == "0123456789abcdefghij");
  CHECK(!client.connected());  // the short read emptied it: no question to the module
  expectClose(0, false);
  client.stop();
  CHECK(module.done());
}

// Two clients, two links, data for both interleaved; a stopped client's link is taken by the next one.
void multipleLinks() {
  begin(true);
  EspAtClient a(esp), b(esp), c(esp);
  expectConnect(0, "one.example", 80);
  CHECK(a.connect(F("one.example"), 80) == 1);
  expectConnect(1, "192.168.1.10", 8080);
  CHECK(b.connect(IPAddress(192, 168, 1, 10), 8080) == 1);
  module.inject("+IPD,1,3\r\n+IPD,0,4\r\n");
  expectRecv(1, 32, "bee");
  CHECK(readAll(b) == "bee");
  expectRecv(0, 32, "aaaa");
  CHECK(readAll(a) == "aaaa");
  expectClose(0, true);
  a.stop();
  expectConnect(0, "three.example", 80);
  CHECK(c.connect(F("three.example"), 80) == 1);
  module.inject("+IPD,0,2\r\n");
  expectRecv(0, 32, "cc");
  CHECK(readAll(c) == "cc" && b.available() == 0);
  CHECK(module.done());
}

// Passive receive: a reply of 100 bytes is fetched 32 at a time, never more than the client has room for.
void passiveChunks() {
  begin();
  EspAtClient client(esp);
  expectConnect(0, "example.com", 80);
  CHECK(client.connect(F("example.com"), 80) == 1);
  module.inject("+IPD,0,100\r\n");
  std::string body;
  for (int i = 0; i < 100; i++) body += (char)('A' + i % 26);
  expectRecv(0, 32, body.substr(0, 32));
  CHECK(client.available() == 32);
  CHECK(client.read() == 'A');                 // 31 left in the buffer: no fetch yet
  CHECK(client.available() == 31 && module.done());
  uint8_t rest[31];
  CHECK(client.read(rest, sizeof rest) == 31 && module.done());  // the buffer empties: no fetch until asked
  std::string got = "A" + std::string((char*)rest, sizeof rest);
  // A full read means "maybe more": the next read asks again, as the notice said 100.
  expectRecv(0, 32, body.substr(32, 32));
  expectRecv(0, 32, body.substr(64, 32));
  expectRecv(0, 32, body.substr(96));
  got += readAll(client);
  CHECK(got == body && module.done());
}

// A firmware without passive receive (CIPRECVMODE refused): data comes as +IPD at any time. Bytes that arrive
// while read() waits for the module to fall quiet before its once-a-second question land in the empty buffer
// wherever its head is, and are read from there: not from the buffer's start, where the last answer's bytes lie.
void activeBytesDuringTheQuietWait() {
  module.expect("AT\r\n", kOk);
  module.expect("ATE0\r\n", kOk);
  module.expect("AT+GMR\r\n", std::string(kVersion17) + "OK\r\n");
  module.expect("AT+CIPMUX=1\r\n", kOk);
  module.expect("AT+CIPRECVMODE=1\r\n", "\r\nERROR\r\n");
  module.expect("AT+CWMODE_CUR=1\r\n", kOk);
  module.expect("AT+CWJAP_CUR=\"HomeNet\",\"s3cr3t\"\r\n", "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
  CHECK(espat::begin(esp, F("HomeNet"), F("s3cr3t")) == EspStatus::Ok);
  EspAtClient client(esp);
  expectConnect(0, "example.com", 80);
  CHECK(client.connect(F("example.com"), 80) == 1);
  expectSend(0, "hi");  // a request: from now on the client may ask about an answer
  client.print("hi");
  client.flush();
  module.inject("+IPD,0,5:abcde");
  esp.poll();
  CHECK(readAll(client) == "abcde" && module.done());  // the buffer is empty again, its head 5 places on
  shimAdvanceMs(1100);  // a second without data: the next read asks the module once
  module.later = "+IPD,0,3:xyz";
  module.laterDue = millis();  // heard at the wait for quiet before the question (its first look at the port)
  expectRecvNothing(0, 29);    // room for 29 more (an active module has nothing to hand out)
  CHECK(readAll(client) == "xyz");
  CHECK(module.done() && module.lost == 0);
}

// A server that refuses: connect() is 0, says why, and the link is free again.
void connectRefused() {
  begin(true);
  EspAtClient client(esp);
  module.expect("AT+CIPSTART=0,\"TCP\",\"example.com\",81\r\n", "\r\nERROR\r\n0,CLOSED\r\n");
  CHECK(client.connect(F("example.com"), 81) == 0 && !client);
  CHECK(client.lastStatus() == EspStatus::ConnectFailed);
  expectConnect(0, "example.com", 80);
  CHECK(client.connect(F("example.com"), 80) == 1);
  CHECK(module.done());
}

// UDP on 1.x: the module has no passive receive for UDP, so the answer comes as +IPD, one datagram per frame; a
// second one that comes while the first is unread is dropped and counted, never appended.
void udpActive17() {
  begin();
  EspAtUDP udp(esp);
  CHECK(udp.begin(2390) == 1);
  module.expect("AT+CIPSTART=0,\"UDP\",\"pool.ntp.org\",123,2390,0\r\n", "0,CONNECT\r\n\r\nOK\r\n");
  CHECK(udp.beginPacket(F("pool.ntp.org"), 123) == 1);
  std::string request(48, '\0');
  request[0] = 0x1B;
  CHECK(udp.write((const uint8_t*)request.data(), 48) == 48);
  std::string answer(48, 'n');
  expectSend(0, request, "", "+IPD,0,48:" + answer + "+IPD,0,3:xyz");
  CHECK(udp.endPacket() == 1);
  CHECK(udp.parsePacket() == 48 && udp.available() == 48);
  uint8_t got[48];
  CHECK(udp.read(got, 48) == 48 && std::string((char*)got, 48) == answer);
  CHECK(udp.dropped() == 1);
  expectRecvNothing(0, 48);  // nothing announced: after a while it asks anyway (passive is on for TCP)
  shimAdvanceMs(600);
  CHECK(udp.parsePacket() == 0);
  expectClose(0, true);
  udp.stop();
  CHECK(module.done());
}

// UDP on 1.x on a real wire: the datagram's +IPD bytes come one by one (50 ms for 48 bytes at 9600 baud), so a
// parsePacket() in the middle of them sees part of it. Nothing is announced until the whole datagram is in (a
// partial one announced, then dropped as read, lost NTP's answer on every board); a datagram whose bytes stop
// coming is replaced by the next one and counted as dropped.
void udpDatagramInPieces() {
  begin();
  EspAtUDP udp(esp);
  CHECK(udp.begin(2390) == 1);
  module.expect("AT+CIPSTART=0,\"UDP\",\"pool.ntp.org\",123,2390,0\r\n", "0,CONNECT\r\n\r\nOK\r\n");
  CHECK(udp.beginPacket(F("pool.ntp.org"), 123) == 1);
  udp.write('q');
  expectSend(0, "q", "", "");
  CHECK(udp.endPacket() == 1);
  std::string answer;
  for (int i = 0; i < 48; i++) answer += (char)(i * 5);
  module.inject("+IPD,0,48:" + answer.substr(0, 20));
  CHECK(udp.parsePacket() == 0 && udp.available() == 0 && module.done());
  module.inject(answer.substr(20));
  CHECK(udp.parsePacket() == 48);
  uint8_t got[48];
  CHECK(udp.read(got, 48) == 48 && std::string((char*)got, 48) == answer && udp.dropped() == 0);
  // A datagram torn off (its bytes stop: the driver gives it up after its payload gap), then a whole one.
  module.inject("+IPD,0,48:" + answer.substr(0, 10));
  CHECK(udp.parsePacket() == 0);
  shimAdvanceMs(150);
  CHECK(udp.parsePacket() == 0);
  module.inject("+IPD,0,5:hello");
  CHECK(udp.parsePacket() == 5 && udp.read(got, 5) == 5 && std::string((char*)got, 5) == "hello");
  CHECK(udp.dropped() == 1 && module.done());
}

// UDP on 2.x: passive receive covers UDP, so the datagram is announced and fetched whole.
void udpPassive2() {
  begin(true);
  EspAtUDP udp(esp);
  CHECK(udp.begin(2390) == 1);
  module.expect("AT+CIPSTART=0,\"UDP\",\"10.0.0.1\",123,2390,0\r\n", "0,CONNECT\r\n\r\nOK\r\n");
  CHECK(udp.beginPacket(IPAddress(10, 0, 0, 1), 123) == 1 && udp.remoteIP() == IPAddress(10, 0, 0, 1));
  udp.write('x');
  expectSend(0, "x", "", "+IPD,0,5\r\n");
  CHECK(udp.endPacket() == 1);
  expectRecv(0, 48, "hello");
  CHECK(udp.parsePacket() == 5 && udp.read() == 'h' && udp.peek() == 'e' && udp.available() == 4);
  // A datagram longer than the buffer is refused when written, not cut.
  std::string big(49, 'b');
  CHECK(udp.write((const uint8_t*)big.data(), big.size()) == 48 && udp.endPacket() == 0);
  CHECK(module.done());
}

// EspAtHttp on an EspAtClient sends its whole request as one AT+CIPSEND of the exact length (not 32 bytes at a
// time, the Client's buffer).
void expectSends(int link, const std::string& data, const std::string& after) { expectSend(link, data, "", after); }

class Json : public Printable {
 public:
  size_t printTo(Print& out) const override { return out.print("{\"t\":21.5}"); }
} json;

// EspAtHttp on the Client: an exact request, the status and Content-Length read, the body never read past its end
// (the bytes after it are not fetched), the connection closed at the end.
void httpGetAndPost() {
  begin();
  EspAtClient client(esp);
  EspAtHttp http(client);
  expectConnect(0, "example.com", 80);
  std::string get = "GET /x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n";
  std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  expectSends(0, get, "+IPD,0," + n(answer.size()) + "\r\n");
  expectRecv(0, 32, answer.substr(0, 32));
  expectRecv(0, 32, answer.substr(32));
  CHECK(http.get(F("example.com"), 80, F("/x")) == 200);
  CHECK(http.contentLength() == 5);
  std::string body;
  for (int c; (c = http.read()) >= 0;) body += (char)c;
  CHECK(body == "hello" && module.done());
  expectClose(0, true);
  http.end();
  CHECK(!client && module.done());

  http.setBearer("tok-1");  // a RAM string
  expectConnect(0, "example.com", 8080);
  std::string post = "POST /api HTTP/1.1\r\nHost: example.com:8080\r\nAuthorization: Bearer tok-1\r\n"
                     "Content-Type: application/json\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{\"t\":21.5}";
  std::string created = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  expectSends(0, post, "+IPD,0," + n(created.size()) + "\r\n0,CLOSED\r\n");
  expectRecv(0, 32, created.substr(0, 32));
  expectRecv(0, 32, created.substr(32));
  CHECK(http.post(F("example.com"), 8080, F("/api"), json) == 201);
  CHECK(http.contentLength() == 0 && http.read() == -1);
  expectClose(0, false);
  http.end();
  CHECK(module.done());
}

// An idle client asks the module nothing: no AT+CIPRECVDATA every 500 ms (each answered ERROR). Only a second
// after it sent something with no notice since does it ask once (the notice may have been lost under one of its
// commands): one AT+CIPRECVDATA, one AT+CIPSTATUS, and then nothing until the module announces data.
void idleClientAsksNothing() {
  begin(true);
  EspAtClient client(esp);
  expectConnect(0, "example.com", 80);
  CHECK(client.connect(F("example.com"), 80) == 1);
  shimAdvanceMs(3000);
  CHECK(client.available() == 0 && client.connected() && module.done());  // nothing sent: nothing to ask about
  expectSend(0, "hi");
  client.print("hi");
  client.flush();
  shimAdvanceMs(600);
  CHECK(client.available() == 0 && client.connected() && module.done());
  shimAdvanceMs(600);
  expectRecvNothing(0, 32);
  module.expect("AT+CIPSTATUS\r\n", "STATUS:3\r\n+CIPSTATUS:0,\"TCP\",\"93.184.216.34\",80,10000,0\r\n\r\nOK\r\n");
  CHECK(client.available() == 0 && client.connected() && module.done());
  for (int i = 0; i < 5; i++) {
    shimAdvanceMs(600);
    CHECK(client.available() == 0 && client.read() == -1 && client.connected());  // a write here fails the case
  }
  CHECK(module.done());
  module.inject("+IPD,0,2\r\n");
  expectRecv(0, 32, "ok");
  CHECK(readAll(client) == "ok" && module.done());
}

// AT 1.7 in passive mode says CLOSED right after the notice, before the data was read (tests/golden/1.7/
// passive-receive). The CLOSED line comes a moment after the notice: a read sent at once, over it, on a software
// serial port would blot it out and the client would never see the close. The WebClient loop must end.
void closeAfterNoticeHeard() {
  begin();
  EspAtClient client(esp);
  expectConnect(0, "example.com", 80);
  CHECK(client.connect(F("example.com"), 80) == 1);
  module.later = "0,CLOSED\r\n";
  module.laterAfter = "hi";
  module.laterMs = 2;
  expectSend(0, "hi", "", "\r\n+IPD,0,20\r\n");
  client.print("hi");
  client.flush();
  expectRecv(0, 32, "0123456789abcdefghij");
  std::string got;
  bool closed = false;
  for (int i = 0; i < 50 && !closed; i++) {
    while (client.available()) got += (char)client.read();
    closed = !client.connected();
    shimAdvanceMs(100);  // a write past the script (a question nobody announced) fails the case
  }
  CHECK(module.lost == 0);
  CHECK(closed && got == "0123456789abcdefghij");
  expectClose(0, false);
  client.stop();
  CHECK(module.done());
}

// An answer that does not begin with a status line (its first bytes lost, or no HTTP at all) has no status: never a
// number from a header ("Content-Length: 225" read as HTTP 225).
void httpNoStatusLine() {
  begin(true);
  EspAtClient client(esp);
  EspAtHttp http(client);
  expectConnect(0, "example.com", 80);
  std::string get = "GET /x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n";
  std::string answer = "Content-Length: 225\r\n\r\n";
  expectSends(0, get, "+IPD,0," + n(answer.size()) + "\r\n");
  expectRecv(0, 32, answer);
  CHECK(http.get(F("example.com"), 80, F("/x")) == -5);
  expectClose(0, true);
  http.end();
  CHECK(module.done());
}

// A Printable, or more bytes than the send buffer holds, go out as one AT+CIPSEND of their exact length, after what
// was gathered before them.
void wholeSends() {
  begin();
  EspAtClient client(esp);
  expectConnect(0, "example.com", 80);
  CHECK(client.connect(F("example.com"), 80) == 1);
  client.print("ab");
  std::string big(200, 'x');
  for (size_t i = 0; i < big.size(); i++) big[i] = (char)('a' + i % 26);
  expectSend(0, "ab");
  expectSend(0, big);
  CHECK(client.write((const uint8_t*)big.data(), big.size()) == 200 && module.done());
  expectSend(0, "{\"t\":21.5}");
  CHECK(client.write(json) == 10 && module.done());
  expectSend(0, "c");
  client.print("c");
  client.flush();
  CHECK(module.done() && !client.getWriteError());
}

// The module's CLOSED lost under one of our reads (a software serial port hears nothing while it transmits): once
// data came and then nothing for a second, connected() asks the module (AT+CIPSTATUS) -- once, not over and over.
// (And read() fetches once, for a notice that may have been lost the same way.)
void lostClosedFoundByStatus() {
  begin();
  EspAtClient client(esp);
  expectConnect(0, "example.com", 80);
  CHECK(client.connect(F("example.com"), 80) == 1);
  module.inject("+IPD,0,5\r\n");
  expectRecv(0, 32, "hello");
  CHECK(readAll(client) == "hello" && client.connected() && module.done());
  shimAdvanceMs(1100);
  module.expect("AT+CIPSTATUS\r\n", "STATUS:3\r\n+CIPSTATUS:0,\"TCP\",\"93.184.216.34\",80,10000,0\r\n\r\nOK\r\n");
  CHECK(client.connected() && module.done());  // still open: and not asked again until more data comes
  shimAdvanceMs(5000);
  expectRecvNothing(0, 32);  // the one fetch for a notice lost since the data came
  CHECK(client.connected() && client.available() == 0 && module.done());
  shimAdvanceMs(5000);
  CHECK(client.connected() && client.available() == 0 && module.done());  // and not again
  module.inject("+IPD,0,3\r\n");
  expectRecv(0, 32, "bye");
  CHECK(readAll(client) == "bye");
  // Its CLOSED never arrives.
  shimAdvanceMs(1100);
  module.expect("AT+CIPSTATUS\r\n", "STATUS:4\r\n\r\nOK\r\n");
  CHECK(!client.connected() && module.done());
  expectClose(0, false);
  client.stop();
  CHECK(module.done());
}

// An address as AT+CIPSTART takes it, every digit count and both ends of a byte; and INADDR_NONE, which
// EspAtNet.h makes where it is used, is still 0.0.0.0.
void ipAsText() {
  char text[16];
  const struct {
    IPAddress ip;
    const char* want;
  } kIps[] = {{IPAddress(0, 9, 10, 99), "0.9.10.99"}, {IPAddress(100, 101, 199, 200), "100.101.199.200"},
              {IPAddress(255, 255, 255, 255), "255.255.255.255"}, {INADDR_NONE, "0.0.0.0"}};
  for (const auto& k : kIps) {
    memset(text, 'x', sizeof text);
    espat::ipText(k.ip, text);
    if (strcmp(text, k.want) != 0) fail(__LINE__, std::string(text, sizeof text) + " for " + k.want);
  }
}

// A Client or UDP made on the stack, as sketches do inside loop() (`EspAtClient client(esp);`), starts on whatever
// the stack held: before its first connect it is not connected, has nothing to read and has dropped nothing.
void localFacadesStartClean() {
  alignas(EspAtClient) unsigned char clientMem[sizeof(EspAtClient)];
  alignas(EspAtUDP) unsigned char udpMem[sizeof(EspAtUDP)];
  // (volatile: a plain memset before a constructor is a dead store to gcc, which would remove it)
  for (volatile unsigned char& b : clientMem) b = 0xA5;
  for (volatile unsigned char& b : udpMem) b = 0xA5;
  EspAtClient& client = *new (clientMem) EspAtClient(esp);
  EspAtUDP& udp = *new (udpMem) EspAtUDP(esp);
  CHECK(!client && !client.connected() && client.available() == 0 && client.read() == -1);
  CHECK(client.peek() == -1 && client.dropped() == 0 && client.lastStatus() == EspStatus::Ok);
  CHECK(client.write('x') == 0);
  CHECK(udp.parsePacket() == 0 && udp.available() == 0 && udp.read() == -1 && udp.dropped() == 0);
  CHECK(udp.lastStatus() == EspStatus::Ok && udp.write('x') == 0);
  CHECK(module.done() && module.said.empty());
}

struct Case {
  const char* name;
  void (*run)();
} const kCases[] = {
    {"connect-write-read", connectWriteRead},
    {"active-bytes-during-the-quiet-wait", activeBytesDuringTheQuietWait},
    {"reply-glued-to-send-ok", replyGluedToSendOk},
    {"server-closes-at-once", serverClosesAtOnce},
    {"multiple-links", multipleLinks},
    {"passive-chunks", passiveChunks},
    {"connect-refused", connectRefused},
    {"udp-active-1.7", udpActive17},
    {"udp-passive-2.x", udpPassive2},
    {"udp-datagram-in-pieces", udpDatagramInPieces},
    {"http-get-and-post", httpGetAndPost},
    {"idle-client-asks-nothing", idleClientAsksNothing},
    {"close-after-notice-heard", closeAfterNoticeHeard},
    {"http-no-status-line", httpNoStatusLine},
    {"whole-sends", wholeSends},
    {"lost-closed-found-by-status", lostClosedFoundByStatus},
    {"ip-as-text", ipAsText},
    {"local-facades-start-clean", localFacadesStartClean},
};

}  // namespace

void setup() {
  const char* name = getenv("CLIENT_CASE");
  for (const Case& c : kCases) {
    if (name && strcmp(name, c.name) == 0) {
      current = c.name;
      c.run();
      printf("ok\n");
      fflush(stdout);
      exit(0);
    }
  }
  printf("no case %s\n", name ? name : "(CLIENT_CASE unset)");
  exit(2);
}

void loop() {}
