#include "EspAt.h"

// Tracing for -DESPAT_DEBUG=<a Print, e.g. Serial>: each line the module sends ("< OK"), each step the driver
// enters ("> 9" = Step::Send), each end of an operation ("= 0" = EspStatus::Ok). Without it: no code at all.
#ifdef ESPAT_DEBUG
#define ESPAT_TRACE(text, value) \
  do {                           \
    ESPAT_DEBUG.print(F(text));  \
    ESPAT_DEBUG.println(value);  \
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
bool EspAt::startReset() {
  wifiUp_ = job_ != Job::None && wifiUp_;
  return begin(Job::Reset, Step::Rst);
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

bool EspAt::startHttp(uint8_t id, PGM_P host, PGM_P port, PGM_P path, const char* body, uint16_t bodyLen,
                      bool keepBody) {
  if (job_ != Job::None) return false;
  args_.http.path = path;
  args_.http.body = body;
  args_.http.len = bodyLen;
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
  if (job_ != Job::None && millis() - since_ >= wait_) {
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
    bool ok = lastNumber(ipd ? 5 : 13, n) && !lineCut_;
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
const char kLines[] PROGMEM =
    "OK\0ERROR\0FAIL\0SEND OK\0SEND FAIL\0busy p...\0"  // 0-5: Reply::Ok .. Reply::Busy, less one
    "CLOSED\0CONNECT FAIL\0"                             // 6-7: the link closed (or never opened)
    "ALREADY CONNECTED\0WIFI GOT IP\0WIFI DISCONNECT\0ready\0";
enum : uint8_t { kClosed = 6, kConnectFail, kAlready, kGotIp, kDisconnect, kBooted, kOther };

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
    } else if (d >= '0' && d <= '9' && n < 10000) {
      n = n * 10 + (d - '0');
      digits = true;
    } else {
      return false;
    }
  }
  return digits;
}

void EspAt::handleLine() {
  if (lineLen_ == 0 || lineCut_) return;
  ESPAT_TRACE_LINE(line_, lineLen_);
  uint8_t kind = lineKind();
  Reply r = Reply::None;
  uint16_t n;
  if (ESPAT_PASSIVE_RX && lineLen_ >= 8 && memcmp_P(line_, PSTR("+IPD,"), 5) == 0) {
    // Passive receive's notice "+IPD,<id>,<len>": the module holds <len> bytes for link <id>.
    if (line_[5] - '0' == id_ && lastNumber(7, n)) {
      waiting_ = n;
      r = Reply::Data;
    }
  } else if (kind <= 5) {
    r = (Reply)(kind + 1);
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
    if (step_ == Step::Rst || (job_ == Job::Sync && step_ != Step::At)) {
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

// Each step's command, NUL-separated in Step order ("" sends nothing). Bytes below ' ' stand for the running
// operation's arguments, so one loop writes every command instead of a print chain per step.
enum : char { kId = 1, kHost, kPort, kCur, kScope, kBaud, kSsid, kPass, kLength, kAsked };
const char kCommands[] PROGMEM =
    "\0AT\0ATE0\0AT+CIPMUX=1\0AT+RST\0AT+CWMODE\x04=1\0AT+CWJAP\x04=\x07,\x08\0AT+UART\x05=\x06,8,1,0,0\0"
    "AT+CIPSTART=\x01,\"TCP\",\"\x02\",\x03\0AT+CIPSEND=\x01,\x09\0\0\0AT+CIPCLOSE=\x01"
#if ESPAT_PASSIVE_RX
    "\0AT+CIPRECVMODE=1\0AT+CIPRECVDATA=\x01,\x0a"
#endif
    ;
// Each step's wait in 100 ms, bounded by what the module needs (protocol notes section 9) with margin.
const uint8_t kWaits[] PROGMEM = {10, 5, 10, 10, 80, 10, 200, 10, 100, 20, 50, 100, 20, 10, 20};

// Sends the step's command (again, after busy or an unanswered AT) and starts its clock.
void EspAt::enter(Step step) {
  ESPAT_TRACE("> ", (uint8_t)step);
  step_ = step;
  since_ = millis();
  wait_ = pgm_read_byte(&kWaits[(uint8_t)step]) * 100U;
  if (step == Step::Start) {
    already_ = false;
  }
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
        go(Step::Echo);
      } else if (r == Reply::None || r == Reply::Error) {
        // No answer, or our AT arrived glued to garbage: ask again, a bounded number of times.
        if (++tries_ < kAtTries) {
          enter(Step::At);
        } else {
          finish(EspStatus::Timeout);
        }
      }
      break;
    case Step::Echo:
      if (r == Reply::Ok) go(Step::Mux);
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
    case Step::Rst:
      if (r == Reply::None) finish(EspStatus::Timeout);
      break;
    case Step::Mode:
      if (r == Reply::Ok) {
        go(Step::Jap);
      } else if (r == Reply::Error && !dialect2_) {
        dialect2_ = true;  // 2.x has no _CUR names
        go(Step::Mode);
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
      if (r == Reply::Ok || r == Reply::Error || r == Reply::None || r == Reply::Closed) finish(verdict_);
      break;
    case Step::Idle:
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
  job_ = Job::None;
  step_ = Step::Idle;
  resend_ = false;
  status_ = status;
}

// A quoted AT parameter: backslash, quote and comma escaped (protocol notes 2.4).
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
  if (post) {
    out.print(F("\r\nContent-Type: application/json\r\nContent-Length: "));
    out.print(args_.http.len);
  }
  // A reply the caller keeps is read to the link's end; with keep-alive a status-only exchange leaves the link
  // open for the next (HTTP/1.1's default), else the server closes it.
  if (keepBody_ || !ESPAT_KEEP_ALIVE) out.print(F("\r\nConnection: close"));
  out.print(F("\r\n\r\n"));
  if (post) out.write(reinterpret_cast<const uint8_t*>(args_.http.body), args_.http.len);
}
