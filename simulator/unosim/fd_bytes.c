/* Bytes through a file descriptor: all of them out (a pipe or socket that cannot take them ends the run), or as
   many in as a queue has room for, without waiting. */
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

void read_into(int fd, queue_t *q, int *open_flag) {
    uint8_t buf[256];
    while (!queue_full(q)) {
        size_t room = (q->tail + QUEUE_SIZE - q->head - 1) % QUEUE_SIZE;
        ssize_t n = read(fd, buf, room < sizeof buf ? room : sizeof buf);
        if (n > 0) {
            for (ssize_t i = 0; i < n; i++) queue_put(q, buf[i]);
            continue;
        }
        if (n == 0) *open_flag = 0;
        return;                         /* EAGAIN: nothing more now */
    }
}
