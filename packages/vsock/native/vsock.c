/*
 * AF_VSOCK for Node: the few syscalls libuv has no handle for.
 *
 * Node's pipe handle can carry a *connected* vsock fd as a full stream, but it
 * cannot bind/listen/accept/connect on AF_VSOCK (it only knows AF_UNIX
 * addresses). So this addon owns exactly that part: socket, bind, listen,
 * accept, non-blocking connect, address queries, the local CID and buffer
 * size. Readiness is watched with uv_poll_t on Node's own libuv loop: no
 * thread per socket, no busy polling.
 *
 * Every fd is created non-blocking and close-on-exec. Errors are thrown (or
 * passed to callbacks) as Error objects carrying `code` (e.g. "EADDRNOTAVAIL"),
 * `errno` (positive, as the kernel reported it) and `syscall`; the TypeScript
 * layer turns them into typed errors with guidance.
 */
#define _GNU_SOURCE /* accept4 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
/* linux/vm_sockets.h needs sa_family_t/sockaddr from sys/socket.h first. */
#include <linux/vm_sockets.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* ---------------------------------------------------------------- helpers */

/* Build `Error(message)` with code/errno/syscall. `err` is a positive errno. */
static napi_value make_errno_error(napi_env env, int err, const char *syscall) {
  const char *code = uv_err_name(-err); /* libuv names Linux errnos like Node does */
  napi_value code_v, msg_v, error, errno_v, sys_v;
  char msg[256];
  snprintf(msg, sizeof msg, "%s %s (%s)", syscall, code, strerror(err));
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_v);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &msg_v);
  napi_create_error(env, code_v, msg_v, &error);
  napi_create_int32(env, err, &errno_v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys_v);
  napi_set_named_property(env, error, "errno", errno_v);
  napi_set_named_property(env, error, "syscall", sys_v);
  return error;
}

static napi_value throw_errno(napi_env env, int err, const char *syscall) {
  napi_throw(env, make_errno_error(env, err, syscall));
  return NULL;
}

/* Invalid arguments are programming errors: TypeError with code EINVAL so the
 * TS layer can still classify them. */
static napi_value throw_arg(napi_env env, const char *what) {
  napi_throw_type_error(env, "EINVAL", what);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
  for (size_t i = argc; i < want; i++) napi_get_undefined(env, &argv[i]);
  return (int)argc;
}

/* A non-negative int32 fd. */
static int arg_fd(napi_env env, napi_value v, int *out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) return -1;
  int32_t fd;
  if (napi_get_value_int32(env, v, &fd) != napi_ok || fd < 0) return -1;
  double d;
  napi_get_value_double(env, v, &d);
  if (d != (double)fd) return -1;
  *out = fd;
  return 0;
}

/* An unsigned 32-bit value given as an integer in [-1, 2^32-1]; -1 means 0xFFFFFFFF
 * (VMADDR_CID_ANY / VMADDR_PORT_ANY), as vsock users conventionally write it. */
static int arg_u32(napi_env env, napi_value v, uint32_t *out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) return -1;
  double d;
  napi_get_value_double(env, v, &d);
  if (d != d || d < -1 || d > 4294967295.0 || d != (double)(int64_t)d) return -1;
  *out = d == -1 ? 0xFFFFFFFFu : (uint32_t)(int64_t)d;
  return 0;
}

static napi_value make_u32(napi_env env, uint32_t v) {
  napi_value r;
  napi_create_uint32(env, v, &r);
  return r;
}

static napi_value make_addr(napi_env env, const struct sockaddr_vm *a) {
  napi_value o;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "cid", make_u32(env, a->svm_cid));
  napi_set_named_property(env, o, "port", make_u32(env, a->svm_port));
  return o;
}

static void fill_addr(struct sockaddr_vm *a, uint32_t cid, uint32_t port) {
  memset(a, 0, sizeof *a);
  a->svm_family = AF_VSOCK;
  a->svm_cid = cid;
  a->svm_port = port;
}

/* ----------------------------------------------------------- plain syscalls */

/* socket() -> fd: AF_VSOCK stream socket, non-blocking, close-on-exec. */
static napi_value js_socket(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  napi_value r;
  napi_create_int32(env, fd, &r);
  return r;
}

