#include "EspAt.h"

// Tracing for -DESPAT_DEBUG=<a Print, e.g. Serial>: each line the module sends ("< OK"), each step the driver
// enters by name ("> Send"), each end of an operation ("= 0" = EspStatus::Ok). Without it: no code at all.
#ifdef ESPAT_DEBUG
#define ESPAT_TRACE(text, value) \
  do {                           \
    ESPAT_DEBUG.print(F(text));  \
    ESPAT_DEBUG.println(value);  \
  } while (0)
#define ESPAT_STEP_TEXT(name, command, wait) #name "\0"
const char kStepNames[] PROGMEM = ESPAT_STEPS(ESPAT_STEP_TEXT);
#undef ESPAT_STEP_TEXT
#define ESPAT_TRACE_STEP(step)                                                \
  do {                                                                        \
    ESPAT_DEBUG.print(F("> "));                                               \
    ESPAT_DEBUG.println(reinterpret_cast<const __FlashStringHelper*>(nth(kStepNames, (uint8_t)(step)))); \
  } while (0)
#define ESPAT_TRACE_LINE(text, len)  \
  do {                               \
    ESPAT_DEBUG.print(F("< "));      \
    ESPAT_DEBUG.write(text, len);    \
    ESPAT_DEBUG.println();           \
  } while (0)
#else
#define ESPAT_TRACE(text, value) ((void)0)
#define ESPAT_TRACE_LINE(text, len) ((void)0)
#define ESPAT_TRACE_STEP(step) ((void)0)
#endif

namespace {

// Counts what a Print would send, so CIPSEND announces exactly the bytes the same code writes afterwards.
class ByteCounter : public Print {
 public:
  size_t write(uint8_t) override { return ++count; }
  size_t write(const uint8_t*, size_t n) override {
    count += n;
    return n;
  }
  uint16_t count = 0;
};

inline const __FlashStringHelper* flash(PGM_P p) { return reinterpret_cast<const __FlashStringHelper*>(p); }

// Ms between a busy answer and saying the command again.
const uint16_t kBusyPause = 500;
const uint8_t kAtTries = 10, kBusyTries = 20;
const uint16_t kUnknownLength = 0xFFFF;  // a reply body without Content-Length

// The n-th of a table of NUL-separated flash strings.
PGM_P nth(PGM_P table, uint8_t n) {
  while (n--) table += strlen_P(table) + 1;
  return table;
}

}  // namespace

bool EspAt::begin(Job job, Step first) {
  if (job_ != Job::None) return false;
  job_ = job;
  status_ = EspStatus::Pending;
  resend_ = false;
  go(first);
  return true;
}

// A module that needed syncing may have rebooted unheard, so Wi-Fi counts as down until joined again.
bool EspAt::startSync() {
  wifiUp_ = job_ != Job::None && wifiUp_;
  return begin(Job::Sync, Step::At);
}
bool EspAt::startReset(bool hardware) {
  wifiUp_ = job_ != Job::None && wifiUp_;
  return begin(Job::Reset, ESPAT_RESET_PIN >= 0 && hardware ? Step::PinLow : Step::Rst);
}

bool EspAt::startJoin(PGM_P ssid, PGM_P pass) {
  if (job_ != Job::None) return false;
  args_.join.ssid = ssid;
  args_.join.pass = pass;
  return begin(Job::Join, Step::Mode);
}

bool EspAt::startUart(uint32_t baud, bool persist) {
  if (job_ != Job::None) return false;
  args_.uart.baud = baud;
  args_.uart.persist = persist;
  return begin(Job::Uart, Step::Uart);
}

bool EspAt::startHttp(uint8_t id, PGM_P host, PGM_P port, PGM_P path, const Printable* body, bool keepBody) {
  if (job_ != Job::None) return false;
  args_.http.path = path;
  args_.http.body = body;
  httpSince_ = millis();
  keepBody_ = keepBody;
  httpStatus_ = 0;
  httpPhase_ = 0;
  if (ESPAT_KEEP_ALIVE) bodyLeft_ = kUnknownLength;
  waiting_ = 0;
  linkDone_ = false;
  rxLen_ = 0;
  verdict_ = EspStatus::Ok;
  // A link the last exchange left open carries this one (callers keep one server per link id); it stays open
  // only if this exchange ends the same way.
  reuse_ = ESPAT_KEEP_ALIVE && linkOpen_ && id == id_;
  if (ESPAT_KEEP_ALIVE) linkOpen_ = false;
  id_ = id;
  args_.http.host = host;
  args_.http.port = port;
  return begin(Job::Http, ESPAT_KEEP_ALIVE && reuse_ ? Step::Send : Step::Start);
}

