// EspAt: a non-blocking driver for an ESP8266 running Espressif's AT firmware (1.7.x or 2.x, told apart by AT+GMR),
// over any Stream. One operation at a time is in flight; poll() reads whatever bytes have arrived, handles
// unsolicited lines wherever they fall (+IPD, N,CONNECT, N,CLOSED, WIFI ..., ready, busy), and moves the operation
// on when the module answers or its timeout passes. No String, no heap: every buffer is fixed and sized by the
// knobs in EspAtConfig.h.
#pragma once

#include <Arduino.h>

#include "EspAtConfig.h"

// Argument placeholders in the command table below: bytes under ' ' that enter() replaces with the running
// operation's arguments. Named, and concatenated as separate literals, so a hex digit after one never changes it.
#define ESPAT_ARG_ID "\x01"      // the link id, 0..4
#define ESPAT_ARG_HOST "\x02"
#define ESPAT_ARG_PORT "\x03"
#define ESPAT_ARG_CUR "\x04"     // "_CUR" in 1.x, nothing in 2.x
#define ESPAT_ARG_SCOPE "\x05"   // "_CUR" or "_DEF"
#define ESPAT_ARG_BAUD "\x06"
#define ESPAT_ARG_SSID "\x07"    // quoted and escaped
#define ESPAT_ARG_PASS "\x08"
#define ESPAT_ARG_LENGTH "\x09"  // the request's exact length
#define ESPAT_ARG_ASKED "\x0a"   // how much one CIPRECVDATA asks for

#if ESPAT_PASSIVE_RX
#define ESPAT_IF_PASSIVE(text) text
#else
#define ESPAT_IF_PASSIVE(text) ""
#endif

// Every step of every operation: its name, the command it sends on entry ("" sends nothing), and how long it waits
// for the answer, in 100 ms. The Step enum, the command table and the wait table are all made from this one list,
// so they cannot drift apart. The waits are what the module needs with margin: a join can take 15 s, a reset
// prints `ready` within a few seconds, a connect may wait for DNS; everything else answers within a second.
#define ESPAT_STEPS(X)                                                                              \
  X(Idle, "", 0)                                                                                    \
  X(At, "AT", 10)                                                                                   \
  X(AtDrain, "", 3)    /* after repeated ATs: their late OKs */                                     \
  X(Echo, "ATE0", 5)                                                                                \
  X(Gmr, "AT+GMR", 10) /* the firmware's version decides 1.x or 2.x names */                       \
  X(Mux, "AT+CIPMUX=1", 10)                                                                         \
  X(Rst, "AT+RST", 80)                                                                              \
  X(PinLow, "", 1)     /* ESPAT_RESET_PIN held low */                                               \
  X(Boot, "", 80)      /* released: waiting for `ready` */                                          \
  X(Mode, "AT+CWMODE" ESPAT_ARG_CUR "=1", 10)                                                       \
  X(Jap, "AT+CWJAP" ESPAT_ARG_CUR "=" ESPAT_ARG_SSID "," ESPAT_ARG_PASS, 200)                        \
  X(Uart, "AT+UART" ESPAT_ARG_SCOPE "=" ESPAT_ARG_BAUD ",8,1,0,0", 10)                               \
  X(Start, "AT+CIPSTART=" ESPAT_ARG_ID ",\"TCP\",\"" ESPAT_ARG_HOST "\"," ESPAT_ARG_PORT, 100)       \
  X(Send, "AT+CIPSEND=" ESPAT_ARG_ID "," ESPAT_ARG_LENGTH, 20)                                       \
  X(SendOk, "", 50)                                                                                 \
  X(Reply, "", 100)    /* extended while reply bytes arrive */                                      \
  X(Close, "AT+CIPCLOSE=" ESPAT_ARG_ID, 20)                                                         \
  X(RecvMode, ESPAT_IF_PASSIVE("AT+CIPRECVMODE=1"), 10)                                             \
  X(Recv, ESPAT_IF_PASSIVE("AT+CIPRECVDATA=" ESPAT_ARG_ID "," ESPAT_ARG_ASKED), 20)

// The lines the driver acts on, in the order of their kind numbers. The first six give Reply::Ok .. Reply::Busy.
#define ESPAT_LINES(X)                                                                                       \
  X(Ok, "OK") X(Error, "ERROR") X(Fail, "FAIL") X(SendOk, "SEND OK") X(SendFail, "SEND FAIL")             \
  X(Busy, "busy p...") X(BusySending, "busy s...") X(Closed, "CLOSED") X(ConnectFail, "CONNECT FAIL")     \
  X(Already, "ALREADY CONNECTED") X(GotIp, "WIFI GOT IP") X(Disconnect, "WIFI DISCONNECT") X(Booted, "ready")

enum class EspStatus : uint8_t {
  Ok = 0,
  Pending,        // an operation is in flight
  Timeout,        // the module did not answer in time
  Error,          // ERROR to a command
  Busy,           // refused: another operation is in flight
  JoinFailed,     // CWJAP answered FAIL/ERROR
  ConnectFailed,  // CIPSTART answered ERROR (DNS, refused)
  SendFailed,     // CIPSEND refused, SEND FAIL, or the link closed before SEND OK
  ModuleReset,    // `ready` arrived in the middle of an operation: the module rebooted
  NoReply,        // the link closed (or timed out) before an HTTP status line arrived
};

