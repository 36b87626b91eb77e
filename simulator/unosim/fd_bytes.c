/* Bytes through a file descriptor: all of them out (a pipe or socket that cannot take them ends the run), or as
   many in as a queue has room for (and no more than asked), without waiting. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uno.h"

void write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            fprintf(stderr, "uno_harness: write failed: %s\n", strerror(errno));
            exit(3);
        }
        p += w;
        n -= (size_t)w;
    }
}

size_t read_at_most(int fd, queue_t *q, int *open_flag, size_t most) {
    uint8_t buf[256];
    size_t total = 0;
    while (!queue_full(q) && total < most) {
        size_t room = (q->tail + QUEUE_SIZE - q->head - 1) % QUEUE_SIZE;
        if (room > most - total) room = most - total;
        ssize_t n = read(fd, buf, room < sizeof buf ? room : sizeof buf);
        if (n > 0) {
            for (ssize_t i = 0; i < n; i++) queue_put(q, buf[i]);
            total += (size_t)n;
            continue;
        }
        if (n == 0) *open_flag = 0;
        break;                          /* EAGAIN: nothing more now */
    }
    return total;
}

void read_into(int fd, queue_t *q, int *open_flag) { read_at_most(fd, q, open_flag, SIZE_MAX); }
