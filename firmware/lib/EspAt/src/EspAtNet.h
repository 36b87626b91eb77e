// The Arduino core's networking classes as the library's headers use them: Client.h, Udp.h and IPAddress.h, and
// an address written as the text AT+CIPSTART takes.
//
// The AVR core's IPAddress.h defines `const IPAddress INADDR_NONE(0,0,0,0);` in the header itself: a separate
// object in every source file that includes it, each with a start-up constructor that stores IPAddress's virtual
// table, and that table keeps IPAddress::printTo linked -- about 200 B of flash and 18 B of RAM in a sketch that
// never uses either. Included through here (first), that line declares a function no one calls instead, and
// INADDR_NONE is 0.0.0.0 made where a sketch uses it, the same value as the core's.
#pragma once
#ifndef IPAddress_h
#define INADDR_NONE(a, b, c, d) espat_inaddr_none_is_a_macro()
#include <IPAddress.h>
#undef INADDR_NONE
#define INADDR_NONE IPAddress(0, 0, 0, 0)
#endif
#include <Client.h>
#include <Udp.h>

namespace espat {
// "a.b.c.d" into `text` (16 bytes at least), read byte by byte: no Print, so IPAddress::printTo stays out.
void ipText(const IPAddress& ip, char* text);
}  // namespace espat