int EspAt::read() {
  if (rxLen_ == 0) return -1;
  char c = rx_[rxHead_];
  rxHead_ = (rxHead_ + 1) % ESPAT_RX_MAX;
  rxLen_--;
  return (uint8_t)c;
}

void EspAt::poll() {
  while (port_.available() > 0) {
    // Kept payload waits in the port's own buffer while read() has no room, rather than being dropped here.
    if (ipdLeft_ && keepBody_ && job_ == Job::Http && rxLen_ == ESPAT_RX_MAX) break;
    handleByte((char)port_.read());
  }
  if (job_ == Job::Http && step_ != Step::Close && millis() - httpSince_ >= ESPAT_HTTP_MAX_MS) {
    closeWith(EspStatus::Timeout);  // the whole exchange's bound, apart from each step's
  }
  if (job_ != Job::None && millis() - since_ >= wait_) {
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

void EspAt::handleByte(char c) {
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
  // Payload follows "+IPD,<len>:" or "+IPD,<id>,<len>:" (active receive), "+CIPRECVDATA,<len>:" (1.x) or
  // "+CIPRECVDATA:<len>," (2.x): the last number is its length. A damaged head is skipped as a line, like garbage.
  bool ipd = c == ':' && lineLen_ >= 6 && memcmp_P(line_, PSTR("+IPD,"), 5) == 0;
  bool recv = ESPAT_PASSIVE_RX && (c == ':' || c == ',') && lineLen_ > 13 &&
              memcmp_P(line_, PSTR("+CIPRECVDATA"), 12) == 0 && line_[12] == (c == ':' ? ',' : ':');
  if (ipd || recv) {
    uint16_t n;
    bool ok = lastNumber(ipd ? 5 : 13, n) && !lineCut_ && n <= ESPAT_IPD_MAX;
    lineLen_ = 0;
    if (ok) {
      ipdLeft_ = n;
      if (recv) got_ = n;
    }
    return;
  }
  if (lineLen_ < ESPAT_LINE_MAX) {
    line_[lineLen_++] = c;
  } else {
    lineCut_ = true;
  }
}

// Matched case-insensitively at the start of each header line (every byte is compared as c | 0x20).
const char kLengthHeader[] PROGMEM = "content-length:";
const uint8_t kLengthMatched = sizeof kLengthHeader - 1, kLineOther = kLengthMatched + 1;

void EspAt::payloadByte(char c) {
  if (job_ == Job::Http) {
    if (step_ == Step::Reply) since_ = millis();  // a reply still arriving is not late
    if (httpPhase_ == kBeforeCode) {
      // Status line "HTTP/1.1 201 Created": the digits after the first space.
      if (c == ' ') httpPhase_ = kInCode;
    } else if (httpPhase_ == kInCode) {
      if (c >= '0' && c <= '9' && httpStatus_ < 1000) {
        httpStatus_ = httpStatus_ * 10 + (c - '0');
      } else {
        httpPhase_ = kLineStart + kLineOther;  // the rest of the status line
      }
    } else if (ESPAT_KEEP_ALIVE && !keepBody_) {
      // Where the answer ends, so its link can carry the next request: Content-Length's bytes after the headers.
      if (httpPhase_ == kInBody) {
        if (--bodyLeft_ == 0) advance(Reply::Done);
      } else if (c == '\n') {
        if (httpPhase_ == kLineStart) {  // a blank line: the headers are over
          httpPhase_ = kInBody;
          if (bodyLeft_ == 0 || bodyLeft_ == kUnknownLength) advance(Reply::Done);
        } else {
          httpPhase_ = kLineStart;
        }
      } else if (c != '\r') {
        uint8_t at = httpPhase_ - kLineStart;  // how much of the Content-Length name this line has matched
        if (at == kLengthMatched) {
          if (c >= '0' && c <= '9') bodyLeft_ = bodyLeft_ * 10 + (c - '0');  // spaces around it are skipped
        } else if (at < kLengthMatched && (c | 0x20) == pgm_read_byte(&kLengthHeader[at])) {
          if (++httpPhase_ - kLineStart == kLengthMatched) bodyLeft_ = 0;
        } else {
          httpPhase_ = kLineStart + kLineOther;
        }
      }
    }
    if (!keepBody_) return;  // drained: the caller asked for the status only
  }
  if (rxLen_ < ESPAT_RX_MAX) {
    rx_[(rxHead_ + rxLen_) % ESPAT_RX_MAX] = c;
    rxLen_++;
  } else {
    rxOverflow_++;
  }
}

// Lines the driver acts on, NUL-separated; their index is what lineKind() returns.
#define ESPAT_LINE_TEXT(kind, text) text "\0"
const char kLines[] PROGMEM = ESPAT_LINES(ESPAT_LINE_TEXT);
#undef ESPAT_LINE_TEXT
#define ESPAT_LINE_KIND(kind, text) k##kind,
enum : uint8_t { ESPAT_LINES(ESPAT_LINE_KIND) kOther };
#undef ESPAT_LINE_KIND

// Which known line line_ holds, after a "<id>," prefix (CIPMUX=1) naming our link; kOther for anything else.
uint8_t EspAt::lineKind() const {
  const char* text = line_;
  uint8_t len = lineLen_;
  if (len >= 2 && line_[1] == ',') {
    if ((uint8_t)(line_[0] - '0') != id_) return kOther;
    text += 2;
    len -= 2;
  }
  for (uint8_t kind = 0; kind < kOther; kind++) {
    PGM_P known = nth(kLines, kind);
    if (strlen_P(known) == len && memcmp_P(text, known, len) == 0) return kind;
  }
  return kOther;
}

// The digits after line_[from] up to the line's end, the last of a comma-separated list; false if not all digits.
bool EspAt::lastNumber(uint8_t from, uint16_t& n) const {
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

static_assert(ESPAT_LINE_MAX >= 12, "AT+GMR's major version is the 12th character of its line");

void EspAt::handleLine() {
  // AT+GMR: "AT version:1.7.4.0(...)" or "AT version:2.2.0.0(...)"; the major digit says which names to use.
  if (step_ == Step::Gmr && lineLen_ > 11 && memcmp_P(line_, PSTR("AT version:"), 11) == 0) {
    dialect2_ = line_[11] >= '2';
  }
  if (lineLen_ == 0 || lineCut_) return;
  ESPAT_TRACE_LINE(line_, lineLen_);
  static_assert(kOk + 1 == (uint8_t)Reply::Ok && kError + 1 == (uint8_t)Reply::Error &&
                    kFail + 1 == (uint8_t)Reply::Fail && kSendOk + 1 == (uint8_t)Reply::SendOk &&
                    kSendFail + 1 == (uint8_t)Reply::SendFail && kBusy + 1 == (uint8_t)Reply::Busy,
                "the first six lines give the Reply of the same name");
  uint8_t kind = lineKind();
  Reply r = Reply::None;
  uint16_t n;
  if (ESPAT_PASSIVE_RX && lineLen_ >= 8 && memcmp_P(line_, PSTR("+IPD,"), 5) == 0) {
    // Passive receive's notice "+IPD,<id>,<len>": the module holds <len> bytes for link <id>.
    if (line_[5] - '0' == id_ && lastNumber(7, n)) {
      waiting_ = n;
      r = Reply::Data;
    }
  } else if (kind <= kBusySending) {
    r = kind == kBusySending ? Reply::Busy : (Reply)(kind + 1);  // `busy s...`: busy sending, the same refusal
  } else if (kind <= kConnectFail) {
    if (ESPAT_KEEP_ALIVE) linkOpen_ = false;
    r = Reply::Closed;
  } else if (kind == kAlready) {
    already_ = true;
  } else if (kind == kGotIp) {
    wifiUp_ = true;
  } else if (kind == kDisconnect) {
    wifiUp_ = false;
    if (ESPAT_KEEP_ALIVE) linkOpen_ = false;
  } else if (kind == kBooted) {
    // The module rebooted: links, echo, mux and Wi-Fi are gone.
    resets_++;
    wifiUp_ = false;
    if (ESPAT_KEEP_ALIVE) linkOpen_ = false;
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
  if (r != Reply::None && job_ != Job::None) advance(r);
}

void EspAt::go(Step step) {
  tries_ = 0;
  enter(step);
}

// Each step's command, NUL-separated in Step order, and its wait in 100 ms, both from ESPAT_STEPS. The
// ESPAT_ARG_* bytes stand for the running operation's arguments, so one loop writes every command instead of a
// print chain per step.
enum : char { kId = 1, kHost, kPort, kCur, kScope, kBaud, kSsid, kPass, kLength, kAsked };
static_assert(ESPAT_ARG_ID[0] == kId && ESPAT_ARG_HOST[0] == kHost && ESPAT_ARG_PORT[0] == kPort &&
                  ESPAT_ARG_CUR[0] == kCur && ESPAT_ARG_SCOPE[0] == kScope && ESPAT_ARG_BAUD[0] == kBaud &&
                  ESPAT_ARG_SSID[0] == kSsid && ESPAT_ARG_PASS[0] == kPass && ESPAT_ARG_LENGTH[0] == kLength &&
                  ESPAT_ARG_ASKED[0] == kAsked,
              "each placeholder is the byte enter() replaces");
#define ESPAT_STEP_COMMAND(name, command, wait) command "\0"
const char kCommands[] PROGMEM = ESPAT_STEPS(ESPAT_STEP_COMMAND);
#undef ESPAT_STEP_COMMAND
#define ESPAT_STEP_WAIT(name, command, wait) wait,
const uint8_t kWaits[] PROGMEM = {ESPAT_STEPS(ESPAT_STEP_WAIT)};
#undef ESPAT_STEP_WAIT

// Sends the step's command (again, after busy or an unanswered AT) and starts its clock.
void EspAt::enter(Step step) {
  ESPAT_TRACE_STEP(step);
  static_assert(sizeof kWaits == (size_t)Step::Count, "one wait per step, in Step order");
  step_ = step;
  since_ = millis();
  wait_ = pgm_read_byte(&kWaits[(uint8_t)step]) * 100U;
  if (step == Step::Start) {
    already_ = false;
  }
#if ESPAT_RESET_PIN >= 0
  if (step == Step::PinLow) {
    digitalWrite(ESPAT_RESET_PIN, LOW);  // output low; released in advance() by going back to an input
    pinMode(ESPAT_RESET_PIN, OUTPUT);
  }
#endif
  if (ESPAT_PASSIVE_RX && step == Step::Recv) {
    // Never more than read() has room for; a status-only exchange keeps nothing, so a serial buffer's worth.
    uint8_t room = keepBody_ ? ESPAT_RX_MAX - rxLen_ : 64;
    asked_ = room > 64 ? 64 : room;
    if (asked_ == 0) {  // the caller has not read yet: look again shortly
      wait_ = 20;
      return;
    }
    waiting_ = 0;  // a notice from here on means data came after this read's answer was made
  }
  PGM_P cmd = nth(kCommands, (uint8_t)step);
  if (pgm_read_byte(cmd) == 0) return;
  Print& p = port_;
  for (char c; (c = pgm_read_byte(cmd++)) != 0;) {
    switch (c) {
      case kId:
        p.write('0' + id_);  // links are 0..4
        break;
      case kHost:
        p.print(flash(args_.http.host));
        break;
      case kPort:
        p.print(flash(args_.http.port));
        break;
      case kCur:  // 1.7 names; 2.x has no _CUR
        if (!dialect2_) p.print(F("_CUR"));
        break;
      case kScope:
        p.print(args_.uart.persist ? F("_DEF") : F("_CUR"));
        break;
      case kBaud:
        p.print(args_.uart.baud);
        break;
      case kSsid:
        printQuoted(args_.join.ssid);
        break;
      case kPass:
        printQuoted(args_.join.pass);
        break;
      case kAsked:
        p.print(asked_);
        break;
      case kLength: {
        ByteCounter counter;
        writeRequest(counter);
        p.print(counter.count);
        break;
      }
      default:
        p.write(c);
    }
  }
  p.print(F("\r\n"));
}

void EspAt::advance(Reply r) {
  if (ESPAT_PASSIVE_RX && step_ >= Step::RecvMode) {
    advancePassive(r);
    return;
  }
  if (r == Reply::Busy) {
    // The module dropped our line; say it again after a pause.
    if (++tries_ > kBusyTries) {
      finish(EspStatus::Timeout);
    } else {
      resend_ = true;
      since_ = millis();
      wait_ = kBusyPause;
    }
    return;
  }
  switch (step_) {
    case Step::At:
      if (r == Reply::Ok) {
        // After more than one AT, the others' answers may still be on their way: let them pass first, or each
        // would be taken for the answer to the command after it.
        go(tries_ ? Step::AtDrain : Step::Echo);
      } else if (r == Reply::None || r == Reply::Error) {
        // No answer, or our AT arrived glued to garbage: ask again, a bounded number of times.
        if (++tries_ < kAtTries) {
          enter(Step::At);
        } else {
          finish(EspStatus::Timeout);
        }
      }
      break;
    case Step::AtDrain:
      if (r == Reply::None) go(Step::Echo);
      else enter(Step::AtDrain);  // a late answer: wait for quiet again
      break;
    case Step::Echo:
    case Step::Gmr:
      if (r == Reply::Ok) go(step_ == Step::Echo ? Step::Gmr : Step::Mux);
      else if (r == Reply::None || r == Reply::Error) finish(r == Reply::None ? EspStatus::Timeout : EspStatus::Error);
      break;
    case Step::Mux:
      // ERROR here means a link is open, so the mode is already 1 (we never use 0).
      if (r == Reply::Ok || r == Reply::Error) {
        if (ESPAT_PASSIVE_RX) go(Step::RecvMode);
        else finish(EspStatus::Ok);
      } else if (r == Reply::None) {
        finish(EspStatus::Timeout);
      }
      break;
    case Step::PinLow:
#if ESPAT_RESET_PIN >= 0
      if (r == Reply::None) {
        pinMode(ESPAT_RESET_PIN, INPUT);  // released: the module's pull-up takes it high and it boots
        go(Step::Boot);
      }
#endif
      break;
    case Step::Rst:
    case Step::Boot:
      if (r == Reply::None) finish(EspStatus::Timeout);
      break;
    case Step::Mode:
      if (r == Reply::Ok) {
        go(Step::Jap);
      } else if (r == Reply::Error || r == Reply::None) {
        finish(r == Reply::None ? EspStatus::Timeout : EspStatus::Error);
      }
      break;
    case Step::Jap:
      if (r == Reply::Ok) {
        wifiUp_ = true;
        finish(EspStatus::Ok);
      } else if (r == Reply::Fail || r == Reply::Error) {
        finish(EspStatus::JoinFailed);
      } else if (r == Reply::None) {
        finish(EspStatus::Timeout);
      }
      break;
    case Step::Uart:
      if (r == Reply::Ok) finish(EspStatus::Ok);
      else if (r == Reply::Error || r == Reply::None) finish(r == Reply::None ? EspStatus::Timeout : EspStatus::Error);
      break;
    case Step::Start:
      if (r == Reply::Ok || (r == Reply::Error && already_)) go(Step::Send);
      else if (r == Reply::Error) closeWith(EspStatus::ConnectFailed);
      else if (r == Reply::None) closeWith(EspStatus::Timeout);
      break;
    case Step::Send:
      if (r == Reply::Prompt) {
        writeRequest(port_);
        go(Step::SendOk);
      } else if (ESPAT_KEEP_ALIVE && reuse_ && (r == Reply::Error || r == Reply::Closed)) {
        reuse_ = false;  // the kept link was closed under us ("link is not valid"): open a new one
        go(Step::Start);
      } else if (r == Reply::Error || r == Reply::Closed || r == Reply::SendFail) {
        closeWith(EspStatus::SendFailed);
      } else if (r == Reply::None) {
        closeWith(EspStatus::Timeout);
      }
      break;
    case Step::SendOk:
      if (r == Reply::SendOk) go(ESPAT_PASSIVE_RX && waiting_ ? Step::Recv : Step::Reply);
      else if (ESPAT_KEEP_ALIVE && r == Reply::Done) keepLink();  // the reply overtook SEND OK: ignored
      else if (r == Reply::Closed && httpStatus_) finish(EspStatus::Ok);  // the whole reply overtook SEND OK
      else if (r != Reply::Ok) closeWith(r == Reply::None ? EspStatus::Timeout : EspStatus::SendFailed);
      break;
    case Step::Reply:
      if (ESPAT_KEEP_ALIVE && r == Reply::Done) keepLink();
      else if (ESPAT_PASSIVE_RX && (r == Reply::Data || (r == Reply::Closed && waiting_))) {
        linkDone_ = r == Reply::Closed;  // 1.x may say CLOSED before the data it holds was read
        go(Step::Recv);
      } else if (r == Reply::Closed) finish(httpStatus_ ? EspStatus::Ok : EspStatus::NoReply);
      else if (r == Reply::None) closeWith(httpStatus_ ? EspStatus::Ok : EspStatus::NoReply);
      break;
    case Step::Close:
      // CIPCLOSE answers `<id>,CLOSED` and then OK (or ERROR when the link was gone): wait for the OK, or it
      // would be taken for the next command's answer.
      if (r == Reply::Ok || r == Reply::Error || r == Reply::None) finish(verdict_);
      break;
    default:  // Idle, and the passive steps, handled above
      break;
  }
}

// The headers (and the body Content-Length announced) are in. For a status-only exchange that is all: a link
// whose answer we read to its end can carry the next request; one whose body has no length ends only with the
// link, so close it. A body the caller keeps is read until the server closes (the request said so).
void EspAt::keepLink() {
  if (keepBody_) return;
  if (bodyLeft_) {
    closeWith(EspStatus::Ok);
  } else {
    linkOpen_ = true;
    finish(EspStatus::Ok);
  }
}

// Passive receive's own steps: turning it on during sync, and reading what the module holds.
void EspAt::advancePassive(Reply r) {
  if (step_ == Step::RecvMode) {
    // ERROR: a firmware without passive receive; the data then comes as +IPD, which is read as well.
    finish(r == Reply::None ? EspStatus::Timeout : EspStatus::Ok);
  } else if (r == Reply::Closed) {  // Step::Recv from here on
    linkDone_ = true;
  } else if (r == Reply::Ok || r == Reply::Error) {
    // A full read may have left more behind, and a notice during the read says more came; otherwise a short
    // read (or ERROR: nothing held) emptied the module.
    if ((r == Reply::Ok && got_ == asked_) || waiting_) {
      go(Step::Recv);
    } else {
      waiting_ = 0;
      if (linkDone_) finish(httpStatus_ ? EspStatus::Ok : EspStatus::NoReply);
      else go(Step::Reply);
    }
  } else if (r == Reply::None) {
    if (asked_ == 0) enter(Step::Recv);  // read() had no room: look again
    else closeWith(httpStatus_ ? EspStatus::Ok : EspStatus::NoReply);
  }
}

void EspAt::closeWith(EspStatus verdict) {
  verdict_ = verdict;
  go(Step::Close);
}

void EspAt::finish(EspStatus status) {
  ESPAT_TRACE("= ", (uint8_t)status);
  ipdLeft_ = 0;
  job_ = Job::None;
  step_ = Step::Idle;
  resend_ = false;
  status_ = status;
}

// A quoted AT parameter: backslash, quote and comma escaped, as Espressif's AT command set documents for
// AT+CWJAP's <ssid> and <pwd>.
void EspAt::printQuoted(PGM_P text) {
  port_.print('"');
  for (char c; (c = pgm_read_byte(text)) != 0; text++) {
    if (c == '\\' || c == '"' || c == ',') port_.print('\\');
    port_.print(c);
  }
  port_.print('"');
}

// The request, written once to count it and once to send it, so the two can never disagree.
void EspAt::writeRequest(Print& out) {
  const bool post = args_.http.body != nullptr;
  out.print(post ? F("POST ") : F("GET "));
  out.print(flash(args_.http.path));
  out.print(F(" HTTP/1.1\r\nHost: "));
  out.print(flash(args_.http.host));
  PGM_P port = args_.http.port;
  if (strcmp_P("80", port) != 0) {
    out.print(':');
    out.print(flash(port));
  }
  if (bearer_) {
    out.print(F("\r\nAuthorization: Bearer "));
    out.print(flash(bearer_));
  }
  if (post) {
    ByteCounter length;
    args_.http.body->printTo(length);
    out.print(F("\r\nContent-Type: application/json\r\nContent-Length: "));
    out.print(length.count);
  }
  // A reply the caller keeps is read to the link's end; with keep-alive a status-only exchange leaves the link
  // open for the next (HTTP/1.1's default), else the server closes it.
  if (keepBody_ || !ESPAT_KEEP_ALIVE) out.print(F("\r\nConnection: close"));
  out.print(F("\r\n\r\n"));
  if (post) args_.http.body->printTo(out);
}
