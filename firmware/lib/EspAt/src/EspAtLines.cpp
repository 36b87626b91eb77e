// The driver's reader: bytes from the module into lines, +IPD and +CIPRECVDATA payload into the link's sink, and
// each line into what it means -- an answer to the operation in flight, or news about a link, Wi-Fi or a reboot,
// wherever it falls.
#include "EspAtDrv.h"
#include "EspAtInternal.h"

// A payload comes from the module in one burst. Bytes still owed after this long without a byte were lost (a
// receive buffer that overflowed while the sketch was busy): lines are read again, or the next `ready` would be
// taken for payload and the reboot go unheard, however long the driver then stays idle. (Not during a passive
// read: its step's own wait ends the frame, and a module that stalls in it loses nothing.)
static const uint8_t kPayloadGapMs = 100;

ESPAT_NO_TAIL_CALLS void EspAtDrv::poll() {
  bool heard = false;
  for (int c; (c = port_.read()) >= 0;) {  // read() says -1 when nothing is there
    handleByte((char)c);
    heard = true;
  }
  // The clock is read after the bytes: a byte can start a long write (a command, the request at the prompt: 200
  // ms at 9600 baud), and the bytes read after it came after it.
  uint8_t now = (uint8_t)millis();
  if (heard) heard_ = now;
  // A passive read's frame is the answer to our own AT+CIPRECVDATA, bounded by its step's wait (below): a pause in
  // it is waited out, never taken for lost bytes.
  if (ipdLeft_ && (uint8_t)(now - heard_) > kPayloadGapMs && (!ESPAT_CLIENTS || step_ != Step::Recv)) ipdLeft_ = 0;
  if (job_ == Job::Exchange) onExchange(Reply::Tick);  // the whole exchange's bound, apart from each step's
  if (job_ != Job::None && (uint16_t)((uint16_t)millis() - since_) >= wait_) {
    // Whatever an +IPD announced and did not deliver in a whole step's time will not come (the module reset
    // halfway through it): read lines again.
    ipdLeft_ = 0;
    if (resend_) {
      resend_ = false;
      enter(step_);
    } else {
      // No prompt after CIPSEND: it may have been lost on the wire while the module waits for the announced
      // bytes, and it would take every later command for them. Spaces pay the debt: a module that waited sends
      // them and is free again; one that did not drops them (no line end).
      if (step_ == Step::Send) {
        for (; owed_; owed_--) put(' ');
      }
      advance(Reply::None);
    }
  }
}

// Every test of a line's start (here, AT+GMR's, the queries', passive receive's) is this one call: each inlined
// test was a dozen bytes more than the call.
ESPAT_SHARED bool EspAtDrv::lineStarts(PGM_P text, uint8_t n, uint8_t min) const {
  return lineLen_ >= min && memcmp_P(line_, text, n) == 0;
}

// "+IPD,<id>,<n>" so far in line_: active receive's head (before its ':') or passive receive's notice.
static const char kIpd[] PROGMEM = "+IPD,";

ESPAT_NO_TAIL_CALLS void EspAtDrv::handleByte(char c) {
  if (ipdLeft_) {
    ipdLeft_--;
    payloadByte(c);
    return;
  }
  if (c == '\n') {
    handleLine();
    lineLen_ = 0;
    lineCut_ = false;
    return;
  }
  if (c == '\r') return;
  // The send prompt ("> " in 1.x, ">" in 2.x) ends no line: the data goes out, then SEND OK is awaited (a single
  // send's and an exchange's alike).
  if (c == '>' && lineLen_ == 0 && step_ == Step::Send) {
    data_->printTo(port_);
    go(Step::SendOk);
    return;
  }
  // Payload follows "+IPD,<id>,<len>:" (active receive). (Passive receive's "+CIPRECVDATA" heads are its own.)
  // A damaged head is skipped as a line, like garbage.
  if (c == ':' && lineStarts(kIpd, 5, 8)) {
    // AT+CIPDINFO=1 puts ",<ip>,<port>" after the length (2.x quotes the ip), which may run past line_: the
    // length ends at the first ',' after it, and a head cut after that comma is whole where it counts.
    uint8_t end = 8;
    while (end < lineLen_ && line_[end] != ',') end++;
    if (end < lineLen_) {
      lineLen_ = end;
      lineCut_ = false;
    }
    framePayload(7, line_[5] - '0');
    return;
  }
#if ESPAT_CLIENTS
  // A passive read's head ends at the one of ':' and ',' that is not its 13th byte ("+CIPRECVDATA,<len>:" in 1.x,
  // "+CIPRECVDATA:<len>," in 2.x); passiveHead checks the rest.
  if (step_ == Step::Recv && (c == ':' || c == ',') && (uint8_t)(line_[12] ^ c) == (uint8_t)(':' ^ ',')) {
    receive_(*this, Reply::Head);
    if (lineLen_ == 0) return;  // it was one
  }
#endif
  if (lineLen_ < kLineMax) {
    line_[lineLen_++] = c;
  } else {
    lineCut_ = true;
  }
}