/* bind(fd, cid, port) */
static napi_value js_bind(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  uint32_t cid, port;
  if (get_args(env, info, 3, argv) < 0) return NULL;
  if (arg_fd(env, argv[0], &fd)) return throw_arg(env, "bind: fd must be a non-negative integer");
  if (arg_u32(env, argv[1], &cid)) return throw_arg(env, "bind: cid must be an integer in [-1, 2^32-1]");
  if (arg_u32(env, argv[2], &port)) return throw_arg(env, "bind: port must be an integer in [-1, 2^32-1]");
  struct sockaddr_vm a;
  fill_addr(&a, cid, port);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) return throw_errno(env, errno, "bind");
  return NULL;
}

/* listen(fd, backlog) */
static napi_value js_listen(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  int32_t backlog;
  if (get_args(env, info, 2, argv) < 0) return NULL;
  if (arg_fd(env, argv[0], &fd)) return throw_arg(env, "listen: fd must be a non-negative integer");
  if (napi_get_value_int32(env, argv[1], &backlog) != napi_ok || backlog < 0)
    return throw_arg(env, "listen: backlog must be a non-negative integer");
  if (listen(fd, backlog) < 0) return throw_errno(env, errno, "listen");
  return NULL;
}

static napi_value name_query(napi_env env, napi_callback_info info, int peer) {
  napi_value argv[1];
  int fd;
  if (get_args(env, info, 1, argv) < 0) return NULL;
  if (arg_fd(env, argv[0], &fd)) return throw_arg(env, "fd must be a non-negative integer");
  struct sockaddr_vm a;
  socklen_t len = sizeof a;
  memset(&a, 0, sizeof a);
  int rc = peer ? getpeername(fd, (struct sockaddr *)&a, &len) : getsockname(fd, (struct sockaddr *)&a, &len);
  if (rc < 0) return throw_errno(env, errno, peer ? "getpeername" : "getsockname");
  if (a.svm_family != AF_VSOCK) return throw_errno(env, EAFNOSUPPORT, peer ? "getpeername" : "getsockname");
  return make_addr(env, &a);
}

/* getsockname(fd) -> { cid, port } */
static napi_value js_getsockname(napi_env env, napi_callback_info info) { return name_query(env, info, 0); }
/* getpeername(fd) -> { cid, port } */
static napi_value js_getpeername(napi_env env, napi_callback_info info) { return name_query(env, info, 1); }

/* getLocalCid() -> number: this machine's CID, from the vsock core driver. */
static napi_value js_get_local_cid(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, errno, "open /dev/vsock");
  unsigned int cid = 0;
  int rc = ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid);
  int err = errno;
  close(fd);
  if (rc < 0) return throw_errno(env, err, "ioctl IOCTL_VM_SOCKETS_GET_LOCAL_CID");
  return make_u32(env, cid);
}

/* getBufferSize(fd) -> number (SO_VM_SOCKETS_BUFFER_SIZE, bytes) */
static napi_value js_get_buffer_size(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (get_args(env, info, 1, argv) < 0) return NULL;
  if (arg_fd(env, argv[0], &fd)) return throw_arg(env, "getBufferSize: fd must be a non-negative integer");
  uint64_t v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &v, &len) < 0)
    return throw_errno(env, errno, "getsockopt SO_VM_SOCKETS_BUFFER_SIZE");
  napi_value r;
  napi_create_double(env, (double)v, &r);
  return r;
}

/* setBufferSize(fd, bytes): SO_VM_SOCKETS_BUFFER_SIZE, raising BUFFER_MAX_SIZE if needed. */
static napi_value js_set_buffer_size(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  double d;
  if (get_args(env, info, 2, argv) < 0) return NULL;
  if (arg_fd(env, argv[0], &fd)) return throw_arg(env, "setBufferSize: fd must be a non-negative integer");
  if (napi_get_value_double(env, argv[1], &d) != napi_ok || d != d || d < 0 || d > 9007199254740991.0 ||
      d != (double)(uint64_t)d)
    return throw_arg(env, "setBufferSize: size must be a non-negative integer");
  uint64_t v = (uint64_t)d;
  /* The kernel clamps SIZE to MAX (default 256 KiB): raise MAX first when asked for more. */
  uint64_t max = 0;
  socklen_t len = sizeof max;
  if (getsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &max, &len) == 0 && v > max &&
      setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &v, sizeof v) < 0)
    return throw_errno(env, errno, "setsockopt SO_VM_SOCKETS_BUFFER_MAX_SIZE");
  if (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &v, sizeof v) < 0)
    return throw_errno(env, errno, "setsockopt SO_VM_SOCKETS_BUFFER_SIZE");
  return NULL;
}

