// The back-off policy (firmware/src/reporter/backoff.cpp) on its own: each argument is one event, `f` a failure,
// `f:MS` a failure whose answer said Retry-After MS, `d` a delivered reading, `s:N` a new seed, `r` a reset (the
// level kept, as the reading queue keeps it, and taken back by a new Backoff); each failure prints its pause in ms,
// one per line. test_backoff.py reads them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"

int main(int argc, char** argv) {
  Backoff b;
  b.seed(1);
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == 'd') {
      b.delivered();
    } else if (argv[i][0] == 'r') {
      uint8_t kept = b.level();
      b = Backoff();
      b.seed(2);
      b.restore(kept);
    } else if (argv[i][0] == 's') {
      b.seed(strtoul(argv[i] + 2, nullptr, 10));
    } else {
      uint32_t after = argv[i][1] == ':' ? strtoul(argv[i] + 2, nullptr, 10) : 0;
      printf("%lu\n", (unsigned long)b.failed(after));
    }
  }
  return 0;
}
