// The driver's reader: bytes from the module into lines, +IPD and +CIPRECVDATA payload into the link's sink, and
// each line into what it means -- an answer to the operation in flight, or news about a link, Wi-Fi or a reboot,
// wherever it falls.
#include "EspAtDrv.h"
#include "EspAtInternal.h"

void EspAtDrv::poll() {
  while (port_.available() > 0) handleByte((char)port_.read());
  if (job_ == Job::Exchange) onExchange(Reply::Tick);  // the whole exchange's bound, apart from each step's
  if (job_ != Job::None && (uint16_t)((uint16_t)millis() - since_) >= wait_) {
    // Whatever an +IPD announced and did not deliver in a whole step's time will not come (the module reset
    // halfway through it): read lines again.
    ipdLeft_ = 0;
    if (resend_) {
      resend_ = false;
      enter(step_);
    } else {
      advance(Reply::None);
    }
  }
}

void EspAtDrv::handleByte(char c) {
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
  // The send prompt ("> " in 1.x, ">" in 2.x) ends no line.
  if (c == '>' && lineLen_ == 0 && step_ == Step::Send) {
    advance(Reply::Prompt);
    return;
  }
  // Payload follows "+IPD,<id>,<len>:" (active receive): the last number is its length. (Passive receive's
  // "+CIPRECVDATA" heads are its own.) A damaged head is skipped as a line, like garbage.
  if (c == ':' && lineLen_ >= 8 && memcmp_P(line_, PSTR("+IPD,"), 5) == 0) {
    framePayload(7, line_[5] - '0');
    return;
  }
#if ESPAT_CLIENTS
  if (step_ == Step::Recv && (c == ':' || c == ',')) {
    receive_(*this, c == ':' ? Reply::HeadColon : Reply::HeadComma);
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
  uint16_t n;
  bool ok = lastNumber(from, n) && !lineCut_ && n <= ESPAT_IPD_MAX && link < kLinks;
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
  bool ours = job_ == Job::Exchange && ipdLink_ == id_;
  if (ipdLink_ == id_) answered_ = true;
  if (ours) onExchange(Reply::Byte);
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
  for (uint8_t kind = 0; kind < kOther; kind++) {
    PGM_P known = esp_nth(kLines, kind);
    if (strlen_P(known) == len && memcmp_P(line_ + skip, known, len) == 0) return kind;
  }
  return kOther;
}

// The digits after line_[from] up to the line's end, the last of a comma-separated list; false if not all digits.
bool EspAtDrv::lastNumber(uint8_t from, uint16_t& n) const {
  bool digits = false;
  n = 0;
  for (uint8_t i = from; i < lineLen_; i++) {
    char d = line_[i];
    if (d == ',') {
      n = 0;
      digits = false;
    } else if (d >= '0' && d <= '9' && n < 6553) {  // never past 65535: a longer number is refused
      n = n * 10 + (d - '0');
      digits = true;
    } else {
      return false;
    }
  }
  return digits;
}

static_assert(EspAtDrv::kLineMax >= 16, "AT+GMR's major version is the 12th character of its line");

// A link is gone (CLOSED, a reboot, Wi-Fi lost): its open bit goes. Data the module still holds for it is
// still fetched (1.x says CLOSED before the passive buffer is read).

void EspAtDrv::handleLine() {
  // AT+GMR: "AT version:1.7.4.0(...)" or "AT version:2.2.0.0(...)"; the major digit says which names to use.
  if (step_ == Step::Gmr && lineLen_ > 11 && memcmp_P(line_, PSTR("AT version:"), 11) == 0) {
    dialect2_ = line_[11] >= '2';
  }
  if (queries_) queries_(*this);  // lines that may be longer than kLineMax: judged by their start
  if (lineLen_ == 0 || lineCut_) return;
  ESPAT_TRACE_LINE(line_, lineLen_);
  uint8_t id;
  uint8_t kind = lineKind(id);
  Reply r = Reply::None;
#if ESPAT_CLIENTS
  if (lineLen_ >= 8 && memcmp_P(line_, PSTR("+IPD,"), 5) == 0) {
    // Passive receive's notice "+IPD,<id>,<len>": the module holds bytes for link <id>.
    if (receive_) receive_(*this, Reply::Notice);
  } else
#endif
  if (kind <= kBusySending) {
    // `busy s...`: busy sending, the same refusal as `busy p...`. Link-prefixed answers are not ours.
    if (id == kLinks) r = kind == kBusySending ? Reply::Busy : (Reply)(kind + 1);
  } else if (kind <= kConnectFail) {
#if ESPAT_CLIENTS
    if (id < kLinks) linkLost(1 << id);  // every link's (the exchange-only driver follows its own link only)
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
  } else if (kind == kDisconnect) {
    wifiUp_ = false;
    linkLost(0xFF);
  } else if (kind == kBooted) {
    // The module rebooted: links, echo, mux, receive mode and Wi-Fi are gone.
    resets_++;
    wifiUp_ = false;
    linkLost(0xFF);
#if ESPAT_CLIENTS
    waiting_ = 0;
#endif
    ipdLeft_ = 0;
    // A sync (or reset) that hears `ready` has found a module just booted: its sequence starts over. An AT in
    // flight is left to be answered (or asked again when its wait ends): a second AT now would be answered twice,
    // and the spare OK taken for the next command's.
    if (step_ == Step::Rst || step_ == Step::Boot || (job_ == Job::Sync && step_ != Step::At)) {
      go(Step::At);
    } else if (job_ != Job::None && job_ != Job::Sync) {
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
