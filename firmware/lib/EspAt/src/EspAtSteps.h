// The driver's steps and the module's lines it acts on, each written once: the Step enum, the command table and
// the wait table are all made from ESPAT_STEPS, so they cannot drift apart.
#pragma once
#include "EspAtConfig.h"

// Argument placeholders in the command table below: bytes under ' ' that the driver replaces with the running
// operation's arguments (or with a start that seven commands share). Named, and concatenated as separate
// literals, so a hex digit after one never changes it.
#define ESPAT_ARG_ID "\x01"      // the link id, 0..4
#define ESPAT_ARG_HOST "\x02"
#define ESPAT_ARG_PORT "\x03"
#define ESPAT_ARG_CUR "\x04"     // "_CUR" in 1.x, nothing in 2.x
#define ESPAT_ARG_UART "\x05"    // "+UART_CUR=<baud>,8,1,0,0" or _DEF: written by the code startUart links
#define ESPAT_AT_CIP "\x06"      // "AT+CIP", the start of seven commands: kept once, not in each of them
#define ESPAT_ARG_SSID "\x07"    // escaped (the table quotes it)
#define ESPAT_ARG_PASS "\x08"
#define ESPAT_ARG_LENGTH "\x09"  // the data's exact length
#define ESPAT_ARG_ASKED "\x0a"   // how much one CIPRECVDATA asks for
#define ESPAT_ARG_PROTO "\x0b"   // "TCP" or "UDP"
#define ESPAT_ARG_LOCAL "\x0c"   // UDP: ",<local port>,0"; TCP: nothing

#if ESPAT_CLIENTS
#define ESPAT_IF_CLIENTS(text) text
#define ESPAT_START_PROTO ESPAT_ARG_PROTO
#else
#define ESPAT_IF_CLIENTS(text) ""
#define ESPAT_START_PROTO "TCP"  // exchanges are TCP
#endif

// Every step of every operation: its name, the command it sends on entry ("" sends nothing), and how long it waits
// for the answer, in 100 ms. The waits are what the module needs with margin: a join can take 15 s, a reset
// prints `ready` within a few seconds, a connect may wait for DNS; everything else answers within a second or two.
#define ESPAT_STEPS(X)                                                                               \
  X(Idle, "", 0)                                                                                     \
  X(At, "AT", 10)                                                                                    \
  X(AtDrain, "", 3)    /* after repeated ATs: their late OKs */                                      \
  X(Echo, "ATE0", 5)                                                                                 \
  X(Gmr, "AT+GMR", 10) /* the firmware's version decides 1.x or 2.x names */                         \
  X(Mux, ESPAT_AT_CIP "MUX=1", 10)                                                                   \
  X(RecvMode, ESPAT_IF_CLIENTS(ESPAT_AT_CIP "RECVMODE=1"), 10)                                       \
  X(Rst, "AT+RST", 80)                                                                               \
  X(PinLow, "", 1)     /* the reset pin held low */                                                  \
  X(Boot, "", 80)      /* released: waiting for `ready` */                                           \
  X(Mode, "AT+CWMODE" ESPAT_ARG_CUR "=1", 10)                                                        \
  X(Jap, "AT+CWJAP" ESPAT_ARG_CUR "=\"" ESPAT_ARG_SSID "\",\"" ESPAT_ARG_PASS "\"", 200)             \
  X(Uart, ESPAT_IF_CLIENTS("AT" ESPAT_ARG_UART), 10)                                                 \
  X(Status, ESPAT_AT_CIP "STATUS", 20)                                                               \
  X(JapQuery, "AT+CWJAP" ESPAT_ARG_CUR "?", 20)                                                      \
  X(Start, ESPAT_AT_CIP "START=" ESPAT_ARG_ID ",\"" ESPAT_START_PROTO "\",\"" ESPAT_ARG_HOST "\","   \
             ESPAT_ARG_PORT ESPAT_IF_CLIENTS(ESPAT_ARG_LOCAL), 100)                                  \
  X(Send, ESPAT_AT_CIP "SEND=" ESPAT_ARG_ID "," ESPAT_ARG_LENGTH, 20)                                \
  X(SendOk, "", 50)                                                                                  \
  X(Reply, "", 100)    /* setReplyMs(), else this; extended while answer bytes arrive */             \
  X(Close, ESPAT_AT_CIP "CLOSE=" ESPAT_ARG_ID, 20)                                                   \
  X(Recv, ESPAT_IF_CLIENTS(ESPAT_AT_CIP "RECVDATA=" ESPAT_ARG_ID "," ESPAT_ARG_ASKED), 20)

// The lines the driver acts on, in the order of their kind numbers. The first six give Reply::Ok .. Reply::Busy.
// A "<id>," in front (CIPMUX=1) names the link.
#define ESPAT_LINES(X)                                                                                       \
  X(Ok, "OK") X(Error, "ERROR") X(Fail, "FAIL") X(SendOk, "SEND OK") X(SendFail, "SEND FAIL")             \
  X(Busy, "busy p...") X(BusySending, "busy s...") X(Closed, "CLOSED") X(ConnectFail, "CONNECT FAIL")     \
  X(Connect, ESPAT_IF_CLIENTS("CONNECT")) X(Already, "ALREADY CONNECTED") X(GotIp, "WIFI GOT IP")                           \
  X(Disconnect, "WIFI DISCONNECT") X(Booted, "ready")
