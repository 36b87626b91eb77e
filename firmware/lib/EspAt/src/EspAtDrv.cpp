// The driver's operations: each one a walk through the steps of ESPAT_STEPS, moved on by the module's answers
// (advance) or by a step's bound passing. The line reader that produces those answers is EspAtLines.cpp.
#include "EspAtDrv.h"

#include "EspAtInternal.h"

namespace {

// Ms between a busy answer and saying the command again.
const uint16_t kBusyPause = 500;
const uint8_t kAtTries = 10, kBusyTries = 20;

}  // namespace

#if ESPAT_CLIENTS
__attribute__((noinline)) uint8_t EspAtDrv::bitOf(uint8_t id) { return 1 << id; }
#endif

// Each start refuses a running operation first (before it stores its arguments, which the running one may still
// read), so begin() and beginLink() need not ask again.
__attribute__((noinline)) bool EspAtDrv::begin(Job job, Step first) {
  job_ = job;
  status_ = EspStatus::Pending;
  resend_ = false;
  readies_ = 0;
  go(first);
  return true;
}

// The single link operations' start (an exchange checks its link itself). Out of line: inlined into each of their
// starts it was 22 B more in WebClient and MqttPublish.
__attribute__((noinline)) bool EspAtDrv::beginLink(Job job, Step first, uint8_t id) {
  if (id >= kLinks) return false;
  id_ = id;
  return begin(job, first);
}

// A module that needed syncing may have rebooted unheard, so Wi-Fi counts as down until joined again.
bool EspAtDrv::startSync() {
  if (job_ != Job::None) return false;
  wifiUp_ = false;
  return begin(Job::Sync, Step::At);
}
bool EspAtDrv::startReset(bool hardware) {
  if (job_ != Job::None) return false;
  wifiUp_ = false;
  Step first = Step::Rst;
  if (pulse_ && hardware) {
    pulse_(resetPin_, true);  // held low for PinLow's wait (the only way into it)
    first = Step::PinLow;
  }
  return begin(Job::Reset, first);
}

bool EspAtDrv::startJoin(EspStr ssid, EspStr pass) {
  if (job_ != Job::None) return false;
  host_ = ssid;
  pass_ = pass;
  return begin(Job::Join, Step::Mode);
}

#if ESPAT_CLIENTS
bool EspAtDrv::startUart(uint32_t baud, bool persist) {
  if (job_ != Job::None) return false;
  baud_ = baud;
  persist_ = persist;
  args_ = &uartArg;
  return begin(Job::Uart, Step::Uart);
}


bool EspAtDrv::startConnect(uint8_t id, EspStr host, uint16_t port) {
  if (job_ != Job::None) return false;
  host_ = host;
  remotePort_ = port;
  return beginLink(Job::Connect, Step::Start, id);
}

bool EspAtDrv::startUdp(uint8_t id, EspStr host, uint16_t port, uint16_t localPort) {
  if (job_ != Job::None) return false;
  host_ = host;
  remotePort_ = port;
  localPort_ = localPort;
  args_ = &localArg;
  return beginLink(Job::Udp, Step::Start, id);
}

bool EspAtDrv::startSend(uint8_t id, const Printable& data) {
  if (job_ != Job::None) return false;
  data_ = &data;
  answered_ = false;
  return beginLink(Job::Send, Step::Send, id);
}

bool EspAtDrv::startClose(uint8_t id) { return job_ == Job::None && beginLink(Job::Close, Step::Close, id); }
#endif


void EspAtDrv::go(Step step) {
  tries_ = 0;
  enter(step);
}

// Each step's command, NUL-separated in Step order, and its wait in 100 ms, both from ESPAT_STEPS.
#define ESPAT_STEP_COMMAND(name, command, wait) command "\0"
const char kCommands[] PROGMEM = ESPAT_STEPS(ESPAT_STEP_COMMAND);
#undef ESPAT_STEP_COMMAND
#define ESPAT_STEP_WAIT(name, command, wait) wait,
const uint8_t kWaits[] PROGMEM = {ESPAT_STEPS(ESPAT_STEP_WAIT)};
#undef ESPAT_STEP_WAIT
#ifdef ESPAT_DEBUG
#define ESPAT_STEP_TEXT(name, command, wait) #name "\0"
const char kStepNames[] PROGMEM = ESPAT_STEPS(ESPAT_STEP_TEXT);
#undef ESPAT_STEP_TEXT
#endif