/* shutdown(fd, how) with how 0=read 1=write 2=both */
static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  int32_t how;
  if (get_args(env, info, 2, argv) < 0) return NULL;
  if (arg_fd(env, argv[0], &fd)) return throw_arg(env, "shutdown: fd must be a non-negative integer");
  if (napi_get_value_int32(env, argv[1], &how) != napi_ok || how < 0 || how > 2)
    return throw_arg(env, "shutdown: how must be 0 (read), 1 (write) or 2 (both)");
  if (shutdown(fd, how) < 0) return throw_errno(env, errno, "shutdown");
  return NULL;
}

/* close(fd). EINTR still closes the fd on Linux, so it is not retried. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (get_args(env, info, 1, argv) < 0) return NULL;
  if (arg_fd(env, argv[0], &fd)) return throw_arg(env, "close: fd must be a non-negative integer");
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, errno, "close");
  return NULL;
}

/* socketpair() -> [fd, fd]: AF_UNIX stream pair. Only for testing the stream
 * adapter on machines where no vsock peer may be used. */
static napi_value js_socketpair(napi_env env, napi_callback_info info) {
  (void)info;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
    return throw_errno(env, errno, "socketpair");
  napi_value arr, a, b;
  napi_create_array_with_length(env, 2, &arr);
  napi_create_int32(env, sv[0], &a);
  napi_create_int32(env, sv[1], &b);
  napi_set_element(env, arr, 0, a);
  napi_set_element(env, arr, 1, b);
  return arr;
}

/* ------------------------------------------------------------- poll watches
 *
 * A Watch is one uv_poll_t on an fd plus a JS callback. Two kinds:
 *  - accept: readable -> accept4 until EAGAIN, cb(null, fd, cid, port) per
 *    connection; cb(err) on a hard error (the watch then stops, so a
 *    persistent EMFILE cannot spin the loop; JS decides when to resume).
 *  - connect: writable (or error) once -> SO_ERROR -> cb(err|null), then the
 *    watch closes itself.
 * The Watch does not own the fd: closing the fd is the caller's job, after
 * closing the watch (epoll must forget the fd before it is reused). Only when
 * the env tears down with the watch still open (a worker exits) does the
 * cleanup hook close the fd, as nobody else is left to.
 *
 * Lifetime: the uv_poll_t is allocated on its own and closed with libc's
 * free() as close callback, never a function of this library: when a worker
 * thread exits, Node unloads the addon *before* the loop runs the pending
 * close callbacks, and a callback into the unloaded .so would crash. The
 * watch struct itself is freed once its poll is closed and the JS External
 * naming it has been finalised, whichever comes last.
 */
enum watch_kind { WATCH_ACCEPT, WATCH_CONNECT };

typedef struct watch {
  uv_poll_t *poll; /* freed by libuv's close (see above) */
  napi_env env;
  napi_ref cb;
  napi_async_context async;
  enum watch_kind kind;
  int fd;
  int active;       /* uv_poll_start'ed */
  int closing;      /* uv_close requested */
  int closed;       /* poll handle handed to uv_close */
  int external_gone;
  int in_callback;
  int claimed; /* JS took the fd of the accept being delivered */
} watch_t;

static void watch_free_if_done(watch_t *w) {
  if (w->closed && w->external_gone && !w->in_callback) free(w);
}

/* Close the poll handle with libc's free() as callback. uv_close_cb takes a
 * uv_handle_t*, free a void*: the same calling convention on every platform
 * Node runs on. After this no poll callback can reach w. */
