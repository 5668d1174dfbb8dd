/*
 * vsock_echo: the C baseline for vsock echo throughput over vsock loopback (CID 1).
 * One process: an echo server thread (accept, read -> write back, shutdown on EOF),
 * a writer thread sending `bytes` in `chunk`-sized writes, and the main thread reading
 * the echo back until EOF. Prints {"bytes","seconds","mbps","MBps"} as JSON (mbps =
 * megabits/s, MBps = megabytes/s), timed from connect() to the last echoed byte.
 *
 * Usage: vsock_echo <bytes> <chunk> [buffer_size]
 *
 * SAFETY: AF_VSOCK connect is only allowed inside the QEMU test guest (VM-TESTING.md).
 * Without vsock_loopback a connect to CID 1 may be routed to the machine's real
 * hypervisor transport, so we refuse to run unless vsock_loopback is loaded and the
 * local CID is 2 (vhost_vsock only, no guest transport): the test guest's signature.
 *
 * Build: gcc -O2 -pthread -o vsock_echo vsock_echo.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

static size_t g_bytes, g_chunk;
static uint64_t g_bufsize;

static void die(const char *what) {
  printf("{\"error\":\"%s: %s\"}\n", what, strerror(errno));
  exit(1);
}

static void set_buf(int fd) {
  if (!g_bufsize) return;
  setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &g_bufsize, sizeof g_bufsize);
  setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &g_bufsize, sizeof g_bufsize);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static void *echo_server(void *arg) {
  int lfd = *(int *)arg;
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0) die("accept");
  set_buf(fd);
  char *buf = malloc(g_chunk);
  for (;;) {
    ssize_t r = read(fd, buf, g_chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("server read");
    if (r == 0) break;
    if (write_all(fd, buf, (size_t)r) < 0) die("server write");
  }
  shutdown(fd, SHUT_WR);
  close(fd);
  free(buf);
  return NULL;
}

static void *writer(void *arg) {
  int fd = *(int *)arg;
  char *buf = malloc(g_chunk);
  for (size_t i = 0; i < g_chunk; i++) buf[i] = (char)(i * 131 + 7);
  size_t left = g_bytes;
  while (left > 0) {
    size_t n = left < g_chunk ? left : g_chunk;
    if (write_all(fd, buf, n) < 0) die("client write");
    left -= n;
  }
  shutdown(fd, SHUT_WR);
  free(buf);
  return NULL;
}

static int in_test_guest(void) {
  if (access("/sys/module/vsock_loopback", F_OK) != 0) return 0;
  int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  unsigned int cid = 0;
  int rc = ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid);
  close(fd);
  return rc == 0 && cid == VMADDR_CID_HOST;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s <bytes> <chunk> [buffer_size]\n", argv[0]);
    return 2;
  }
  g_bytes = strtoull(argv[1], NULL, 10);
  g_chunk = strtoull(argv[2], NULL, 10);
  g_bufsize = argc > 3 ? strtoull(argv[3], NULL, 10) : 0;
  if (!g_chunk) g_chunk = 65536;
  if (!in_test_guest()) {
    printf("{\"error\":\"refusing to run: not in the QEMU test guest (needs vsock_loopback and local CID 2)\"}\n");
    return 3;
  }

  int lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_LOCAL, .svm_port = VMADDR_PORT_ANY};
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(lfd, 16) < 0) die("listen");
  socklen_t len = sizeof a;
  if (getsockname(lfd, (struct sockaddr *)&a, &len) < 0) die("getsockname");
  pthread_t srv, wr;
  pthread_create(&srv, NULL, echo_server, &lfd);

  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  set_buf(fd);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  struct sockaddr_vm to = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_LOCAL, .svm_port = a.svm_port};
  if (connect(fd, (struct sockaddr *)&to, sizeof to) < 0) die("connect");
  pthread_create(&wr, NULL, writer, &fd);
  char *buf = malloc(g_chunk);
  size_t got = 0;
  for (;;) {
    ssize_t r = read(fd, buf, g_chunk);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("client read");
    if (r == 0) break;
    got += (size_t)r;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  pthread_join(wr, NULL);
  pthread_join(srv, NULL);
  close(fd);
  close(lfd);
  double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  if (got != g_bytes) {
    printf("{\"error\":\"echoed %zu of %zu bytes\"}\n", got, g_bytes);
    return 1;
  }
  printf("{\"bytes\":%zu,\"chunk\":%zu,\"seconds\":%.6f,\"mbps\":%.1f,\"MBps\":%.2f}\n", g_bytes, g_chunk, s,
         (double)g_bytes * 8 / 1e6 / s, (double)g_bytes / 1e6 / s);
  return 0;
}
