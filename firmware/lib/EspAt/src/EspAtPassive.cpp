// Passive receive (AT+CIPRECVMODE=1), linked only into a sketch that turns it on: the module keeps what a server
// sends until the driver asks for it with AT+CIPRECVDATA=<id>,<n>, never more than the link's sink has room for.
#include "EspAtDrv.h"
#include "EspAtInternal.h"
#if ESPAT_CLIENTS

namespace {
const uint8_t kChunk = 64;  // one read asks for at most what the serial port's buffer holds
const uint8_t kFullPause = 20;  // ms before asking a full sink again
}  // namespace

bool EspAtDrv::startReceive(uint8_t id) {
  if (job_ != Job::None || id >= kLinks || !receive_) return false;
  id_ = id;
  receive_(*this, Reply::Receive);  // passiveStep, through the pointer: a sketch without passive receive links none
  return true;
}

// A notice (line_ holds "+IPD,<id>,<len>"), or the end of a head during a read (line_ may hold
// "+CIPRECVDATA,<len>" before a 1.x ':', "+CIPRECVDATA:<len>" before a 2.x ','; handleByte has matched the
// separators): what the reader hands over.
static_assert(EspAtDrv::kLineMax >= 20, "a +CIPRECVDATA head fits a line");
void EspAtDrv::passiveHead(EspAtDrv& d, Reply r) {
  const char* line = d.line_;
  if (r == Reply::Notice) {
    uint8_t link = line[5] - '0';
    if (link < kLinks && d.lastNumber(7) != kNoNumber) {
      d.waiting_ |= bitOf(link);
      if (link == d.id_) {
        d.answered_ = true;
        if (d.job_ != Job::None) d.advance(Reply::Data);
      }
    }
  } else if (d.lineStarts(PSTR("+CIPRECVDATA"), 12, 14)) {
    if (d.framePayload(13, d.id_)) d.got_ = d.ipdLeft_;
  }
}

// With Reply::Prompt (its start, or an exchange's): start a read for link id_. In Step::Recv (advance() hands it
// every answer then): the read's answer (OK, ERROR, CLOSED) or its bound.
ESPAT_NO_TAIL_CALLS void EspAtDrv::passiveStep(EspAtDrv& d, Reply r) {
  if (r >= Reply::Notice) {
    passiveHead(d, r);
    return;
  }
  if (r == Reply::Receive) {  // startReceive's own operation
    d.job_ = Job::Receive;
    d.status_ = EspStatus::Pending;  // (resend_ is false: only a running operation sets it, and finish() clears it)
    r = Reply::Prompt;
  }
  if (r == Reply::Prompt || (r == Reply::None && d.asked_ == 0)) {
    EspAtSink* sink = d.sinks_[d.id_];
    uint16_t room = sink ? sink->room() : kChunk;
    d.asked_ = room > kChunk ? kChunk : room;
    if (d.asked_ == 0) {
      if (d.job_ != Job::Exchange) {
        d.finish(EspStatus::Ok);  // a Receive with nowhere to put the bytes: nothing to do now
        return;
      }
      d.step_ = Step::Recv;  // the sink is full: look again shortly, without a command
      d.since_ = (uint16_t)millis();
      d.wait_ = kFullPause;
      return;
    }
    d.waiting_ &= ~bitOf(d.id_);  // a notice from here on means data came after this read's answer was made
    d.got_ = 0;
    d.go(Step::Recv);
    return;
  }
  // A full read may have left more behind (as a notice during the read says more came); otherwise a short read
  // (or ERROR: nothing held) emptied the module.
  if (r == Reply::Ok && d.got_ == d.asked_) d.waiting_ |= bitOf(d.id_);
  if (d.job_ == Job::Exchange) {
    d.onExchange(r);  // what the read's end means to an exchange: its own rules, EspAtExchange.cpp
  } else if (r == Reply::Ok || r == Reply::Error || r == Reply::None) {
    d.finish(r == Reply::None ? EspStatus::Timeout : EspStatus::Ok);
  }
}
#endif  // ESPAT_CLIENTS