static void watch_close_poll(watch_t *w) {
  uv_poll_stop(w->poll);
  w->poll->data = NULL;
  uv_close((uv_handle_t *)w->poll, (uv_close_cb)(void (*)(void))free);
  w->poll = NULL;
  w->active = 0;
  w->closed = 1;
}

static void watch_cleanup_hook(void *arg);

/* Stop watching and close the uv handle. This drops the fd from epoll at once
 * (libuv's uv__platform_invalidate_fd), so it must happen before anyone else
 * (a Pipe handle) starts watching the same fd. Idempotent. */
static void watch_close_uv(watch_t *w) {
  if (w->closing) return;
  w->closing = 1;
  napi_remove_env_cleanup_hook(w->env, watch_cleanup_hook, w);
  watch_close_poll(w);
}

/* Drop the JS callback and async context. */
static void watch_release_js(watch_t *w) {
  if (w->cb) {
    napi_delete_reference(w->env, w->cb);
    w->cb = NULL;
  }
  if (w->async) {
    napi_async_destroy(w->env, w->async);
    w->async = NULL;
  }
}

static void watch_close(watch_t *w) {
  watch_close_uv(w);
  /* Inside the callback the async context is still in use: watch_call
   * releases it when the callback returns. */
  if (!w->in_callback) watch_release_js(w);
}

/* The env is going away (process or worker exit): close our handle so the
 * loop can be closed cleanly. The fd goes too: the listening or connecting
 * socket belonged to JS in this env, which can no longer close it. Left open,
 * a listener would keep its port bound and leave peers queued in its backlog
 * hanging. */
static void watch_cleanup_hook(void *arg) {
  watch_t *w = (watch_t *)arg;
  if (w->closing) return;
  w->closing = 1;
  /* References and async contexts die with the env; only the uv handle is ours. */
  w->cb = NULL;
  w->async = NULL;
  watch_close_poll(w);
  close(w->fd);
}

static void watch_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  watch_t *w = (watch_t *)data;
  w->external_gone = 1;
  /* Dropped without close(): nobody can reach the callback any more. */
  if (!w->closing) watch_close(w);
  watch_free_if_done(w);
}

/* Call the JS callback inside a proper async context, so promise jobs run
 * after it and a throw becomes an 'uncaughtException' like any Node callback. */
/* Returns the callback's result, or NULL when it could not run or threw. */
static napi_value watch_call(watch_t *w, size_t argc, napi_value *argv) {
  napi_env env = w->env;
  napi_value cb, recv, result = NULL;
  if (!w->cb || napi_get_reference_value(env, w->cb, &cb) != napi_ok || cb == NULL) return NULL;
  /* napi_make_callback converts recv ToObject: undefined would throw. */
  napi_get_global(env, &recv);
  w->in_callback++;
  napi_status st = napi_make_callback(env, w->async, recv, cb, argc, argv, &result);
  w->in_callback--;
  if (st != napi_ok) {
    bool pending = false;
    napi_value exc;
    napi_is_exception_pending(env, &pending);
    if (pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
    result = NULL;
  }
  if (w->closing && !w->in_callback) watch_release_js(w);
  return result;
}

static void watch_on_accept(watch_t *w, int status) {
  napi_env env = w->env;
  if (status < 0) {
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    uv_poll_stop(w->poll);
    w->active = 0;
    napi_value argv[1] = {make_errno_error(env, -status, "poll")};
    watch_call(w, 1, argv);
    napi_close_handle_scope(env, scope);
    return;
  }
  /* Level-triggered: drain the queue now, one callback per connection. */
  while (w->active && !w->closing) {
    struct sockaddr_vm a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    int fd = accept4(w->fd, (struct sockaddr *)&a, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue; /* that peer gave up; next */
      napi_handle_scope scope;
      napi_open_handle_scope(env, &scope);
      /* EMFILE, ENFILE, ENOBUFS, EBADF...: stop watching so we don't spin on a
       * readable fd we cannot accept from. JS reports and resumes later. */
      uv_poll_stop(w->poll);
      w->active = 0;
      napi_value argv[1] = {make_errno_error(env, err, "accept")};
      watch_call(w, 1, argv);
      napi_close_handle_scope(env, scope);
      break;
    }
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value argv[4];
    napi_get_null(env, &argv[0]);
    napi_create_int32(env, fd, &argv[1]);
    argv[2] = make_u32(env, a.svm_cid);
    argv[3] = make_u32(env, a.svm_port);
    /* JS calls watchClaim() first thing, taking responsibility for the fd
     * (wrap it or close it). If it never did (no callback any more, the env is
     * terminating so JS could not run), the fd is still ours: close it, or the
     * peer would wait forever on a connection nobody holds. Never both: a
     * double close could hit an fd number already reused elsewhere. */
    w->claimed = 0;
    if (w->cb) watch_call(w, 4, argv);
    if (!w->claimed) close(fd);
    napi_close_handle_scope(env, scope);
  }
}

static void watch_on_connect(watch_t *w, int status) {
  napi_env env = w->env;
  int err = 0;
  socklen_t len = sizeof err;
  /* SO_ERROR is the truth about the connect; the poll status (UV_EBADF on
   * POLLERR) only says "something happened". */
  if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err == 0 && status < 0) err = -status;
  if (err == EINPROGRESS || err == EALREADY) return; /* spurious wake-up: keep waiting */
  /* Close the poll before JS sees the result: JS will hand the fd to a
   * Pipe handle, and libuv must not have two watchers on one fd. */
  watch_close_uv(w);
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[1];
  if (err) argv[0] = make_errno_error(env, err, "connect");
  else napi_get_null(env, &argv[0]);
  watch_call(w, 1, argv);
  napi_close_handle_scope(env, scope); /* watch_call released the JS side: one-shot */
}