class EspAt {
 public:
  // Make it a global: static storage starts zeroed, which is the idle state, so the constructor stores the port
  // and nothing else, and the object sits in .bss (no copy of ~60 zero bytes in flash, as .data would need).
  explicit EspAt(Stream& port) : port_(port) {}

  // Reads and handles everything that has arrived; moves the current operation on. Call it from loop().
  void poll();

  // Starting an operation returns false (and status() stays as it was) when one is already in flight.
  bool startSync();  // AT until answered, ATE0, AT+GMR (1.x or 2.x names), CIPMUX=1; Wi-Fi counts as down after it
  // AT+RST, or with `hardware` (and ESPAT_RESET_PIN wired) a pulse on the module's reset pin; then wait for
  // `ready` and go on as startSync().
  bool startReset(bool hardware = false);
  bool startJoin(PGM_P ssid, PGM_P pass); // station mode, join (1.7 _CUR names, 2.x plain names)
  bool startUart(uint32_t baud, bool persist);  // AT+UART_CUR / _DEF; the answer comes at the old rate
  // One HTTP/1.1 exchange on link `id`: CIPSTART (unless ESPAT_KEEP_ALIVE kept the link), CIPSEND of the exact
  // length, the request, the status line of the reply. body == nullptr sends a GET; otherwise a POST of what
  // body prints, as JSON. The body is printed twice (counted, then sent), so it must print the same both times and
  // live until the exchange ends. With keepBody, reply bytes after the status line go to read(); otherwise they
  // are drained and dropped.
  bool startHttp(uint8_t id, PGM_P host, PGM_P port, PGM_P path, const Printable* body, bool keepBody);
  // A flash string sent as `Authorization: Bearer <token>` with every request from now on; nullptr: none.
  void setBearer(PGM_P token) { bearer_ = token; }

  bool busy() const { return job_ != Job::None; }
  EspStatus status() const { return status_; }
  int httpStatus() const { return httpStatus_; }

  // Module state learnt from unsolicited lines.
  bool wifiUp() const { return wifiUp_; }
  uint8_t resets() const { return resets_; }          // `ready` lines seen (wraps)
  uint16_t rxOverflow() const { return rxOverflow_; } // payload bytes that did not fit the read buffer

  int available() const { return rxLen_; }
  int read();

 private:
  enum class Job : uint8_t { None, Sync, Reset, Join, Uart, Http };
#define ESPAT_STEP_NAME(name, command, wait) name,
  enum class Step : uint8_t { ESPAT_STEPS(ESPAT_STEP_NAME) Count };
#undef ESPAT_STEP_NAME
  // The first six in the order of ESPAT_LINES (checked in EspAt.cpp).
  enum class Reply : uint8_t { None, Ok, Error, Fail, SendOk, SendFail, Busy, Closed, Prompt, Done, Data };
  // Where the HTTP reply parser is: the status code, then each header line from kLineStart on (the value is how
  // much of "content-length:" the line has matched), then the body.
  enum : uint8_t { kBeforeCode, kInCode, kInBody, kLineStart };

  bool begin(Job job, Step first);
  void go(Step step);
  void enter(Step step);
  void advance(Reply reply);
  void advancePassive(Reply reply);
  void finish(EspStatus status);
  void closeWith(EspStatus verdict);
  void keepLink();
  void handleByte(char c);
  void handleLine();
  uint8_t lineKind() const;
  bool lastNumber(uint8_t from, uint16_t& n) const;
  void payloadByte(char c);
  void printQuoted(PGM_P text);
  void writeRequest(Print& out);

  Stream& port_;
  Job job_;
  Step step_;
  EspStatus status_;
  EspStatus verdict_;  // what an HTTP exchange ends with once its link is closed
  uint8_t tries_;
  bool dialect2_;      // 2.x names (no _CUR suffix), from AT+GMR's version line at each sync
  bool wifiUp_;
  bool keepBody_;
  bool already_;       // CIPSTART said ALREADY CONNECTED
  bool linkOpen_;      // the last exchange's link is still open (no CLOSED, reset or Wi-Fi loss since)
  bool reuse_;         // this exchange is on that link
  bool linkDone_;      // passive: the link closed while the module still held data for us
  bool resend_;        // the module said busy: send the step's command again when wait_ is over
  bool lineCut_;
  uint8_t resets_;
  uint8_t id_;
  uint8_t lineLen_;
  uint8_t rxHead_, rxLen_;
  uint8_t httpPhase_;
  uint16_t bodyLeft_;      // reply body bytes still to come, from its Content-Length
  uint16_t waiting_;       // passive: bytes the module said it holds for our link
  uint16_t got_;           // passive: bytes the last AT+CIPRECVDATA delivered
  uint8_t asked_;          // passive: bytes it asked for
  uint16_t ipdLeft_;       // payload bytes still to come in the current +IPD
  uint16_t rxOverflow_;
  int httpStatus_;
  unsigned long since_;  // the current step's start
  unsigned long httpSince_;  // the current HTTP exchange's start
  uint16_t wait_;        // and its allowed time, ms
  // The running operation's arguments; the PGM_P ones point into flash.
  struct JoinArgs { const char* ssid; const char* pass; };
  struct HttpArgs { const char* host; const char* port; const char* path; const Printable* body; };
  struct UartArgs { uint32_t baud; bool persist; };
  union Args {
    JoinArgs join;
    HttpArgs http;
    UartArgs uart;
  } args_;
  PGM_P bearer_;
  char line_[ESPAT_LINE_MAX];
  char rx_[ESPAT_RX_MAX];
};