// Sends the step's command (again, after busy or an unanswered AT) and starts its clock. (No tail call to put():
// 10 B less in WebClient, MqttPublish and the Reporter example; the reporters the same.)
ESPAT_NO_TAIL_CALLS void EspAtDrv::enter(Step step) {
  ESPAT_TRACE_STEP(kStepNames, step);
  static_assert(sizeof kWaits == (size_t)Step::Count, "one wait per step, in Step order");
  step_ = step;
  since_ = (uint16_t)millis();
  uint16_t wait = pgm_read_byte(&kWaits[(uint8_t)step]) * 100U;
  if (step == Step::Reply && replyMs_) wait = replyMs_;  // setReplyMs(); the table's 10 s without it
  wait_ = wait;
  if (step == Step::Start) already_ = false;
  writeCommand(esp_nth(kCommands, (uint8_t)step));
}

// One byte to the module: the port's virtual write() called from this one place.
__attribute__((noinline)) void EspAtDrv::put(char c) { port_.write((uint8_t)c); }

void EspAtDrv::writeCommand(PGM_P cmd) {
  char c = pgm_read_byte(cmd);
  if (c == 0) return;  // a step that sends nothing
  do {
    if ((uint8_t)c < ' ') {
      writeArg(c);
    } else {
      put(c);
    }
  } while ((c = pgm_read_byte(++cmd)) != 0);
  put('\r');
  put('\n');
}

// What `data` prints, counted. Not on writeArg's stack: a frame there made all of writeArg reach the object
// through a copy of its pointer. With the link operations the counter is one static object (6 B of RAM; its
// frame in a function of its own was 22 B more in WebClient and MqttPublish); the exchange-only reporters keep it
// on the stack, inlined: a static one drags Print's table into RAM there and cost them 10-50 B.
#if ESPAT_CLIENTS
static EspAtByteCounter counter;
static uint16_t countOf(const Printable& data) {
  counter.count = 0;
  data.printTo(counter);
  return counter.count;
}
#else
static uint16_t countOf(const Printable& data) {
  EspAtByteCounter counter;
  data.printTo(counter);
  return counter.count;
}
#endif

// A placeholder of the command table (EspAtSteps.h) as the running operation's argument. (A byte: as a char it was
// widened to 32 bits for the switch, 8-10 B more. Without the frame its cases ended in tail calls, each with a copy
// of the epilogue: 68 B more in WebClient.)
ESPAT_NO_TAIL_CALLS void EspAtDrv::writeArg(uint8_t c) {
  uint16_t number;
  switch (c) {
    case ESPAT_ARG_ID[0]:
      put('0' + id_);
      return;
    case ESPAT_ARG_HOST[0]:
    case ESPAT_ARG_SSID[0]:
    case ESPAT_ARG_PASS[0]:
      writeText(c == ESPAT_ARG_PASS[0] ? pass_ : host_, c != ESPAT_ARG_HOST[0]);
      return;
    case ESPAT_ARG_CUR[0]:  // 1.7 names; 2.x has no _CUR
      if (!dialect2_) port_.print(F("_CUR"));
      return;
    case ESPAT_AT_CIP[0]:
      port_.print(F("AT+CIP"));
      return;
#if ESPAT_CLIENTS
    case ESPAT_ARG_PROTO[0]:
      port_.print(job_ == Job::Udp ? F("UDP") : F("TCP"));
      return;
    case ESPAT_ARG_ASKED[0]:
      number = asked_;
      break;
#endif
    case ESPAT_ARG_PORT[0]:
      number = remotePort_;
      break;
    case ESPAT_ARG_LENGTH[0]:
      number = owed_ = countOf(*data_);
      break;
    default:
#if ESPAT_CLIENTS
      if (args_) args_(*this, c);  // the optional operations' arguments
#endif
      return;
  }
  port_.print(number);
}

// A string argument; `escaped`: with backslash, quote and comma escaped (AT+CWJAP's, between the table's quotes).
void EspAtDrv::writeText(EspStr s, bool escaped) {
  for (uint16_t i = 0; char c = s.at(i); i++) {
    if (escaped && (c == '\\' || c == '"' || c == ',')) put('\\');
    put(c);
  }
}

