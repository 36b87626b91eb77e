// The driver's exchange (startExchange): one request on a link and its answer, the reporters' way. Its own rules
// live here, behind a function pointer the start installs, so a sketch that only uses the Client links none of it.
#include "EspAtDrv.h"
#include "EspAtInternal.h"

#if ESPAT_CLIENTS
// What the request prints, counted when the exchange starts, for its AT+CIPSEND (the Client's sends know their
// length: only a sketch that runs exchanges links this counter).
static EspAtByteCounter counter;
#endif

bool EspAtDrv::startExchange(uint8_t id, EspStr host, uint16_t port, const Printable& request, EspAtSink& reply) {
  if (job_ != Job::None || id >= kLinks) return false;
  host_ = host;
  remotePort_ = port;
  data_ = &request;
  reply_ = &reply;
#if ESPAT_CLIENTS
  sinks_[id] = &reply;
#endif
  exchangeSince_ = (uint16_t)(millis() >> 8);
#if ESPAT_CLIENTS
  exchange_ = &exchangeStep;
#endif
  answered_ = false;
  linkDone_ = false;
  // (verdict_ is set by closeWith(), the only way into this exchange's Close.)
  // A link the last exchange left open carries this one; if the server closed it meanwhile, Send finds out.
  id_ = id;  // (a link id checked above)
#if ESPAT_CLIENTS
  reuse_ = linkOpen(id);
  counter.count = 0;
  request.printTo(counter);
  owed_ = counter.count;
  return begin(Job::Exchange, reuse_ ? Step::Send : Step::Start);
#else
  return begin(Job::Exchange, Step::Start);  // no keep-alive: every exchange opens its link
#endif
}

// The exchange's Close, whose OK ends it with `verdict` (the one way into it).
void EspAtDrv::closeWith(EspStatus verdict) {
  verdict_ = verdict;
  go(Step::Close);
}

// The exchange's steps: CIPSTART (skipped on a kept link), CIPSEND and the request, SEND OK, the answer, and on
// any failure CIPCLOSE, whose OK ends the exchange with the verdict kept in verdict_.
ESPAT_NO_TAIL_CALLS void EspAtDrv::exchangeStep(EspAtDrv& d, Reply r) {
  if (r == Reply::Tick) {
    if (d.step_ != Step::Close &&
        (uint16_t)((uint16_t)(millis() >> 8) - d.exchangeSince_) >= (uint16_t)(ESPAT_EXCHANGE_MAX_MS >> 8)) {
      d.closeWith(EspStatus::Timeout);
    }
    return;
  }
  if (r == Reply::Byte) {
    if (d.step_ == Step::Reply) d.since_ = (uint16_t)millis();  // an answer still arriving is not late
    return;
  }
  switch (d.step_) {
    case Step::Start:
      if (r == Reply::Ok || (r == Reply::Error && d.already_)) {
        d.linkGained(d.id_);
        d.go(Step::Send);
      } else if (r == Reply::Error || r == Reply::None) {
        d.closeWith(r == Reply::Error ? EspStatus::ConnectFailed : EspStatus::Timeout);
      }
      return;
    case Step::Send:  // (its prompt is handled where it is read, handleByte)
#if ESPAT_CLIENTS
      if (d.reuse_ && (r == Reply::Error || r == Reply::Closed)) {
        d.reuse_ = false;  // the kept link was closed under us ("link is not valid"): open a new one
        d.go(Step::Start);
        return;
      }
#endif
      break;
    case Step::SendOk:
      if (r == Reply::SendOk) {
#if ESPAT_CLIENTS
        if (d.receive_ && (d.waiting_ & bitOf(d.id_))) {
          d.receive_(d, Reply::Prompt);  // fetch what is already waiting
          return;
        }
#endif
        d.go(Step::Reply);
        return;
      }
      // The whole answer overtook SEND OK (a late SEND OK finds no operation and is let pass).
      if ((ESPAT_CLIENTS && r == Reply::Done) || (r == Reply::Closed && d.answered_)) {
        d.finish(EspStatus::Ok);
        return;
      }
      break;
    case Step::Reply:
      if (ESPAT_CLIENTS && r == Reply::Done) {
        d.finish(EspStatus::Ok);  // complete, and the link stays open for the next exchange
#if ESPAT_CLIENTS
      } else if (d.receive_ && (r == Reply::Data || (r == Reply::Closed && (d.waiting_ & bitOf(d.id_))))) {
        d.linkDone_ = r == Reply::Closed;  // 1.x may say CLOSED before the data it holds was read
        d.receive_(d, Reply::Prompt);
#endif
      } else if (r == Reply::Closed || r == Reply::None) {
        EspStatus answer = d.answered_ ? EspStatus::Ok : EspStatus::NoReply;
        if (r == Reply::Closed) d.finish(answer);
        else d.closeWith(answer);
      }
      return;
#if ESPAT_CLIENTS
    case Step::Recv:  // a passive read of the answer ended (passiveStep has marked whether more is waiting)
      if (r == Reply::Closed) {
        d.linkDone_ = true;
      } else if (r == Reply::Done) {
        // The sink has its whole answer; what the module still holds is fetched by the next exchange's reads.
        d.finish(EspStatus::Ok);
      } else if (r == Reply::Ok || r == Reply::Error) {
        if (d.waiting_ & bitOf(d.id_)) d.receive_(d, Reply::Prompt);  // a fresh read
        else if (d.linkDone_) d.finish(d.answered_ ? EspStatus::Ok : EspStatus::NoReply);
        else d.go(Step::Reply);
      } else if (r == Reply::None) {
        d.closeWith(d.answered_ ? EspStatus::Ok : EspStatus::NoReply);
      }
      return;
#endif
    default:  // Step::Close: `<id>,CLOSED` and then OK (or ERROR when the link was gone); wait for the OK
      if (r == Reply::Ok || r == Reply::Error || r == Reply::None) {
        d.linkLost(bitOf(d.id_));
#if ESPAT_CLIENTS
        d.waiting_ &= ~bitOf(d.id_);
#endif
        d.finish(d.verdict_);
      }
      return;
  }
  // Send and SendOk's failures: the link is closed, then the exchange ends.
  if (r == Reply::Error || r == Reply::Closed || r == Reply::SendFail || r == Reply::None) {
    d.closeWith(r == Reply::None ? EspStatus::Timeout : EspStatus::SendFailed);
  }
}
