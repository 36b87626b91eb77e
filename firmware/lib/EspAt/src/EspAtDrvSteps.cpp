// Entering a step of ESPAT_STEPS (EspAtSteps.h): its command written with the running operation's arguments, its
// clock started; and an operation's begin and end. The layer under the operations' rules (EspAtDrv.cpp, and the
// exchange's in EspAtExchange.cpp): they call down into it, it calls nothing of theirs.
// (The name sorts it between those two, where the linker met this code before: as EspAtSteps.cpp, after the
// others, the link-time optimiser's other choices made the reporters 18-68 B larger.)
#include "EspAtDrv.h"
#include "EspAtDecimal.h"

#include "EspAtInternal.h"

#if ESPAT_CLIENTS
__attribute__((noinline)) uint8_t EspAtDrv::bitOf(uint8_t id) { return 1 << id; }
#endif

// Each start refuses a running operation first (before it stores its arguments, which the running one may still
// read), so begin() and beginLink() need not ask again. (resend_ is false: only a running operation sets it, on
// busy, and finish() clears it.)
__attribute__((noinline)) bool EspAtDrv::begin(Job job, Step first) {
  job_ = job;
  status_ = EspStatus::Pending;
  readies_ = 0;
  go(first);
  return true;
}

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

// The exchange-only driver counts what its exchange sends as it writes AT+CIPSEND's length: on the stack, inlined
// (a static counter drags Print's table into RAM there and cost the reporters 10-50 B). With the link operations the
// length is owed_, set when the send started (startSend's caller knows it; the exchange counts its request as it
// goes to Send, EspAtExchange.cpp), so a sketch that only uses the Client links no counter at all.
#if !ESPAT_CLIENTS
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
#if ESPAT_CLIENTS
      number = owed_;
#else
      number = owed_ = countOf(*data_);
#endif
      break;
    default:
#if ESPAT_CLIENTS
      if (args_) args_(*this, c);  // the optional operations' arguments
#endif
      return;
  }
#if ESPAT_SMALL_DECIMAL
  espatDecimal(port_, number);
#else
  port_.print(number);  // (the same bytes as espatDecimal(), 2 B smaller here)
#endif
}

// A string argument; `escaped`: with backslash, quote and comma escaped (AT+CWJAP's, between the table's quotes).
void EspAtDrv::writeText(EspStr s, bool escaped) {
  for (uint16_t i = 0; char c = s.at(i); i++) {
    if (escaped && (c == '\\' || c == '"' || c == ',')) put('\\');
    put(c);
  }
}

__attribute__((noinline)) void EspAtDrv::finish(EspStatus status) {
  ESPAT_TRACE("= ", (uint8_t)status);
  ipdLeft_ = 0;  // (reuse_ is left: only a running exchange reads it, and its start sets it)
  job_ = Job::None;
  step_ = Step::Idle;
  resend_ = false;
  status_ = status;
}