ESPAT_NO_TAIL_CALLS void EspAtDrv::advance(Reply r) {
  static_assert((uint8_t)Step::Echo + 1 == (uint8_t)Step::Gmr && (uint8_t)Step::Gmr + 1 == (uint8_t)Step::Mux &&
                    (uint8_t)Step::Mode + 1 == (uint8_t)Step::Jap,
                "Echo, Gmr and Mode go on to the step after them");
  if (r == Reply::Busy) {
    // The module dropped our line; say it again after a pause.
    if (++tries_ > kBusyTries) {
      finish(EspStatus::Timeout);
    } else {
      resend_ = true;
      since_ = (uint16_t)millis();
      wait_ = kBusyPause;
    }
    return;
  }
  if (step_ >= Step::Start) {
#if ESPAT_CLIENTS
    if (step_ == Step::Recv) receive_(*this, r);
    else if (job_ != Job::Exchange) advanceLink(r);
    else
#endif
      onExchange(r);  // its own rules, EspAtExchange.cpp
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
      return;
    case Step::AtDrain:
      if (r == Reply::None) go(Step::Echo);
      else enter(Step::AtDrain);  // a late answer: wait for quiet again
      return;
    case Step::PinLow:
      if (r == Reply::None) {
        pulse_(resetPin_, false);  // released: the module's pull-up takes it high and it boots
        go(Step::Boot);
      }
      return;
    case Step::Echo:  // then Gmr
    case Step::Gmr:   // then Mux
    case Step::Mode:  // then Jap
      if (r == Reply::Ok) {
        go((Step)((uint8_t)step_ + 1));
        return;
      }
      break;
    case Step::Mux:
      // ERROR here means a link is open, so the mode is already 1 (we never use 0).
      if (r == Reply::Ok || r == Reply::Error) {
#if ESPAT_CLIENTS
        if (receive_) {
          go(Step::RecvMode);
          return;
        }
#endif
        finish(EspStatus::Ok);
        return;
      }
      break;
    case Step::RecvMode:
      // ERROR: a firmware without passive receive; the data then comes as +IPD, which is read as well.
      if (r != Reply::None) {
        finish(EspStatus::Ok);
        return;
      }
      break;
    case Step::Rst:
    case Step::Boot:
      if (r != Reply::None) return;  // only `ready` (handleLine) or the bound ends them
      break;
    case Step::Jap:
      if (r == Reply::Ok) wifiUp_ = true;
      if (r == Reply::Fail || r == Reply::Error) {
        finish(EspStatus::JoinFailed);
        return;
      }
      // fall through: OK ends it as it ends the others
    default:  // Uart, Status, JapQuery: one answer ends them
      if (r == Reply::Ok) {
        finish(EspStatus::Ok);
        return;
      }
      break;
  }
  // Every step that got here: ERROR or no answer ends the operation.
  if (r == Reply::Error || r == Reply::None) finish(r == Reply::None ? EspStatus::Timeout : EspStatus::Error);
}

#if ESPAT_CLIENTS
// The link steps of the single operations: Connect ends after CIPSTART, Send after SEND OK, Close after CIPCLOSE.
// (An exchange goes through them all by its own rules, in EspAtExchange.cpp.)
void EspAtDrv::advanceLink(Reply r) {
  switch (step_) {
    case Step::Start:
      if (r == Reply::Ok || (r == Reply::Error && already_)) {
        linkGained(id_);
        finish(EspStatus::Ok);
      } else if (r == Reply::Error || r == Reply::None) {
        finish(r == Reply::Error ? EspStatus::ConnectFailed : EspStatus::Timeout);
      }
      break;
    case Step::Send:  // (its prompt is handled where it is read, handleByte)
    case Step::SendOk:
      // SEND OK; or the answer and CLOSED overtook it (a late SEND OK finds no operation and is let pass).
      if (step_ == Step::SendOk && (r == Reply::SendOk || (r == Reply::Closed && answered_))) {
        finish(EspStatus::Ok);
      } else if (r == Reply::Error || r == Reply::Closed || r == Reply::SendFail || r == Reply::None) {
        finish(r == Reply::None ? EspStatus::Timeout : EspStatus::SendFailed);
      }
      break;
    default:  // Step::Close: `<id>,CLOSED` and then OK (or ERROR when the link was gone); wait for the OK
      if (r == Reply::Ok || r == Reply::Error || r == Reply::None) {
        linkLost(bitOf(id_));
        waiting_ &= ~bitOf(id_);  // whatever it held is gone with it
        finish(r == Reply::None ? EspStatus::Timeout : EspStatus::Ok);
      }
      break;
  }
}
#endif

// Low: an output at 0 V. Released: an input again, never driven high (the module is a 3.3 V part).
void EspAtDrv::pulseResetPin(uint8_t pin, bool low) {
  if (low) digitalWrite(pin, LOW);
  pinMode(pin, low ? OUTPUT : INPUT);
}

void EspAtDrv::closeWith(EspStatus verdict) {
  verdict_ = verdict;
  go(Step::Close);
}

__attribute__((noinline)) void EspAtDrv::finish(EspStatus status) {
  ESPAT_TRACE("= ", (uint8_t)status);
  ipdLeft_ = 0;  // (reuse_ is left: only a running exchange reads it, and its start sets it)
  job_ = Job::None;
  step_ = Step::Idle;
  resend_ = false;
  status_ = status;
}

// The layout tag (EspAtConfig.h): defined here only, named by every sketch's EspAtDrv constructor.
extern "C" const char ESPAT_LAYOUT_TAG = 0;
