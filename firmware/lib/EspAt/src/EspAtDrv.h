// EspAtDrv: the one part of the library that speaks AT. A non-blocking driver for an ESP8266 running Espressif's AT
// firmware (1.7.x or 2.x, told apart by AT+GMR at each sync), over any Stream, with AT+CIPMUX=1 and its five links.
// One operation is in flight at a time; poll() reads whatever bytes have arrived, handles unsolicited lines wherever
// they fall (+IPD, N,CONNECT, N,CLOSED, WIFI ..., ready, busy), hands each link's payload to that link's sink, and
// moves the operation on when the module answers or its bound passes. No String, no heap, no knob that changes the
// object's layout: a sketch and the library can never disagree on it.
//
// The facades (EspAtClient, EspAtUDP, the HTTP helpers) sit on top and never parse AT; the reporter drives this
// class directly, without blocking.
#pragma once

#include <Arduino.h>

#include "EspAtByteCounter.h"
#include "EspAtConfig.h"
#include "EspAtStr.h"
#include "EspAtSteps.h"

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
  NoReply,        // an exchange's link closed (or its bound passed) before any answer arrived
};

// Where a link's received bytes go (a Client's buffer, an HTTP reply parser). With passive receive the driver
// never fetches more than room(); in active mode (+IPD) the bytes come when the module sends them, and a sink
// without room must drop and count them (a UDP datagram larger than the buffer is cut, as UDP allows).
class EspAtSink {
 public:
#if ESPAT_CLIENTS
  virtual uint16_t room() { return 64; }  // passive receive asks for at most this many bytes at a time
  // A frame of `len` bytes begins (+IPD or +CIPRECVDATA): for UDP, one datagram.
  virtual void frame(uint16_t len) { (void)len; }
#endif
  // One payload byte; true when it completes the answer an exchange waits for (the exchange then ends, the link
  // staying open).
  virtual bool put(uint8_t c) = 0;
};

class EspAtDrv {
 public:
  static const uint8_t kLinks = 5;  // the module's link ids 0..4
  static const uint8_t kLineMax = 24;  // longest line kept for parsing; longer ones are cut and ignored

  // Make it a global: static storage starts zeroed, which is the idle state, so the constructor stores the port
  // and nothing else, and the object sits in .bss.
  // The constructor also names the layout tag of EspAtConfig.h: a sketch built with other knobs than the library
  // does not link.
  explicit EspAtDrv(Stream& port) : port_(port) { __asm__ volatile("" : : "r"(&ESPAT_LAYOUT_TAG)); }

  // Reads and handles everything that has arrived; moves the current operation on. Call it often.
  void poll();

  // Settings, before the first sync.
#if ESPAT_CLIENTS
  // Passive receive (AT+CIPRECVMODE=1, sent at each sync): the module keeps what a TCP server sends until a sink
  // has room and the driver fetches it with AT+CIPRECVDATA, so a sketch that is busy, or a reply that arrives
  // while the board is transmitting, loses nothing. Off: data comes as +IPD, straight into the link's sink.
  // (Inline, so a sketch that never turns it on links none of its code.)
  void setPassiveReceive(bool on) { receive_ = on ? &passiveStep : nullptr; }
#endif
  // An Uno pin wired to the module's RST (or CH_PD): startReset(true) pulls it low 100 ms, then lets it go (input:
  // the module's pull-up raises it; the Uno never drives 5 V into it). -1: none.
  // (Inline, so a sketch without one links no pin code.)
  void setResetPin(int8_t pin) {
    resetPin_ = pin;
    pulse_ = pin >= 0 ? &pulseResetPin : nullptr;
  }
  // How long an exchange waits for the first byte of its answer, and for each further byte, in ms (default 10 s).
  void setReplyMs(uint16_t ms) { replyMs_ = ms; }

  // Operations: each returns false (status() unchanged) while another is in flight.
  bool startSync();  // AT until answered, ATE0, AT+GMR, AT+CIPMUX=1 (+ CIPRECVMODE); Wi-Fi counts as down after it
  // AT+RST, or with `hardware` and a reset pin a pulse on it; then wait for `ready` and go on as startSync().
  bool startReset(bool hardware = false);
  bool startJoin(EspStr ssid, EspStr pass);     // station mode, then join (1.7 _CUR names, 2.x plain names)
  // AT+CIPSTATUS: station() and linkOpen() from its answer (the module's view, whatever lines were missed).
  bool startStatus();
  // AT+CWJAP? (AT+CWJAP_CUR? on 1.x): wifiUp() becomes whether the station is joined now.
  bool startWifiQuery();
#if ESPAT_CLIENTS
  bool startUart(uint32_t baud, bool persist);  // AT+UART_CUR / _DEF; the answer comes at the old rate
  // Opens link `id` (0..4) to host:port over TCP.
  bool startConnect(uint8_t id, EspStr host, uint16_t port);
  // Opens link `id` as UDP with host:port its fixed peer, from localPort (0: the module chooses).
  bool startUdp(uint8_t id, EspStr host, uint16_t port, uint16_t localPort);
  // Sends what `data` prints on link `id`, `length` bytes (AT+CIPSEND=<id>,<length>; the caller knows it: a buffer's
  // fill, or what it counted), printed to the module at the prompt. `data` must live until done.
  bool startSend(uint8_t id, const Printable& data, uint16_t length);
  bool startClose(uint8_t id);
  // Passive receive: fetch what the module holds for link `id` into its sink, as much as the sink has room for.
  bool startReceive(uint8_t id);
#endif
  // One request/answer on link `id`: CIPSTART (unless the link is still open from the last exchange), the
  // request as startSend (printed twice, counted and then sent: it must print the same both times and live until
  // done), then the answer into `reply` until the server closes, `reply` says it is complete
  // (the link then stays open for the next exchange; ESPAT_CLIENTS=1 only), or the answer stops coming
  // (setReplyMs; the link is then closed). Ends Ok when any answer arrived, NoReply when none did.
  bool startExchange(uint8_t id, EspStr host, uint16_t port, const Printable& request, EspAtSink& reply);