static void watch_on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  watch_t *w = (watch_t *)h->data;
  if (w == NULL || w->closing) return;
  if (w->kind == WATCH_ACCEPT) watch_on_accept(w, status);
  else watch_on_connect(w, status);
}

static napi_value watch_create(napi_env env, int fd, napi_value cb, enum watch_kind kind, const char *name) {
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_errno(env, EINVAL, "napi_get_uv_event_loop");
  watch_t *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, ENOMEM, name);
  w->env = env;
  w->kind = kind;
  w->fd = fd;
  w->poll = calloc(1, sizeof *w->poll);
  if (!w->poll) {
    free(w);
    return throw_errno(env, ENOMEM, name);
  }
  int rc = uv_poll_init_socket(loop, w->poll, fd);
  if (rc < 0) {
    free(w->poll);
    free(w);
    return throw_errno(env, -rc, "uv_poll_init");
  }
  w->poll->data = w;
  napi_value res_name, external;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &res_name);
  if (napi_create_reference(env, cb, 1, &w->cb) != napi_ok ||
      napi_async_init(env, NULL, res_name, &w->async) != napi_ok ||
      napi_create_external(env, w, watch_finalize, NULL, &external) != napi_ok) {
    /* Unwind without the External: mark it gone so close frees the struct. */
    w->external_gone = 1;
    watch_close(w);
    watch_free_if_done(w);
    return NULL;
  }
  napi_add_env_cleanup_hook(env, watch_cleanup_hook, w);
  rc = uv_poll_start(w->poll, kind == WATCH_ACCEPT ? UV_READABLE : UV_WRITABLE, watch_on_poll);
  if (rc < 0) {
    watch_close(w);
    return throw_errno(env, -rc, "uv_poll_start");
  }
  w->active = 1;
  return external;
}

static int arg_function(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_function ? 0 : -1;
}

/* watchAccept(fd, cb) -> watch. The fd must already be listening.
 * cb(null, fd, cid, port) must call watchClaim(watch) before anything else
 * and then own the fd; unclaimed fds are closed by the addon. cb(err)
 * reports a stopped watch. */
static napi_value js_watch_accept(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  if (get_args(env, info, 2, argv) < 0) return NULL;
  if (arg_fd(env, argv[0], &fd)) return throw_arg(env, "watchAccept: fd must be a non-negative integer");
  if (arg_function(env, argv[1])) return throw_arg(env, "watchAccept: callback must be a function");
  return watch_create(env, fd, argv[1], WATCH_ACCEPT, "VsockAccept");
}

