// A Stream whose received bytes wait in a 64-byte ring filled from an interrupt (received()), as the Arduino
// core's serial ports keep them; the ports built on it add begin() and write().
#pragma once
#include <Arduino.h>

class EspAtRxStream : public Stream {
 public:
  int available() override { return (uint8_t)(head_ - tail_) & kMask; }
  int peek() override {
    uint8_t t = tail_;  // read once (it is volatile)
    return head_ == t ? -1 : buf_[t];
  }
  int read() override {
    int c = EspAtRxStream::peek();  // one copy of the look (the interrupt moves only head_)
    if (c >= 0) tail_ = (tail_ + 1) & kMask;
    return c;
  }
  // From the interrupt: a byte that finds the ring full is lost, as with the core's ports.
  void received(uint8_t c) {
    uint8_t h = head_;  // read once (it is volatile): only this interrupt moves it
    uint8_t next = (h + 1) & kMask;
    if (next != tail_) {
      buf_[h] = c;
      head_ = next;
    }
  }

 private:
  friend struct EspAtRxRing;  // where an interrupt written in assembly finds the ring (EspAtUartPort.h)
  static const uint8_t kSize = 64, kMask = kSize - 1;  // holds kSize - 1 bytes
  // The indexes before the ring: within the 63 bytes an AVR instruction reaches from the object's address (after
  // the ring, each look at them took an address computed first: 16 B of flash).
  volatile uint8_t head_, tail_;
  uint8_t buf_[kSize];
};
