// EspAt: a non-blocking driver for an ESP8266 running Espressif's AT firmware (1.7.x, and 2.x names), over any
// Stream. One operation at a time is in flight; poll() reads whatever bytes have arrived, handles unsolicited lines
// wherever they fall (+IPD, N,CONNECT, N,CLOSED, WIFI ..., ready, busy), and moves the operation on when the
// module answers or its timeout passes. No String, no heap: every buffer is fixed and sized by the macros below.
#pragma once

#include <Arduino.h>

// Longest line kept for parsing; longer lines are cut (nothing we act on is that long).
#ifndef ESPAT_LINE_MAX
#define ESPAT_LINE_MAX 20
#endif
// 1: a status-only exchange (keepBody false) leaves its link open when the server allows it (HTTP/1.1 keep-alive)
// and the next one on the same link id reuses it: no CIPSTART, CONNECT or CLOSED per request, about 100 fewer bytes
// on the wire each. It reads the answer's Content-Length to know where the answer ends, for about 400 B of flash.
#ifndef ESPAT_KEEP_ALIVE
#define ESPAT_KEEP_ALIVE 0
#endif
// Define ESPAT_DEBUG as a Print (-DESPAT_DEBUG=Serial) to trace the module's lines and the driver's steps on it;
// undefined, the driver prints nothing and the tracing compiles to nothing.
// 1: sync also turns on passive receive (AT+CIPRECVMODE=1; ignored where the firmware lacks it): the module keeps
// what the server sends until the driver asks for it with AT+CIPRECVDATA, never more than read() has room for, so
// a slow sketch cannot overrun the serial port's 64-byte buffer. Costs flash and a command per chunk; not combined
// with ESPAT_KEEP_ALIVE (a kept link waits for its answer's end in active mode only).
#ifndef ESPAT_PASSIVE_RX
#define ESPAT_PASSIVE_RX 0
#endif
// Received payload bytes kept for read(); more are counted in rxOverflow(), never written.
#ifndef ESPAT_RX_MAX
#define ESPAT_RX_MAX 16
#endif

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
  bool startSync();                       // AT until answered, ATE0, CIPMUX=1; Wi-Fi counts as down after it
  bool startReset();                      // AT+RST, wait for `ready`, then as startSync()
  bool startJoin(PGM_P ssid, PGM_P pass); // station mode, join (1.7 _CUR names, 2.x plain names)
  bool startUart(uint32_t baud, bool persist);  // AT+UART_CUR / _DEF; the answer comes at the old rate
  // One HTTP/1.1 exchange on link `id`: CIPSTART (unless ESPAT_KEEP_ALIVE kept the link), CIPSEND of the exact
  // length, the request, the status line of the reply. body == nullptr sends a GET; otherwise a POST of bodyLen bytes as JSON.
  // With keepBody, reply bytes after the status line go to read(); otherwise they are drained and dropped.
  bool startHttp(uint8_t id, PGM_P host, PGM_P port, PGM_P path, const char* body, uint16_t bodyLen,
                 bool keepBody);

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
  enum class Step : uint8_t {
    Idle, At, Echo, Mux, Rst, Mode, Jap, Uart, Start, Send, SendOk, Reply, Close, RecvMode, Recv,
  };
  // The first six in the order of the line table in EspAt.cpp.
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
  bool dialect2_;      // 2.x names (no _CUR suffix), learnt when a 1.7 name is refused
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
  uint16_t wait_;        // and its allowed time, ms
  // The running operation's arguments; the PGM_P ones point into flash.
  struct JoinArgs { const char* ssid; const char* pass; };
  struct HttpArgs { const char* host; const char* port; const char* path; const char* body; uint16_t len; };
  struct UartArgs { uint32_t baud; bool persist; };
  union Args {
    JoinArgs join;
    HttpArgs http;
    UartArgs uart;
  } args_;
  char line_[ESPAT_LINE_MAX];
  char rx_[ESPAT_RX_MAX];
};