/* connect(fd, cid, port, cb) -> null when connected at once, else a watch
 * whose cb(err|null) fires once when the connect completes. Immediate
 * failures throw. */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int fd;
  uint32_t cid, port;
  if (get_args(env, info, 4, argv) < 0) return NULL;
  if (arg_fd(env, argv[0], &fd)) return throw_arg(env, "connect: fd must be a non-negative integer");
  if (arg_u32(env, argv[1], &cid)) return throw_arg(env, "connect: cid must be an integer in [-1, 2^32-1]");
  if (arg_u32(env, argv[2], &port)) return throw_arg(env, "connect: port must be an integer in [-1, 2^32-1]");
  if (arg_function(env, argv[3])) return throw_arg(env, "connect: callback must be a function");
  struct sockaddr_vm a;
  fill_addr(&a, cid, port);
  int rc;
  do rc = connect(fd, (struct sockaddr *)&a, sizeof a);
  while (rc < 0 && errno == EINTR);
  if (rc == 0) {
    napi_value n;
    napi_get_null(env, &n);
    return n;
  }
  if (errno != EINPROGRESS) return throw_errno(env, errno, "connect");
  return watch_create(env, fd, argv[3], WATCH_CONNECT, "VsockConnect");
}

static watch_t *arg_watch(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_external) return NULL;
  void *p = NULL;
  napi_get_value_external(env, v, &p);
  return (watch_t *)p;
}

/* watchClose(watch): stop and release; safe to call twice or after a
 * connect watch closed itself. */
static napi_value js_watch_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv) < 0) return NULL;
  watch_t *w = arg_watch(env, argv[0]);
  if (!w) return throw_arg(env, "watchClose: expected a watch");
  watch_close(w);
  return NULL;
}

/* watchResume(watch): restart an accept watch stopped by an error. */
static napi_value js_watch_resume(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv) < 0) return NULL;
  watch_t *w = arg_watch(env, argv[0]);
  if (!w) return throw_arg(env, "watchResume: expected a watch");
  if (w->closing || w->active) return NULL;
  int rc = uv_poll_start(w->poll, w->kind == WATCH_ACCEPT ? UV_READABLE : UV_WRITABLE, watch_on_poll);
  if (rc < 0) return throw_errno(env, -rc, "uv_poll_start");
  w->active = 1;
  return NULL;
}

/* watchClaim(watch): the JS accept callback takes the fd being delivered. */
static napi_value js_watch_claim(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv) < 0) return NULL;
  watch_t *w = arg_watch(env, argv[0]);
  if (!w) return throw_arg(env, "watchClaim: expected a watch");
  w->claimed = 1;
  return NULL;
}

/* watchRef(watch, bool): whether this watch keeps the event loop alive
 * (net.Server#ref/unref). */
static napi_value js_watch_ref(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool on;
  if (get_args(env, info, 2, argv) < 0) return NULL;
  watch_t *w = arg_watch(env, argv[0]);
  if (!w) return throw_arg(env, "watchRef: expected a watch");
  if (napi_get_value_bool(env, argv[1], &on) != napi_ok) return throw_arg(env, "watchRef: expected a boolean");
  if (w->closing) return NULL;
  if (on) uv_ref((uv_handle_t *)w->poll);
  else uv_unref((uv_handle_t *)w->poll);
  return NULL;
}

/* ------------------------------------------------------------------ module */

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
#define FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}
      FN("socket", js_socket),
      FN("bind", js_bind),
      FN("listen", js_listen),
      FN("getsockname", js_getsockname),
      FN("getpeername", js_getpeername),
      FN("getLocalCid", js_get_local_cid),
      FN("getBufferSize", js_get_buffer_size),
      FN("setBufferSize", js_set_buffer_size),
      FN("shutdown", js_shutdown),
      FN("close", js_close),
      FN("socketpair", js_socketpair),
      FN("watchAccept", js_watch_accept),
      FN("connect", js_connect),
      FN("watchClose", js_watch_close),
      FN("watchResume", js_watch_resume),
      FN("watchRef", js_watch_ref),
      FN("watchClaim", js_watch_claim),
#undef FN
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