// The payload's length is the last number of line_ from `from` on; false (and nothing framed) for a damaged head.
bool EspAtDrv::framePayload(uint8_t from, uint8_t link) {
  uint16_t n = lastNumber(from);
  bool ok = n <= ESPAT_IPD_MAX && !lineCut_ && link < kLinks;
  lineLen_ = 0;
  if (ok) {
    ipdLeft_ = n;
    ipdLink_ = link;
#if ESPAT_CLIENTS
    if (sinks_[link]) sinks_[link]->frame(n);
#endif
  }
  return ok;
}

void EspAtDrv::payloadByte(char c) {
  bool ours = false;  // the running exchange's answer
  if (ipdLink_ == id_) {
    answered_ = true;
    if (job_ == Job::Exchange) {
      ours = true;
      onExchange(Reply::Byte);
    }
  }
#if ESPAT_CLIENTS
  EspAtSink* sink = sinks_[ipdLink_];
  if (!sink) {
    rxDropped_++;
  } else if (sink->put((uint8_t)c) && ours) {
    advance(Reply::Done);  // complete: with keep-alive the exchange ends with its link open
  }
#else
  if (ours) reply_->put((uint8_t)c);  // the exchange's link is the only one this driver opens
#endif
}

// Lines the driver acts on, NUL-separated; their index is what lineKind() returns.
#define ESPAT_LINE_TEXT(kind, text) text "\0"
// `ready` lines in one operation that make it a boot loop (one is a boot, two a reset that came at a bad moment).
static const uint8_t kBootLoop = 3;

const char kLines[] PROGMEM = ESPAT_LINES(ESPAT_LINE_TEXT);
#undef ESPAT_LINE_TEXT
#define ESPAT_LINE_KIND(kind, text) k##kind,
enum : uint8_t { ESPAT_LINES(ESPAT_LINE_KIND) kOther };
#undef ESPAT_LINE_KIND

// Which known line line_ holds, after a "<id>," prefix (CIPMUX=1), whose link goes to `id` (kLinks: none).
uint8_t EspAtDrv::lineKind(uint8_t& id) const {
  uint8_t skip = 0;
  id = kLinks;
  if (lineLen_ >= 2 && line_[1] == ',' && (uint8_t)(line_[0] - '0') < kLinks) {
    id = line_[0] - '0';
    skip = 2;
  }
  __asm__("" : "+r"(skip));  // one loop for both cases: the compiler would otherwise make a copy per case
  uint8_t len = lineLen_ - skip;
  PGM_P known = kLines;
  uint8_t kind = 0;
  for (; kind < kOther; kind++) {
    uint8_t n = strlen_P(known);
    if (n == len && memcmp_P(line_ + skip, known, len) == 0) break;
    known += n + 1;
  }
  return kind;
}

// The digits after line_[from] up to the line's end, the last of a comma-separated list; kNoNumber if not all
// digits. (One value for both answers: the flag and the number by reference cost more code at each caller.)
uint16_t EspAtDrv::lastNumber(uint8_t from) const {
  static_assert(ESPAT_IPD_MAX < kNoNumber, "no payload length is taken for no number");
  uint16_t n = 0;
  bool digits = false;
  for (uint8_t i = from; i < lineLen_; i++) {
    char c = line_[i];
    if (c == ',') {
      n = 0;
      digits = false;
      continue;
    }
    uint8_t d = c - '0';
    if (d > 9 || n >= 6553) return kNoNumber;  // a number past 65529 is refused
    n = n * 10 + d;
    digits = true;
  }
  return digits ? n : kNoNumber;
}

