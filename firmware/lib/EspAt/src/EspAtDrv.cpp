// The driver's operations: each one a walk through the steps of ESPAT_STEPS, moved on by the module's answers
// (advance) or by a step's bound passing. The line reader that produces those answers is EspAtLines.cpp; what
// entering a step does (its command, its clock) and an operation's begin and end are EspAtDrvSteps.cpp, the layer
// under this file and under the exchange's (EspAtExchange.cpp), to which advance() hands the exchange's steps.
#include "EspAtDrv.h"

#include "EspAtInternal.h"

namespace {

// Ms between a busy answer and saying the command again.
const uint16_t kBusyPause = 500;
const uint8_t kAtTries = 10, kBusyTries = 20;

}  // namespace

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

bool EspAtDrv::startSend(uint8_t id, const Printable& data, uint16_t length) {
  if (job_ != Job::None) return false;
  data_ = &data;
  owed_ = length;
  answered_ = false;
  return beginLink(Job::Send, Step::Send, id);
}

bool EspAtDrv::startClose(uint8_t id) { return job_ == Job::None && beginLink(Job::Close, Step::Close, id); }
#endif


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

// The layout tag (EspAtConfig.h): defined here only, named by every sketch's EspAtDrv constructor.
extern "C" const char ESPAT_LAYOUT_TAG = 0;