  bool busy() const { return job_ != Job::None; }
  EspStatus status() const { return status_; }

#if ESPAT_CLIENTS
  // Each link's sink (nullptr: its payload is counted in rxDropped() and dropped).
  void setSink(uint8_t id, EspAtSink* sink) { sinks_[id] = sink; }
  EspAtSink* sink(uint8_t id) const { return sinks_[id]; }
  bool dataWaiting(uint8_t id) const { return waiting_ & bitOf(id); }  // passive: the module holds bytes for it
  // The module's port, for a blocking caller that waits for it to fall quiet before a command.
  Stream& port() const { return port_; }
#endif
  // What the driver knows of the module, from its answers and unsolicited lines.
  bool wifiUp() const { return wifiUp_; }
  uint8_t station() const { return station_; }    // STATUS:<n> of the last CIPSTATUS (0: not asked yet)
  uint8_t resets() const { return resets_; }      // `ready` lines seen (wraps)
  bool dialect2() const { return dialect2_; }     // the module runs AT 2.x
  // Whether link `id` is open: followed line by line with ESPAT_CLIENTS=1; without, as the last AT+CIPSTATUS said.
  bool linkOpen(uint8_t id) const { return open_ & bitOf(id); }
  uint8_t openLinks() const { return open_; }  // bit `id` set: link `id` is open
#if ESPAT_CLIENTS
  uint16_t rxDropped() const { return rxDropped_; }  // payload bytes for a link without a sink
#endif

 private:
  enum class Job : uint8_t { None, Sync, Reset, Join, Uart, Status, WifiQuery, Connect, Udp, Send, Close, Receive,
                             Exchange };  // Connect: TCP, Udp: UDP (the same steps)
#define ESPAT_STEP_NAME(name, command, wait) name,
  enum class Step : uint8_t { ESPAT_STEPS(ESPAT_STEP_NAME) Count };
#undef ESPAT_STEP_NAME
  // The first six in the order of ESPAT_LINES (checked in EspAtLines.cpp).
  enum class Reply : uint8_t { None, Ok, Error, Fail, SendOk, SendFail, Busy, Closed, Prompt, Receive, Done, Data,
                               Notice, Head,  // these two: for passiveStep only
                               Tick, Byte };                  // these two: for exchangeStep only

  // 1 << id. With the link table (ESPAT_CLIENTS=1) out of line: a shift by a variable is a loop on the AVR, and
  // the link table makes many. Declared const (its answer depends on `id` alone), so gcc asks once where a
  // function asks twice for the same link's bit.
#if ESPAT_CLIENTS
  __attribute__((const)) static uint8_t bitOf(uint8_t id);
#else
  static uint8_t bitOf(uint8_t id) { return 1 << id; }
#endif
  bool begin(Job job, Step first);
  bool beginLink(Job job, Step first, uint8_t id);
  void go(Step step);
  void enter(Step step);
  void writeCommand(PGM_P cmd);
  void writeArg(uint8_t c);
  void writeText(EspStr s, bool escaped);
  void put(char c);
  void advance(Reply reply);
  void advanceLink(Reply reply);
  void finish(EspStatus status);
  // The optional parts, each linked only when a sketch uses it (installed by the start function or setting that
  // needs it): the reset pin (above), passive receive (EspAtPassive.cpp), the answers of the queries and the
  // arguments of UDP, UART and passive commands (EspAtQueries.cpp).
  static void pulseResetPin(uint8_t pin, bool low);
  static void statusLine(EspAtDrv& d);
  static void wifiLine(EspAtDrv& d);
  // An exchange's own rules (EspAtExchange.cpp): its answer step, its whole bound (Tick, from poll()), a byte of
  // its answer (Byte). Linked only into a sketch that starts exchanges.
  static void exchangeStep(EspAtDrv& d, Reply r);
#if ESPAT_CLIENTS
  // (Always inlined: its callers' own optimisation options (ESPAT_NO_TAIL_CALLS) kept gcc from inlining it, and
  // the wrapper and its four calls were 8 B more in WebClient and MqttPublish than the calls through the pointer.)
  __attribute__((always_inline)) void onExchange(Reply r) { exchange_(*this, r); }
#else
  void onExchange(Reply r) { exchangeStep(*this, r); }  // the exchange-only driver: always there
#endif
#if ESPAT_CLIENTS
  static void uartArg(EspAtDrv& d, uint8_t c);
  static void localArg(EspAtDrv& d, uint8_t c);
#endif
#if ESPAT_CLIENTS
  static void passiveStep(EspAtDrv& d, Reply r);
  static void passiveHead(EspAtDrv& d, Reply r);
#endif

