// The EspAt driver alone, against a scripted module: each case feeds the bytes a module sends, moves the shim's
// clock on, and checks what the driver wrote and decided. Run as `driver_cases NAME`; prints "ok" or why not.
#include "driver_script.h"

namespace {

// The module reboots in the middle of an +IPD: its `ready` falls inside the announced length. Once the step's
// time is up the count is dropped, and the next `ready` is heard.
void ipdCutByReset() {
  sync(kVersion17);
  sentRequest(false);
  feed("\r\n+IPD,0,200:HTTP/1.1 201 Created\r\n");
  feed(kReboot);
  CHECK(esp.resets() == 0);  // swallowed as payload: the module said 200 bytes
  after(10001);              // the reply step's wait
  CHECK(written() == "AT+CIPCLOSE=0\r\n");
  feed("ERROR\r\n");
  CHECK(!esp.busy());
  feed(kReboot);
  CHECK(esp.resets() == 1);
}

// A length no AT firmware sends is a damaged header, not 99999 (or 34463, wrapped) bytes of payload.
void ipdTooLong() {
  sync(kVersion17);
  sentRequest(false);
  feed("\r\n+IPD,0,99999:");
  feed(kReboot);
  CHECK(esp.resets() == 1 && !esp.busy() && esp.status() == EspStatus::ModuleReset);
  sync(kVersion17);
  sentRequest(false);
  feed("\r\n+IPD,0,2049:");
  feed(kReboot);
  CHECK(esp.resets() == 2);
}

// CIPCLOSE is answered `0,CLOSED` and then OK: the OK belongs to it, not to the CIPSTART after it.
void closeWaitsForItsOk() {
  sync(kVersion17);
  sentRequest(false);
  after(10001);  // no answer from the server
  CHECK(written() == "AT+CIPCLOSE=0\r\n");
  feed("0,CLOSED\r\n");
  CHECK(esp.busy());
  feed("\r\nOK\r\n");
  CHECK(!esp.busy() && esp.status() == EspStatus::NoReply);
  CHECK(startRequest(true));
  esp.poll();
  CHECK(written() == "AT+CIPSTART=0,\"TCP\",\"example.com\",80\r\n");
  after(100);
  CHECK(written().empty());  // still waiting for CIPSTART's own answer
}

// The names follow AT+GMR's version at each sync; one stray ERROR changes nothing.
void dialectFromGmr() {
  sync(kVersion17);
  CHECK(esp.startJoin(F("HomeNet"), F("pa\"ss")));
  esp.poll();
  CHECK(written() == "AT+CWMODE_CUR=1\r\n");
  feed("\r\nERROR\r\n");
  CHECK(!esp.busy() && esp.status() == EspStatus::Error && written().empty());
  CHECK(esp.startJoin(F("HomeNet"), F("pa\"ss")));
  esp.poll();
  CHECK(written() == "AT+CWMODE_CUR=1\r\n");
  feed("\r\nOK\r\n");
  CHECK(written() == "AT+CWJAP_CUR=\"HomeNet\",\"pa\\\"ss\"\r\n");
  feed(kReboot);  // a 2.x image flashed and booted
  CHECK(esp.status() == EspStatus::ModuleReset);
  sync(kVersion22);
  CHECK(esp.startJoin(F("HomeNet"), F("x")));
  esp.poll();
  CHECK(written() == "AT+CWMODE=1\r\n");
}

// `busy s...` (1.x, busy sending) is a refusal like `busy p...`: the command goes again after a pause.
void busySending() {
  sync(kVersion17);
  CHECK(esp.startJoin(F("HomeNet"), F("x")));
  esp.poll();
  CHECK(written() == "AT+CWMODE_CUR=1\r\n");
  feed("\r\nbusy s...\r\n");
  after(501);
  CHECK(written() == "AT+CWMODE_CUR=1\r\n");
  feed("\r\nbusy p...\r\n");
  after(501);
  CHECK(written() == "AT+CWMODE_CUR=1\r\n");
}

void readAll(std::string& into) {
  into += answer.bytes;
  answer.bytes.clear();
}

// A reply that keeps coming keeps its step alive: 12 chunks 4 s apart (48 s, more than the step's 10 s).
void replyExtendsWhileBytesArrive() {
  sync(kVersion17);
  sentRequest(true);
  std::string got, want = "HTTP/1.1 200 OK\r\n\r\n";
  feed("+IPD,0,19:HTTP/1.1 200 OK\r\n\r\n");
  readAll(got);
  for (int i = 0; i < 12; i++) {
    after(4000);
    std::string chunk = "chunk-" + std::to_string(i % 10) + "-abcdefgh";
    want += chunk;
    feed("+IPD,0,16:" + chunk);
    readAll(got);
    CHECK(esp.busy() && written().empty());
  }
  feed("0,CLOSED\r\n");
  readAll(got);
  CHECK(!esp.busy() && esp.status() == EspStatus::Ok && answer.reply.status() == 200);
  CHECK(got == want);
}

// ...but the whole exchange has its own bound (ESPAT_EXCHANGE_MAX_MS): a server that trickles forever is cut off.
void exchangeHasItsOwnBound() {
  sync(kVersion17);
  sentRequest(true);
  feed("+IPD,0,19:HTTP/1.1 200 OK\r\n\r\n");
  std::string got;
  unsigned long elapsed = 0;
  while (written().find("AT+CIPCLOSE=0") == std::string::npos) {
    CHECK(elapsed <= ESPAT_EXCHANGE_MAX_MS);
    after(4000);
    elapsed += 4000;
    feed("+IPD,0,1:x");
    readAll(got);
  }
  CHECK(elapsed >= ESPAT_EXCHANGE_MAX_MS - 4000);
  feed("0,CLOSED\r\n\r\nOK\r\n");
  CHECK(!esp.busy() && esp.status() == EspStatus::Timeout);
}

// The send prompt lost on the wire (a bit flipped in `>`): the module still waits for the bytes CIPSEND announced
// and would take every later command for them, CIPCLOSE and the next sync included. When the prompt's wait is up
// the driver pays that many spaces before it closes the link: a module that waited sends them and is free; one
// that did not drops them (no line end).
size_t announced(const std::string& cipsend) {
  size_t comma = cipsend.find(',');
  return comma == std::string::npos ? 0 : (size_t)atoi(cipsend.c_str() + comma + 1);
}

void promptLostInAnExchange() {
  sync(kVersion17);
  CHECK(startRequest(true));
  esp.poll();
  CHECK(written().rfind("AT+CIPSTART=0,", 0) == 0);
  feed("0,CONNECT\r\n\r\nOK\r\n");
  std::string cipsend = written();
  size_t owed = announced(cipsend);
  CHECK(cipsend.rfind("AT+CIPSEND=0,", 0) == 0 && owed > 20);
  feed("\r\nOK\r\n~ ");  // '>' with bit 6 flipped
  after(1999);
  CHECK(written().empty() && esp.busy());
  after(2);
  CHECK(written() == std::string(owed, ' ') + "AT+CIPCLOSE=0\r\n");
  feed("\r\nRecv " + std::to_string(owed) + " bytes\r\n\r\nSEND OK\r\n0,CLOSED\r\n\r\nOK\r\n");
  CHECK(!esp.busy() && esp.status() == EspStatus::Timeout);
  CHECK(written().empty());
}

// The same debt on a Client's send (startSend): the link stays the caller's to close.
void promptLostInASend() {
  sync(kVersion17);
  CHECK(esp.startConnect(1, F("example.com"), 80));
  esp.poll();
  CHECK(written() == "AT+CIPSTART=1,\"TCP\",\"example.com\",80\r\n");
  feed("1,CONNECT\r\n\r\nOK\r\n");
  CHECK(!esp.busy() && esp.status() == EspStatus::Ok);
  CHECK(esp.startSend(1, body, 7));  // {"a":1}: its 7 bytes
  esp.poll();
  std::string cipsend = written();
  CHECK(cipsend == "AT+CIPSEND=1,7\r\n");
  feed("\r\nOK\r\n");  // and no prompt at all
  after(2001);
  CHECK(written() == "       ");
  CHECK(!esp.busy() && esp.status() == EspStatus::Timeout);
}

// The request goes out from inside poll() (at the prompt), on a port that holds the writer a byte time per byte:
// 200 ms here. Bytes read after it in the same poll -- SEND OK and the first half of an +IPD -- came after the
// write, not when that poll began: the next poll, finding nothing new 2 ms later, must not take the payload for
// one whose bytes stopped coming (kPayloadGapMs), or its second half would be read as a line and lost.
void payloadAfterALongWrite() {
  sync(kVersion17);
  CHECK(startRequest(true));
  esp.poll();
  CHECK(written().rfind("AT+CIPSTART=0,", 0) == 0);
  feed("0,CONNECT\r\n\r\nOK\r\n");
  CHECK(written().rfind("AT+CIPSEND=0,", 0) == 0);
  wire.msPerByte = 2;
  unsigned long before = millis();
  feed("\r\nOK\r\n> \r\nRecv 90 bytes\r\n\r\nSEND OK\r\n+IPD,0,10:abcde");
  wire.msPerByte = 0;
  CHECK(millis() - before > 150);  // the request held the driver that long
  after(2);
  feed("fghij");
  feed("0,CLOSED\r\n");
  CHECK(answer.bytes == "abcdefghij");
  CHECK(!esp.busy() && esp.status() == EspStatus::Ok);
}

// A passive read whose answer stalls 150 ms two bytes before the end of its frame (a module held up, or the fake
// one on a loaded test machine). The frame answers our own AT+CIPRECVDATA and the read step's wait bounds it, so
// the pause is waited out: the payload-gap rule (kPayloadGapMs, for frames nothing else bounds) must not end the
// frame and read its last bytes as a line -- that lost 2 bytes of WebClient's 3,060 in a simavr run.
void passiveReadStallsMidFrame() {
  esp.setPassiveReceive(true);
  CHECK(esp.startSync());
  esp.poll();
  feed("\r\nOK\r\n");
  feed("\r\nOK\r\n");
  feed(kVersion17);
  feed("OK\r\n");
  feed("\r\nOK\r\n");
  CHECK(written() == "AT\r\nATE0\r\nAT+GMR\r\nAT+CIPMUX=1\r\nAT+CIPRECVMODE=1\r\n");
  feed("\r\nOK\r\n");
  CHECK(!esp.busy() && esp.status() == EspStatus::Ok);
  answer.bytes.clear();
  esp.setSink(0, &answer);
  CHECK(esp.startReceive(0));
  CHECK(written() == "AT+CIPRECVDATA=0,64\r\n");
  feed("+CIPRECVDATA,8:abcdef");
  after(150);
  feed("gh\r\nOK\r\n");
  CHECK(answer.bytes == "abcdefgh");
  CHECK(!esp.busy() && esp.status() == EspStatus::Ok);
}

// Two ATs, because the first was answered late: both OKs arrive, and only then does ATE0 go out.
void twoOksForOneQuestion() {
  CHECK(esp.startSync());
  esp.poll();
  CHECK(written() == "AT\r\n");
  after(1001);
  CHECK(written() == "AT\r\n");
  feed("\r\nOK\r\n");  // the first AT's, late
  CHECK(written().empty());
  feed("\r\nOK\r\n");  // the second's
  after(150);
  CHECK(written().empty());
  after(301);
  CHECK(written() == "ATE0\r\n");
  feed("\r\nOK\r\n");
  CHECK(written() == "AT+GMR\r\n");
}

// startReset(true): with a reset pin set, the pin is pulled low for 100 ms and released (never driven high);
// without one, AT+RST. Either way the module's `ready` leads into a sync.
void hardwareReset() {
  CHECK(esp.startReset(true));
  esp.poll();
  CHECK(written() == "AT+RST\r\n");
  feed("\r\nOK\r\n");
  feed(kReboot);
  CHECK(written() == "AT\r\n" && esp.busy());
}

void hardwareResetPin() {
  const uint8_t pin = 4;
  esp.setResetPin(pin);
  CHECK(esp.startReset(true));
  esp.poll();
  CHECK(written().empty());
  CHECK(shimPinMode[pin] == OUTPUT && shimPinLevel[pin] == LOW);
  after(101);
  CHECK(shimPinMode[pin] == INPUT && shimPinLevel[pin] == LOW);
  feed(kReboot);
  CHECK(written() == "AT\r\n" && esp.busy());
}

// A module in a brown-out loop: `ready` again and again, each a second or so after the last, never an answer
// that lasts. The sync starts over at a `ready` (a boot is what it waits for), but the third ends it, so the
// sketch can count it and go further down its ladder. Before, the sync started over for ever.
void bootLoopEndsTheSync() {
  CHECK(esp.startSync());
  esp.poll();
  CHECK(written() == "AT\r\n");
  feed(kReboot);
  CHECK(esp.busy());
  after(900);
  feed(kReboot);
  CHECK(esp.busy());
  after(900);
  feed(kReboot);
  CHECK(!esp.busy() && esp.status() == EspStatus::ModuleReset && esp.resets() == 3);
  // The count is the operation's: the next sync hears its first `ready` as a boot and goes on.
  CHECK(esp.startSync());
  esp.poll();
  written();
  feed(kReboot);
  CHECK(esp.busy());
}

// ---- +IPD heads longer than the driver's line buffer (kLineMax) ----
// What the module sends after AT+CIPDINFO=1 (tests/golden/*/ipd-with-remote-info.golden): the remote address
// after the length. 1.7 prints it bare, 2.x in quotes; a long address makes the head longer than the line buffer,
// but its length is still the third field, well inside it.
void ipdRemoteInfo(const char* head, size_t n) {
  sync(kVersion22);
  sentRequest(true);
  std::string body = "HTTP/1.1 200 OK\r\n\r\n";
  while (body.size() < n) body += (char)('a' + body.size() % 26);
  feed(std::string("\r\n") + head + body);
  CHECK(answer.bytes == body && esp.busy());
  feed("0,CLOSED\r\n");
  CHECK(!esp.busy() && esp.status() == EspStatus::Ok && answer.reply.status() == 200);
}
void ipdRemoteInfoShort() { ipdRemoteInfo("+IPD,0,19,127.0.0.1,80:", 19); }
void ipdRemoteInfoLong() { ipdRemoteInfo("+IPD,0,1460,\"192.168.100.200\",54321:", 1460); }

// A length padded past the buffer: what the buffer holds ("...00005") is not the length the module meant
// (50000), so the head is refused -- nothing framed, nothing written past line_ -- and lines are read again.
void ipdLengthPastBuffer() {
  sync(kVersion17);
  sentRequest(false);
  feed("\r\n+IPD,0," + std::string(16, '0') + "50000:" + kReboot);
  CHECK(esp.resets() == 1 && !esp.busy() && esp.status() == EspStatus::ModuleReset);
  CHECK(answer.bytes.empty());
  // One digit past a full buffer: "+IPD,0,000...0" fills it exactly, the 5 (and the length 5) is cut.
  sync(kVersion17);
  sentRequest(false);
  feed("\r\n+IPD,0," + std::string(EspAtDrv::kLineMax - 7, '0') + "5:" + kReboot);
  CHECK(esp.resets() == 2 && !esp.busy() && answer.bytes.empty());
}

// A length no counter of 16 bits holds (1234567890123 wraps to 1227, under ESPAT_IPD_MAX): refused, not framed.
void ipdLengthOverflows() {
  sync(kVersion17);
  sentRequest(false);
  feed(std::string("\r\n+IPD,0,1234567890123:") + kReboot);
  CHECK(esp.resets() == 1 && !esp.busy() && answer.bytes.empty());
}

// Garbage that starts like a head and never ends (no ':', no newline): kept to the buffer's size, the rest
// dropped; the reply step's bound still ends the wait, and once a newline comes the driver reads lines again.
void ipdHeadNeverEnds() {
  sync(kVersion17);
  sentRequest(false);
  feed("\r\n+IPD,0,5" + std::string(500, '7'));
  CHECK(esp.busy() && answer.bytes.empty());
  after(10001);  // the reply step's wait
  CHECK(written() == "AT+CIPCLOSE=0\r\n");
  feed("0,CLOSED\r\n");  // ends the garbage line: this CLOSED is lost with it
  CHECK(esp.busy());
  feed("0,CLOSED\r\n\r\nOK\r\n");
  CHECK(!esp.busy() && esp.status() == EspStatus::NoReply);
  feed(kReboot);
  CHECK(esp.resets() == 1);
}
// ---- end of long +IPD heads ----

// AT+UART: the rate for now (_CUR) or kept (_DEF), in both dialects (the module answers at the old rate).
void uartCommand() {
  sync(kVersion17);
  CHECK(esp.startUart(57600, false));
  esp.poll();
  CHECK(written() == "AT+UART_CUR=57600,8,1,0,0\r\n");
  feed("\r\nOK\r\n");
  CHECK(!esp.busy() && esp.status() == EspStatus::Ok);
  sync(kVersion22);
  CHECK(esp.startUart(115200, true));
  esp.poll();
  CHECK(written() == "AT+UART_DEF=115200,8,1,0,0\r\n");
  feed("\r\nERROR\r\n");
  CHECK(!esp.busy() && esp.status() == EspStatus::Error);
}

struct Case {
  const char* name;
  void (*run)();
} const kCases[] = {
    {"ipd-cut-by-reset", ipdCutByReset},
    {"ipd-too-long", ipdTooLong},
    {"close-waits-for-its-ok", closeWaitsForItsOk},
    {"dialect-from-gmr", dialectFromGmr},
    {"busy-sending", busySending},
    {"reply-extends", replyExtendsWhileBytesArrive},
    {"exchange-bound", exchangeHasItsOwnBound},
    {"two-oks-for-one-question", twoOksForOneQuestion},
    {"payload-after-a-long-write", payloadAfterALongWrite},
    {"prompt-lost-in-an-exchange", promptLostInAnExchange},
    {"prompt-lost-in-a-send", promptLostInASend},
    {"passive-read-stalls-mid-frame", passiveReadStallsMidFrame},
    {"hardware-reset", hardwareReset},
    {"hardware-reset-pin", hardwareResetPin},
    {"boot-loop", bootLoopEndsTheSync},
    {"ipd-remote-info-short", ipdRemoteInfoShort},
    {"ipd-remote-info-long", ipdRemoteInfoLong},
    {"ipd-length-past-buffer", ipdLengthPastBuffer},
    {"ipd-length-overflows", ipdLengthOverflows},
    {"ipd-head-never-ends", ipdHeadNeverEnds},
    {"uart-command", uartCommand},
};

}  // namespace

void setup() {
  const char* name = getenv("DRIVER_CASE");
  for (const Case& c : kCases) {
    if (name && strcmp(name, c.name) == 0) {
      current = c.name;
      c.run();
      printf("ok\n");
      fflush(stdout);
      exit(0);
    }
  }
  printf("no case %s\n", name ? name : "(DRIVER_CASE unset)");
  exit(2);
}

void loop() {}