static_assert(EspAtDrv::kLineMax >= 16, "AT+GMR's major version is the 12th character of its line");

// A link is gone (CLOSED, a reboot, Wi-Fi lost): its open bit goes. Data the module still holds for it is
// still fetched (1.x says CLOSED before the passive buffer is read).

ESPAT_NO_TAIL_CALLS void EspAtDrv::handleLine() {
  // AT+GMR: "AT version:1.7.4.0(...)" or "AT version:2.2.0.0(...)"; the major digit says which names to use.
  if (step_ == Step::Gmr && lineStarts(PSTR("AT version:"), 11, 12)) {
    dialect2_ = line_[11] >= '2';
  }
  if (queries_) queries_(*this);  // lines that may be longer than kLineMax: judged by their start
  if (lineLen_ == 0 || lineCut_) return;
  ESPAT_TRACE_LINE(line_, lineLen_);
  uint8_t id;
  uint8_t kind = lineKind(id);
  Reply r = Reply::None;
#if ESPAT_CLIENTS
  if (lineStarts(kIpd, 5, 8)) {
    // Passive receive's notice "+IPD,<id>,<len>": the module holds bytes for link <id>.
    if (receive_) receive_(*this, Reply::Notice);
  } else
#endif
  if (kind <= kBusySending) {
    // `busy s...`: busy sending, the same refusal as `busy p...`. Link-prefixed answers are not ours.
    if (id == kLinks) r = kind == kBusySending ? Reply::Busy : (Reply)(kind + 1);
  } else if (kind <= kConnectFail) {
#if ESPAT_CLIENTS
    if (id < kLinks) linkLost(bitOf(id));  // every link's (the exchange-only driver follows its own link only)
#endif
    if (id == id_) r = Reply::Closed;
#if ESPAT_CLIENTS
  } else if (kind == kConnect) {
    if (id < kLinks) linkGained(id);
#endif
  } else if (kind == kAlready) {
    already_ = true;
  } else if (kind == kGotIp) {
    wifiUp_ = true;
  } else if (kind != kOther) {  // WIFI DISCONNECT or `ready`: Wi-Fi and the links are gone
    static_assert(kDisconnect + 1 == kBooted && kBooted + 1 == kOther, "the last two lines");
    wifiUp_ = false;
    linkLost(0xFF);
    if (kind == kDisconnect) return;
    // The module rebooted: echo, mux and receive mode are gone too.
    resets_++;
#if ESPAT_CLIENTS
    waiting_ = 0;
#endif
    // (No payload is owed: lines are read only when none is.)
    // A sync (or reset) that hears `ready` has found a module just booted: its sequence starts over. An AT in
    // flight is left to be answered (or asked again when its wait ends): a second AT now would be answered twice,
    // and the spare OK taken for the next command's. But a module that boots again and again (a brown-out loop:
    // the ESP-01's commonest field fault) would keep a sync going for ever: the third `ready` ends it.
    if (job_ == Job::None) return;
    if (++readies_ >= kBootLoop) {
      finish(EspStatus::ModuleReset);
    } else if (step_ == Step::Rst || step_ == Step::Boot || (job_ == Job::Sync && step_ != Step::At)) {
      go(Step::At);
    } else if (job_ != Job::Sync) {
      finish(EspStatus::ModuleReset);
    }
    return;
  }
  static_assert(kOk + 1 == (uint8_t)Reply::Ok && kError + 1 == (uint8_t)Reply::Error &&
                    kFail + 1 == (uint8_t)Reply::Fail && kSendOk + 1 == (uint8_t)Reply::SendOk &&
                    kSendFail + 1 == (uint8_t)Reply::SendFail && kBusy + 1 == (uint8_t)Reply::Busy,
                "the first six lines give the Reply of the same name");
  if (r != Reply::None && job_ != Job::None) advance(r);
}