  void closeWith(EspStatus verdict);
  // The line reader (EspAtLines.cpp).
  bool readByte();
  void handleByte(char c);
  void handleLine();
  // The link table, followed line by line with ESPAT_CLIENTS=1 (the exchange-only driver needs none).
#if ESPAT_CLIENTS
  void linkLost(uint8_t mask) { open_ &= ~mask; }
  void linkGained(uint8_t id) { open_ |= bitOf(id); }
#else
  void linkLost(uint8_t) {}
  void linkGained(uint8_t) {}
#endif
  uint8_t lineKind(uint8_t& id) const;
  // Whether line_ is at least `min` bytes long and starts with the `n` flash bytes of `text`.
  bool lineStarts(PGM_P text, uint8_t n, uint8_t min) const;
  static const uint16_t kNoNumber = 0xFFFF;  // lastNumber's answer for no number (it refuses any past 65529)
  uint16_t lastNumber(uint8_t from) const;
  bool framePayload(uint8_t from, uint8_t link);
  void payloadByte(char c);

  // The fields the reader and the steps touch on every byte or answer come first: on the AVR a field within 64
  // bytes of the object's start is one 2-byte instruction away, a field past it costs two or three more.
  Stream& port_;
  Job job_;
  Step step_;
  EspStatus status_;
  uint8_t tries_;
  bool resend_;        // the module said busy: send the step's command again when wait_ is over
  bool lineCut_;
  bool answered_;      // an exchange's answer has begun
  uint8_t id_;         // the link of the operation in flight
  uint8_t ipdLink_;    // the link the current +IPD payload belongs to
  uint8_t open_;       // bit per link: open (CONNECT or our CIPSTART, no CLOSED since)
  uint8_t lineLen_;
  uint8_t heard_;      // when a byte last came (ms, low 8 bits): a payload's bytes come without a pause
  uint16_t ipdLeft_;   // payload bytes still to come in the current +IPD or +CIPRECVDATA
  uint16_t since_;               // the current step's start (ms, low 16 bits: every step wait is under 65 s)
  uint16_t wait_;                // the current step's allowed time, ms
#if ESPAT_CLIENTS
  uint8_t waiting_;    // bit per link: passive notice seen, not yet read empty
  uint16_t got_;       // passive: bytes the last AT+CIPRECVDATA delivered
  uint16_t asked_;     // passive: bytes it asked for
  uint16_t rxDropped_;
  EspAtSink* sinks_[kLinks];
  void (*receive_)(EspAtDrv&, Reply);      // passiveStep, once passive receive is on
  void (*exchange_)(EspAtDrv&, Reply);     // exchangeStep, once an exchange was started
#endif
  void (*queries_)(EspAtDrv&);             // statusLine or wifiLine, once that query was started
  // What a send prints (an argument of the running operation, but read by three steps: within 64 bytes).
  const Printable* data_;
  EspStatus verdict_;  // what an exchange ends with once its link is closed
  uint8_t readies_;  // `ready` lines heard during the current operation: a module rebooting in a loop
  bool dialect2_;      // 2.x names (no _CUR suffix), from AT+GMR's version line at each sync
  bool wifiUp_;
  bool already_;       // CIPSTART said ALREADY CONNECTED
  bool reuse_;         // this exchange is on a link the last one left open (keep-alive, ESPAT_CLIENTS)
  bool linkDone_;      // passive: the link closed while the module still held data for us
  uint8_t resetPin_;   // the reset pin, when pulse_ is set
  uint8_t resets_;
  uint8_t station_;
  uint16_t replyMs_;
  uint16_t remotePort_;
  uint16_t exchangeSince_;       // the current exchange's start, in 256 ms (ESPAT_EXCHANGE_MAX_MS < 4.6 h)
  // The bytes the send announces in AT+CIPSEND (paid in spaces if its prompt never came): set when the operation
  // starts (startSend's caller knows it; an exchange counts its request).
  uint16_t owed_;
  // The running operation's arguments.
  EspStr host_;  // also a join's ssid
  EspStr pass_;
  EspAtSink* reply_;   // the exchange's sink
  void (*pulse_)(uint8_t pin, bool low);   // pulseResetPin, once a reset pin is set
  void (*args_)(EspAtDrv&, uint8_t);       // uartArg or localArg, once such an operation was started
#if ESPAT_CLIENTS
  uint32_t baud_;
  bool persist_;
  uint16_t localPort_;
#endif
  char line_[kLineMax];
};
