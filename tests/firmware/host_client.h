// A Client over a real TCP socket of the host, for running the library's Client users (EspAtMqtt) natively
// against real servers (mosquitto). IPv4 dotted quads only: the tests reach nothing but 127.0.0.1.
#pragma once
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "Client.h"

class HostClient : public Client {
 public:
  int connect(IPAddress ip, uint16_t port) override {
    char host[16];
    snprintf(host, sizeof host, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
    return connect(host, port);
  }
  int connect(const char* host, uint16_t port) override {
    stop();
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) return 0;
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0 || ::connect(fd_, (sockaddr*)&addr, sizeof addr) != 0) {
      stop();
      return 0;
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
    peerClosed_ = false;
    return 1;
  }
  size_t write(uint8_t c) override { return write(&c, 1); }
  size_t write(const uint8_t* buf, size_t n) override {
    for (size_t done = 0; done < n;) {
      if (fd_ < 0) return done;
      ssize_t w = ::send(fd_, buf + done, n - done, MSG_NOSIGNAL);
      if (w > 0) {
        done += (size_t)w;
      } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
        pollfd p = {fd_, POLLOUT, 0};
        ::poll(&p, 1, 100);
      } else {
        peerClosed_ = true;
        return done;
      }
    }
    return n;
  }
  using Print::write;
  int available() override {
    pull();
    return (int)(len_ - pos_);
  }
  int read() override { return available() ? buf_[pos_++] : -1; }
  int read(uint8_t* buf, size_t n) override {
    size_t got = 0;
    while (got < n && available()) buf[got++] = buf_[pos_++];
    return got ? (int)got : -1;
  }
  int peek() override { return available() ? buf_[pos_] : -1; }
  void flush() override {}
  void stop() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    pos_ = len_ = 0;
  }
  uint8_t connected() override {
    pull();
    return fd_ >= 0 && (!peerClosed_ || pos_ < len_);
  }
  operator bool() override { return fd_ >= 0; }

 private:
  void pull() {
    if (fd_ < 0 || peerClosed_ || pos_ < len_) return;
    ssize_t n = ::recv(fd_, buf_, sizeof buf_, 0);
    if (n > 0) {
      pos_ = 0;
      len_ = (size_t)n;
    } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      peerClosed_ = true;
    }
  }
  int fd_ = -1;
  bool peerClosed_ = false;
  uint8_t buf_[256];
  size_t pos_ = 0, len_ = 0;
};
