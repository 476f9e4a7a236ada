// berth's few system calls that Node has no API for, so that the hot paths of a container's life
// need no child process: mount(2) and umount2(2) for a container's overlay root (the `mount` and
// `umount` programs each cost a fork of the whole Node process and their own start-up, 5-15 ms a
// call), a container's new network namespace (unshare(2) and a bind mount, as `unshare
// --net=PATH` does, on the way to every bridge start's netavark), and a client of conmon's attach
// socket, which is SOCK_SEQPACKET (libuv opens only stream and datagram sockets; berth bridged it
// through a perl child), a program run for its output without forking Node (posix_spawn: no
// copy of the whole process's page tables, 2-4 ms of Node's main thread a child), and a
// container's published host ports bound (Node's net.Server
// loads its cluster and dns modules and compiles its IPv6 pattern for a listen on an address),
// and SHA-256/512 digests without loading node:crypto.
//
// N-API only (no V8 or libuv ABI beyond uv_poll, which N-API hands out the loop for; OpenSSL's
// digest functions are looked up at run time), so one build serves every Node of the same N-API
// version. Built from source by scripts/build-native.mjs;
// src/util/native.ts loads it and falls back to the programs where it is missing.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define CHECK(env, call)                                                                            \
  do {                                                                                              \
    if ((call) != napi_ok) {                                                                        \
      napi_throw_error((env), NULL, "berth-native: " #call " failed");                              \
      return NULL;                                                                                  \
    }                                                                                               \
  } while (0)

/** A copy of a JS string argument (NULL for null/undefined), to be freed by the caller. */
static char *string_arg(napi_env env, napi_value value) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type == napi_null || type == napi_undefined) return NULL;
  size_t len;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (s == NULL) return NULL;
  napi_get_value_string_utf8(env, value, s, len + 1, &len);
  return s;
}

/** An Error with `code` set to the errno's name (as Node's own: ENOENT, EBUSY...) and `errno`. */
static napi_value errno_error(napi_env env, int err, const char *syscall) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", syscall, strerror(err));
  napi_value msg, error, code, num;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  const char *name = strerrorname_np(err);
  napi_create_string_utf8(env, name ? name : "EIO", NAPI_AUTO_LENGTH, &code);
  napi_set_named_property(env, error, "code", code);
  napi_create_int32(env, err, &num);
  napi_set_named_property(env, error, "errno", num);
  napi_value sc;
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sc);
  napi_set_named_property(env, error, "syscall", sc);
  return error;
}

// ---- mount, umount and a new network namespace, on the thread pool (an unmount syncs the upper fs) ----

enum mount_kind { DO_MOUNT, DO_UMOUNT, DO_NETNS };

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  enum mount_kind kind;
  char *source, *target, *fstype, *data;
  unsigned long flags;
  int err;
  const char *failed;
} mount_job;

/**
 * Runs on a thread of its own, made for this and ended after: the network namespace it enters
 * is pinned at the target by a bind mount, and leaves with the thread. The thread pool's threads
 * (where getaddrinfo and file calls run) never change namespace.
 */
static void *netns_thread(void *arg) {
  mount_job *job = arg;
  if (unshare(CLONE_NEWNET) != 0) {
    job->err = errno;
    job->failed = "unshare";
  } else if (mount("/proc/thread-self/ns/net", job->target, "none", MS_BIND, NULL) != 0) {
    job->err = errno;
    job->failed = "mount";
  }
  return NULL;
}

static void mount_execute(napi_env env, void *arg) {
  (void)env;
  mount_job *job = arg;
  if (job->kind == DO_NETNS) {
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, netns_thread, job);
    if (rc != 0) {
      job->err = rc;
      job->failed = "pthread_create";
    } else {
      pthread_join(thread, NULL);
    }
    return;
  }
  int rc = job->kind == DO_UMOUNT ? umount2(job->target, (int)job->flags) : mount(job->source, job->target, job->fstype, job->flags, job->data);
  job->err = rc == 0 ? 0 : errno;
  job->failed = job->kind == DO_UMOUNT ? "umount2" : "mount";
}

static void mount_complete(napi_env env, napi_status status, void *arg) {
  mount_job *job = arg;
  if (status == napi_ok && job->err == 0) {
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    napi_resolve_deferred(env, job->deferred, undefined);
  } else {
    napi_reject_deferred(env, job->deferred, errno_error(env, job->err ? job->err : EIO, job->failed ? job->failed : "mount"));
  }
  napi_delete_async_work(env, job->work);
  free(job->source);
  free(job->target);
  free(job->fstype);
  free(job->data);
  free(job);
}

static napi_value queue_mount_job(napi_env env, mount_job *job, const char *name) {
  napi_value promise, resource_name;
  CHECK(env, napi_create_promise(env, &job->deferred, &promise));
  CHECK(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name));
  CHECK(env, napi_create_async_work(env, NULL, resource_name, mount_execute, mount_complete, job, &job->work));
  CHECK(env, napi_queue_async_work(env, job->work));
  return promise;
}

/** mount(source, target, fstype, flags, data): a promise of the call's end. */
static napi_value js_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "mount(source, target, fstype, flags, data)");
    return NULL;
  }
  mount_job *job = calloc(1, sizeof *job);
  if (job == NULL) return NULL;
  job->source = string_arg(env, argv[0]);
  job->target = string_arg(env, argv[1]);
  job->fstype = string_arg(env, argv[2]);
  double flags = 0;
  napi_get_value_double(env, argv[3], &flags);
  job->flags = (unsigned long)flags;
  job->data = string_arg(env, argv[4]);
  if (job->target == NULL) {
    free(job->source);
    free(job->fstype);
    free(job->data);
    free(job);
    napi_throw_type_error(env, NULL, "mount: the target must be a string");
    return NULL;
  }
  return queue_mount_job(env, job, "berth.mount");
}

/**
 * The calls that take a target and an optional number, `call(target[, flags])`: a job of `kind`
 * queued on the thread pool, or a TypeError when the target is not a string.
 */
static napi_value queue_target_job(napi_env env, napi_callback_info info, enum mount_kind kind, const char *name) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  mount_job *job = calloc(1, sizeof *job);
  if (job == NULL) return NULL;
  job->kind = kind;
  job->target = argc > 0 ? string_arg(env, argv[0]) : NULL;
  int32_t flags = 0;
  if (argc > 1) napi_get_value_int32(env, argv[1], &flags);
  job->flags = (unsigned long)flags;
  if (job->target == NULL) {
    free(job);
    char message[64];
    snprintf(message, sizeof message, "%s: the target must be a string", name);
    napi_throw_type_error(env, NULL, message);
    return NULL;
  }
  char resource[64];
  snprintf(resource, sizeof resource, "berth.%s", name);
  return queue_mount_job(env, job, resource);
}

/** umount(target, flags): a promise of the call's end. */
static napi_value js_umount(napi_env env, napi_callback_info info) {
  return queue_target_job(env, info, DO_UMOUNT, "umount");
}

/** netns(target): a new, empty network namespace pinned at target (an existing file) by a bind mount. */
static napi_value js_netns(napi_env env, napi_callback_info info) {
  return queue_target_job(env, info, DO_NETNS, "netns");
}

// ---- a SOCK_SEQPACKET client, polled on Node's own loop ----

#define PACKET_MAX 65536

typedef struct {
  napi_env env;
  napi_ref self;       // held while the socket is open, so that polling keeps the object alive
  napi_ref on_packet;  // (data: Buffer | null, errno: number) => void; null data: the end (errno 0) or an error
  napi_ref on_writable;
  napi_async_context context;
  uv_poll_t poll;
  int fd;
  int events;
  int reading;
  int closed;
} seqpacket;

static void seqpacket_call(seqpacket *s, napi_ref fn_ref, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value fn, recv;
  if (napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == NULL) return;
  napi_get_reference_value(env, s->self, &recv);
  // make_callback, not call_function: the microtasks the callback queues run after it, as for any
  // I/O callback of Node's own.
  napi_value result;
  if (napi_make_callback(env, s->context, recv, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value exception;
    napi_get_and_clear_last_exception(env, &exception);
    napi_fatal_exception(env, exception);
  }
}

static void seqpacket_update_poll(seqpacket *s);

static void seqpacket_on_poll(uv_poll_t *handle, int status, int events) {
  seqpacket *s = handle->data;
  if (s->closed) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  if (status < 0) {
    // The loop's own error (EBADF and the like): the end of the socket as far as we can tell.
    s->reading = 0;
    seqpacket_update_poll(s);
    napi_value argv[2];
    napi_get_null(env, &argv[0]);
    napi_create_int32(env, -status, &argv[1]);
    seqpacket_call(s, s->on_packet, 2, argv);
    napi_close_handle_scope(env, scope);
    return;
  }
  if ((events & UV_WRITABLE) && !s->closed) {
    s->events &= ~UV_WRITABLE;
    seqpacket_update_poll(s);
    seqpacket_call(s, s->on_writable, 0, NULL);
  }
  if ((events & (UV_READABLE | UV_DISCONNECT)) && s->reading && !s->closed) {
    static char buf[PACKET_MAX];
    // A few packets per wake-up, then back to the loop so that one busy container cannot starve it.
    for (int i = 0; i < 16 && s->reading && !s->closed; i++) {
      ssize_t n = recv(s->fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && errno == EINTR) continue;
      napi_value argv[2];
      if (n <= 0) {
        int err = n < 0 ? errno : 0;
        s->reading = 0;
        seqpacket_update_poll(s);
        napi_get_null(env, &argv[0]);
        napi_create_int32(env, err, &argv[1]);
      } else {
        napi_create_buffer_copy(env, (size_t)n, buf, NULL, &argv[0]);
        napi_create_int32(env, 0, &argv[1]);
      }
      seqpacket_call(s, s->on_packet, 2, argv);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void seqpacket_update_poll(seqpacket *s) {
  if (s->closed) return;
  int events = (s->reading ? UV_READABLE | UV_DISCONNECT : 0) | (s->events & UV_WRITABLE);
  if (events == 0) uv_poll_stop(&s->poll);
  else uv_poll_start(&s->poll, events, seqpacket_on_poll);
}

static void seqpacket_closed(uv_handle_t *handle) {
  seqpacket *s = handle->data;
  close(s->fd);
  s->fd = -1;
  napi_env env = s->env;
  napi_delete_reference(env, s->on_packet);
  napi_delete_reference(env, s->on_writable);
  napi_async_destroy(env, s->context);
  // The object may be collected now; its finalizer frees the struct.
  napi_reference_unref(env, s->self, NULL);
}

static void seqpacket_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  seqpacket *s = data;
  napi_delete_reference(env, s->self);
  free(s);
}

static seqpacket *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || data == NULL) {
    napi_throw_error(env, NULL, "berth-native: not a seqpacket socket");
    return NULL;
  }
  return data;
}

/**
 * Connects to the SOCK_SEQPACKET socket at dir/name. The socket is reached through
 * /proc/self/fd/N/name so that a path longer than sun_path's 108 bytes still connects. Returns the
 * socket's fd, or throws the connect's errno (ENOENT and ECONNREFUSED while the server is not up).
 */
static int seqpacket_connect(napi_env env, const char *dir, const char *name) {
  int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) {
    napi_throw(env, errno_error(env, errno, "open"));
    return -1;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  int len = snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd, name);
  if (len < 0 || (size_t)len >= sizeof addr.sun_path) {
    close(dirfd);
    napi_throw(env, errno_error(env, ENAMETOOLONG, "connect"));
    return -1;
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    int err = errno;
    close(dirfd);
    napi_throw(env, errno_error(env, err, "socket"));
    return -1;
  }
  int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
  int err = errno;
  close(dirfd);
  // A Unix socket's connect completes at once or fails; EAGAIN is a full backlog.
  if (rc < 0) {
    close(fd);
    napi_throw(env, errno_error(env, err, "connect"));
    return -1;
  }
  return fd;
}

/** new SeqpacketSocket(dir, name, onPacket, onWritable): connected and reading at once. */
static napi_value seqpacket_new(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], self;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "new SeqpacketSocket(dir, name, onPacket, onWritable)");
    return NULL;
  }
  char *dir = string_arg(env, argv[0]);
  char *name = string_arg(env, argv[1]);
  if (dir == NULL || name == NULL) {
    free(dir);
    free(name);
    napi_throw_type_error(env, NULL, "SeqpacketSocket: dir and name must be strings");
    return NULL;
  }
  int fd = seqpacket_connect(env, dir, name);
  free(dir);
  free(name);
  if (fd < 0) return NULL;
  uv_loop_t *loop;
  seqpacket *s = calloc(1, sizeof *s);
  if (s == NULL || napi_get_uv_event_loop(env, &loop) != napi_ok) {
    close(fd);
    free(s);
    napi_throw_error(env, NULL, "berth-native: out of memory");
    return NULL;
  }
  s->env = env;
  s->fd = fd;
  s->reading = 1;
  int rc = uv_poll_init(loop, &s->poll, fd);
  if (rc < 0) {
    close(fd);
    free(s);
    napi_throw(env, errno_error(env, -rc, "uv_poll_init"));
    return NULL;
  }
  s->poll.data = s;
  napi_value resource_name;
  napi_create_string_utf8(env, "berth.SeqpacketSocket", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, self, resource_name, &s->context);
  napi_create_reference(env, argv[2], 1, &s->on_packet);
  napi_create_reference(env, argv[3], 1, &s->on_writable);
  napi_wrap(env, self, s, seqpacket_finalize, NULL, &s->self);
  napi_reference_ref(env, s->self, NULL);
  seqpacket_update_poll(s);
  return self;
}

/** send(data): the bytes sent (one packet, all of it), or -errno (-EAGAIN when the socket is full). */
static napi_value seqpacket_send(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  seqpacket *s = unwrap(env, info, &argc, argv);
  if (s == NULL) return NULL;
  void *data;
  size_t len;
  if (argc < 1 || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "send(buffer)");
    return NULL;
  }
  ssize_t n;
  if (s->closed) n = -EBADF;
  else {
    do n = send(s->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) n = -errno;
  }
  napi_create_double(env, (double)n, &result);
  return result;
}

/** The socket behind `this` while it is open; NULL once closed (or with the exception of a bad `this`). */
static seqpacket *open_socket(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  seqpacket *s = unwrap(env, info, &argc, NULL);
  return s != NULL && !s->closed ? s : NULL;
}

/** awaitWritable(): onWritable is called once the socket takes a packet again. */
static napi_value seqpacket_await_writable(napi_env env, napi_callback_info info) {
  seqpacket *s = open_socket(env, info);
  if (s != NULL) {
    s->events |= UV_WRITABLE;
    seqpacket_update_poll(s);
  }
  return NULL;
}

/** shutdownWrite(): the end of what we send (the container's stdin closes). */
static napi_value seqpacket_shutdown_write(napi_env env, napi_callback_info info) {
  seqpacket *s = open_socket(env, info);
  if (s != NULL) shutdown(s->fd, SHUT_WR);
  return NULL;
}

/** close(): no more callbacks; the fd is closed once the loop lets go of it. */
static napi_value seqpacket_close(napi_env env, napi_callback_info info) {
  seqpacket *s = open_socket(env, info);
  if (s != NULL) {
    s->closed = 1;
    uv_close((uv_handle_t *)&s->poll, seqpacket_closed);
  }
  return NULL;
}

/**
 * A promise, settled by `complete` on Node's thread once `body` has run `job` on a thread of its
 * own (detached) and handed it back through the threadsafe function made here, which keeps Node's
 * loop alive until then, as a child process does. `free_job` frees it where no thread starts.
 */
static napi_value start_job_thread(napi_env env, const char *name, napi_deferred *deferred, napi_threadsafe_function *tsfn,
                                   napi_threadsafe_function_call_js complete, void *(*body)(void *), void *job, void (*free_job)(void *)) {
  napi_value promise, resource;
  CHECK(env, napi_create_promise(env, deferred, &promise));
  CHECK(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource));
  CHECK(env, napi_create_threadsafe_function(env, NULL, NULL, resource, 0, 1, NULL, NULL, NULL, complete, tsfn));
  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  int rc = pthread_create(&thread, &attr, body, job);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    napi_release_threadsafe_function(*tsfn, napi_tsfn_release);
    napi_reject_deferred(env, *deferred, errno_error(env, rc, "pthread_create"));
    free_job(job);
  }
  return promise;
}

// ---- a program run for its output: posix_spawn, its pipes read and its exit reaped on a thread ----

extern char **environ;

typedef struct {
  char *data;
  size_t len, cap;
} out_buffer;

/** A child to start: the program (looked up in PATH without a slash), its argv, its environment (NULL: berth's). */
typedef struct {
  char *file;
  char **args, **envp;
} program;

typedef struct {
  napi_deferred deferred;
  napi_threadsafe_function tsfn;
  program prog;
  size_t max;  // bytes kept of each stream; the rest is read and dropped
  char *input;  // written to the child's stdin (a pipe) when not NULL; /dev/null otherwise
  size_t input_len;
  int until_exit;  // done at the exit and stdout's end: stderr may be held open by a grandchild
  int spawn_err;  // posix_spawn's error: nothing ran
  out_buffer out[2];
  int status;
} run_job;

static void out_append(out_buffer *b, const char *data, size_t len, size_t max) {
  if (b->len >= max) return;
  if (len > max - b->len) len = max - b->len;
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + len) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (grown == NULL) return;
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
}


/** A JS array of strings as a NULL-terminated vector (NULL for null/undefined); *ok = 0 on a bad value. */
static char **string_vector(napi_env env, napi_value value, int *ok) {
  napi_valuetype type;
  *ok = 1;
  if (napi_typeof(env, value, &type) != napi_ok || type == napi_null || type == napi_undefined) return NULL;
  bool is_array = false;
  uint32_t n = 0;
  if (napi_is_array(env, value, &is_array) != napi_ok || !is_array || napi_get_array_length(env, value, &n) != napi_ok) {
    *ok = 0;
    return NULL;
  }
  char **v = calloc(n + 1, sizeof *v);
  if (v == NULL) {
    *ok = 0;
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    if (napi_get_element(env, value, i, &item) != napi_ok || (v[i] = string_arg(env, item)) == NULL) *ok = 0;
  }
  return v;
}

static void free_vector(char **v) {
  if (v == NULL) return;
  for (char **p = v; *p != NULL; p++) free(*p);
  free(v);
}

/** A JS call's (file, argv, env) as a program: 0 when one of them is not what it must be. */
static int program_from_js(napi_env env, const napi_value *argv, program *prog) {
  int ok_args = 0, ok_env = 0;
  prog->file = string_arg(env, argv[0]);
  prog->args = string_vector(env, argv[1], &ok_args);
  prog->envp = string_vector(env, argv[2], &ok_env);
  return prog->file != NULL && prog->args != NULL && ok_args && prog->args[0] != NULL && ok_env;
}

static void program_free(program *prog) {
  free(prog->file);
  free_vector(prog->args);
  free_vector(prog->envp);
}

/**
 * A child's start as Node's children start: every signal's default action (Node ignores SIGPIPE),
 * none blocked, and `flags` besides; made with posix_spawn (glibc's is a vfork: no copy of Node's
 * page tables). glibc's own two internal signals stay ignored; each glibc program sets them up again.
 */
static int program_spawn(const program *prog, const posix_spawn_file_actions_t *actions, short flags, pid_t *pid) {
  sigset_t none, all;
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | flags);
  int rc = posix_spawnp(pid, prog->file, actions, &attr, prog->args, prog->envp != NULL ? prog->envp : environ);
  posix_spawnattr_destroy(&attr);
  return rc;
}

/**
 * One read of a pipe `poll` found ready, into `b` (kept to `max`). At its end, or on an error, the
 * descriptor is closed and taken out of the poll (fd -1). The bytes read; 0 when it ended.
 */
static ssize_t read_polled(struct pollfd *p, out_buffer *b, size_t max) {
  char buf[65536];
  ssize_t n = read(p->fd, buf, sizeof buf);
  if (n > 0) {
    out_append(b, buf, (size_t)n, max);
    return n;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return -1;
  close(p->fd);
  p->fd = -1;
  return 0;
}

/** What a pipe another process keeps open (aardvark-dns, the monitor that stays) holds already, read without waiting. */
static void read_ready(int fd, out_buffer *b, size_t max) {
  char buf[4096];
  struct pollfd p = {fd, POLLIN, 0};
  while (fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out_append(b, buf, (size_t)n, max);
  }
}

/** Settles a job's promise with the array of `values`. */
static void resolve_with_array(napi_env env, napi_deferred deferred, const napi_value *values, uint32_t n) {
  napi_value result;
  napi_create_array_with_length(env, n, &result);
  for (uint32_t i = 0; i < n; i++) napi_set_element(env, result, i, values[i]);
  napi_resolve_deferred(env, deferred, result);
}

/** The job back to Node's thread, which frees it once it has the result: nothing of it is touched after. */
static void hand_back(napi_threadsafe_function tsfn, void *job) {
  napi_call_threadsafe_function(tsfn, job, napi_tsfn_blocking);
  napi_release_threadsafe_function(tsfn, napi_tsfn_release);
}

/**
 * The child started with stdout and stderr to pipes, stdin from a pipe when there is input (its
 * write end non-blocking) and /dev/null otherwise: the read ends and stdin's write end in fds, or
 * the error.
 */
static int run_spawn(run_job *job, pid_t *pid, int fds[3]) {
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, in_pipe[2] = {-1, -1};
  int rc = 0;
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) rc = errno;
  // The write end non-blocking: the thread writes the input as the child takes it, between reads.
  if (rc == 0 && job->input != NULL && (pipe2(in_pipe, O_CLOEXEC) != 0 || fcntl(in_pipe[1], F_SETFL, O_NONBLOCK) != 0)) rc = errno;
  if (rc == 0) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (job->input != NULL) posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    else posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    rc = program_spawn(&job->prog, &actions, 0, pid);
    posix_spawn_file_actions_destroy(&actions);
  }
  if (out_pipe[1] >= 0) close(out_pipe[1]);
  if (err_pipe[1] >= 0) close(err_pipe[1]);
  if (in_pipe[0] >= 0) close(in_pipe[0]);
  if (rc != 0) {
    if (out_pipe[0] >= 0) close(out_pipe[0]);
    if (err_pipe[0] >= 0) close(err_pipe[0]);
    if (in_pipe[1] >= 0) close(in_pipe[1]);
    return rc;
  }
  fds[0] = out_pipe[0];
  fds[1] = err_pipe[0];
  fds[2] = in_pipe[1];
  return 0;
}

/**
 * On a thread of its own: the spawn, then both pipes read until they close (as Node's execFile
 * waits for 'close'), then the exit reaped; then the result back to Node's thread.
 */
static void *run_thread(void *arg) {
  run_job *job = arg;
  pid_t pid;
  int fds[3] = {-1, -1, -1};
  job->spawn_err = run_spawn(job, &pid, fds);
  if (job->spawn_err == 0) {
    // stdout, stderr, stdin's write end, and (until_exit) a pidfd that turns readable at the exit.
    int pidfd = job->until_exit ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
    struct pollfd p[4] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}, {fds[2], POLLOUT, 0}, {pidfd, POLLIN, 0}};
    size_t written = 0;
    int exited = 0;
    struct timespec exit_time = {0, 0};
    for (;;) {
      if (!job->until_exit && p[0].fd < 0 && p[1].fd < 0) break;
      // Without a pidfd (a kernel before 5.3), stdout's end stands for the exit, reaped below.
      if (job->until_exit && pidfd < 0 && p[0].fd < 0) break;
      // Done at the exit and stdout's end; a stdout some grandchild holds is given 2 s more.
      int timeout = -1;
      if (job->until_exit && exited) {
        if (p[0].fd < 0) break;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long spent = (now.tv_sec - exit_time.tv_sec) * 1000 + (now.tv_nsec - exit_time.tv_nsec) / 1000000;
        if (spent >= 2000) break;
        timeout = (int)(2000 - spent);
      }
      int ready = poll(p, 4, timeout);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) break;
      for (int i = 0; i < 2; i++)
        if (p[i].fd >= 0 && p[i].revents != 0) read_polled(&p[i], &job->out[i], job->max);
      if (p[2].fd >= 0 && p[2].revents != 0) {
        ssize_t n = written < job->input_len ? write(p[2].fd, job->input + written, job->input_len - written) : 0;
        if (n > 0) written += (size_t)n;
        // All written, or the child stopped reading (EPIPE: Node ignores SIGPIPE): stdin ends.
        if (written >= job->input_len || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          close(p[2].fd);
          p[2].fd = -1;
        }
      }
      if (p[3].fd >= 0 && p[3].revents != 0) {
        while (waitpid(pid, &job->status, 0) < 0 && errno == EINTR) {
        }
        exited = 1;
        clock_gettime(CLOCK_MONOTONIC, &exit_time);
        close(p[3].fd);
        p[3].fd = -1;
      }
    }
    // What stderr holds already, when it is left open (a grandchild such as aardvark-dns keeps it).
    read_ready(p[1].fd, &job->out[1], job->max);
    for (int i = 0; i < 4; i++)
      if (p[i].fd >= 0) close(p[i].fd);
    // Only this pid: libuv reaps only the children it made itself, so nothing else takes this one.
    while (!exited && waitpid(pid, &job->status, 0) < 0 && errno == EINTR) {
    }
  }
  hand_back(job->tsfn, job);
  return NULL;
}

static void run_free(run_job *job) {
  free(job->input);
  program_free(&job->prog);
  free(job->out[0].data);
  free(job->out[1].data);
  free(job);
}

/** On Node's thread: [exit status or -1, signal number or 0, stdout, stderr], or the spawn's error. */
static void run_complete(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  (void)context;
  run_job *job = data;
  if (env != NULL && job->spawn_err != 0) {
    napi_reject_deferred(env, job->deferred, errno_error(env, job->spawn_err, "spawn"));
  } else if (env != NULL) {
    napi_value v[4];
    napi_create_int32(env, WIFEXITED(job->status) ? WEXITSTATUS(job->status) : -1, &v[0]);
    napi_create_int32(env, WIFSIGNALED(job->status) ? WTERMSIG(job->status) : 0, &v[1]);
    napi_create_buffer_copy(env, job->out[0].len, job->out[0].data ? job->out[0].data : "", NULL, &v[2]);
    napi_create_buffer_copy(env, job->out[1].len, job->out[1].data ? job->out[1].data : "", NULL, &v[3]);
    resolve_with_array(env, job->deferred, v, 4);
  }
  run_free(job);
}

/**
 * run(file, argv, env, maxBytes[, input, untilExit]): a promise of [status, signal, stdout,
 * stderr]. `file` is looked up in PATH when it has no slash; argv includes argv[0]; env is
 * ["K=V", ...] or null for berth's own; `input` (a Buffer) is the child's stdin, /dev/null
 * without; with `untilExit` it is done once the child exited and its stdout ended (netavark's
 * stderr stays open in the aardvark-dns it starts), else once both pipes closed, as execFile.
 * Node's thread only copies the arguments and starts the job's thread. A program that cannot
 * be run rejects with the errno's error (ENOENT...), `syscall` "spawn".
 */
static napi_value js_run(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  run_job *job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_throw_error(env, "ENOMEM", "run: out of memory");
    return NULL;
  }
  double max = 0;
  int ok_program = argc >= 4 && program_from_js(env, argv, &job->prog);
  int ok_input = 1;
  if (argc >= 5) {
    napi_valuetype type;
    bool is_buffer = false;
    napi_typeof(env, argv[4], &type);
    if (type != napi_null && type != napi_undefined) {
      void *data = NULL;
      size_t len = 0;
      if (napi_is_buffer(env, argv[4], &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, argv[4], &data, &len) != napi_ok) ok_input = 0;
      else if ((job->input = malloc(len + 1)) != NULL) {
        memcpy(job->input, data, len);
        job->input_len = len;
      } else ok_input = 0;
    }
  }
  bool until_exit = false;
  if (argc >= 6 && napi_get_value_bool(env, argv[5], &until_exit) != napi_ok) ok_input = 0;
  job->until_exit = until_exit;
  if (!ok_program || !ok_input || napi_get_value_double(env, argv[3], &max) != napi_ok || max < 0) {
    run_free(job);
    napi_throw_type_error(env, NULL, "run(file: string, argv: string[], env: string[] | null, maxBytes: number, input?: Buffer | null, untilExit?: boolean)");
    return NULL;
  }
  job->max = (size_t)max;
  return start_job_thread(env, "berth.run", &job->deferred, &job->tsfn, run_complete, run_thread, job, (void (*)(void *))run_free);
}

// ---- conmon started: posix_spawn into its own session, its sync pipe read on a thread ----

typedef struct {
  napi_deferred deferred;
  napi_threadsafe_function tsfn;
  program prog;
  char *cwd;
  int *keep;  // descriptors the child gets as 4, 5, ...
  uint32_t nkeep;
  int spawn_err;
  pid_t pid;
  out_buffer out[2];  // the sync pipe's report, stderr
} monitor_job;

/** What is kept of conmon's report and stderr: a report is a line of JSON, stderr its reason at most. */
#define MONITOR_OUTPUT_MAX 65536

static void monitor_free(monitor_job *job) {
  program_free(&job->prog);
  free(job->cwd);
  free(job->keep);
  free(job->out[0].data);
  free(job->out[1].data);
  free(job);
}

/**
 * The child's descriptors: 0 and 1 /dev/null, 2 stderr's pipe, 3 the sync pipe, 4... the kept
 * ones. Each source goes first to a number above every source and target, then to its target, so
 * that no dup2 overwrites a source a later one reads.
 */
static int monitor_spawn(monitor_job *job, int err_pipe, int sync_pipe) {
  uint32_t n = 2 + job->nkeep;
  int *src = calloc(n, sizeof *src);
  if (src == NULL) return ENOMEM;
  src[0] = err_pipe;
  src[1] = sync_pipe;
  int top = (int)(3 + n);
  for (uint32_t i = 0; i < job->nkeep; i++) src[2 + i] = job->keep[i];
  for (uint32_t i = 0; i < n; i++)
    if (src[i] > top) top = src[i];
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  for (uint32_t i = 0; i < n; i++) posix_spawn_file_actions_adddup2(&actions, src[i], top + 1 + (int)i);
  for (uint32_t i = 0; i < n; i++) {
    posix_spawn_file_actions_adddup2(&actions, top + 1 + (int)i, 2 + (int)i);
    posix_spawn_file_actions_addclose(&actions, top + 1 + (int)i);
  }
  if (job->cwd != NULL) posix_spawn_file_actions_addchdir_np(&actions, job->cwd);
  // Its own session, as Node's `detached: true`: a signal to berth's process group spares it.
  int rc = program_spawn(&job->prog, &actions, POSIX_SPAWN_SETSID, &job->pid);
  posix_spawn_file_actions_destroy(&actions);
  free(src);
  return rc;
}

/**
 * On a thread of its own: the spawn; then the sync pipe read until its report is whole (a `}`) or
 * it closes, stderr read beside it (conmon keeps stderr open while it lives: only what came by
 * then is kept); then the first conmon reaped (it exits once it has forked the monitor that
 * stays); then the result back to Node's thread.
 */
static void *monitor_thread(void *arg) {
  monitor_job *job = arg;
  int err_pipe[2] = {-1, -1}, sync_pipe[2] = {-1, -1};
  if (pipe2(err_pipe, O_CLOEXEC) != 0 || pipe2(sync_pipe, O_CLOEXEC) != 0) job->spawn_err = errno;
  if (job->spawn_err == 0) job->spawn_err = monitor_spawn(job, err_pipe[1], sync_pipe[1]);
  if (err_pipe[1] >= 0) close(err_pipe[1]);
  if (sync_pipe[1] >= 0) close(sync_pipe[1]);
  struct pollfd p[2] = {{sync_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  if (job->spawn_err == 0) {
    // Until the report is whole (its `}`), or the sync pipe closed with all it will say.
    while (p[0].fd >= 0 && !(job->out[0].len > 0 && memchr(job->out[0].data, '}', job->out[0].len) != NULL)) {
      if (poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < 2; i++)
        if (p[i].fd >= 0 && p[i].revents != 0) read_polled(&p[i], &job->out[i], MONITOR_OUTPUT_MAX);
    }
    // What stderr holds already (a failed start's reason comes just before the sync pipe closes).
    read_ready(p[1].fd, &job->out[1], MONITOR_OUTPUT_MAX);
  }
  for (int i = 0; i < 2; i++)
    if (p[i].fd >= 0) close(p[i].fd);
  // The first conmon is reaped before the result goes back: berth may exit right after, and an
  // orphan that ended is left to PID 1, which does not reap everywhere (a container's init may
  // not). It has exited by now (it forks the monitor that stays before the runtime's create); one
  // that lingers past a second is reaped after the result instead, delaying nothing longer.
  pid_t pid = job->spawn_err == 0 ? job->pid : 0;
  for (int waited = 0; pid > 0 && waited < 1000; waited++) {
    pid_t r = waitpid(pid, NULL, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) pid = 0;
    else if (r == 0) usleep(1000);
  }
  hand_back(job->tsfn, job);
  while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  return NULL;
}

/** On Node's thread: [pid, the sync pipe's text, stderr's], or the spawn's error. */
static void monitor_complete(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  (void)context;
  monitor_job *job = data;
  if (env != NULL && job->spawn_err != 0) {
    napi_reject_deferred(env, job->deferred, errno_error(env, job->spawn_err, "spawn"));
  } else if (env != NULL) {
    napi_value v[3];
    napi_create_int32(env, job->pid, &v[0]);
    napi_create_string_utf8(env, job->out[0].data ? job->out[0].data : "", job->out[0].len, &v[1]);
    napi_create_string_utf8(env, job->out[1].data ? job->out[1].data : "", job->out[1].len, &v[2]);
    resolve_with_array(env, job->deferred, v, 3);
  }
  monitor_free(job);
}

/**
 * startMonitor(file, argv, env, cwd, keep): a promise of [pid, sync report, stderr so far]. conmon
 * as podman starts it: stdin and stdout /dev/null, stderr and fd 3 (its _OCI_SYNCPIPE) pipes, the
 * descriptors in `keep` (held ports) as 4, 5..., in `cwd`, in a session of its own.
 */
static napi_value js_start_monitor(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  monitor_job *job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_throw_error(env, "ENOMEM", "startMonitor: out of memory");
    return NULL;
  }
  int ok_program = argc == 5 && program_from_js(env, argv, &job->prog), ok_keep = argc == 5;
  bool is_array = false;
  if (argc == 5) {
    job->cwd = string_arg(env, argv[3]);
    if (napi_is_array(env, argv[4], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[4], &job->nkeep) != napi_ok) ok_keep = 0;
    job->keep = ok_keep ? calloc(job->nkeep + 1, sizeof *job->keep) : NULL;
    for (uint32_t i = 0; ok_keep && i < job->nkeep; i++) {
      napi_value item;
      if (napi_get_element(env, argv[4], i, &item) != napi_ok || napi_get_value_int32(env, item, &job->keep[i]) != napi_ok || job->keep[i] < 0) ok_keep = 0;
    }
  }
  if (!ok_program || !ok_keep || job->keep == NULL) {
    monitor_free(job);
    napi_throw_type_error(env, NULL, "startMonitor(file: string, argv: string[], env: string[] | null, cwd: string | null, keep: number[])");
    return NULL;
  }
  return start_job_thread(env, "berth.startMonitor", &job->deferred, &job->tsfn, monitor_complete, monitor_thread, job, (void (*)(void *))monitor_free);
}

// ---- a host port bound, as podman reserves one ----

/**
 * bindPort(address, port, udp): [fd, port]. A socket bound to the IPv4 or IPv6 literal `address`
 * (IPv6 only, never both families) and `port` (0: the kernel picks), listening when it is TCP,
 * as Node's net.Server does it: SO_REUSEADDR, so that a port whose connections linger in
 * TIME_WAIT counts as free. The descriptor is close-on-exec (a child gets it only when handed it,
 * as conmon is); the caller closes it. Throws the failing call's errno (EADDRINUSE...).
 */
static napi_value js_bind_port(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t port = 0;
  bool udp = false;
  char *address = argc == 3 ? string_arg(env, argv[0]) : NULL;
  if (address == NULL || napi_get_value_uint32(env, argv[1], &port) != napi_ok || port > 65535 || napi_get_value_bool(env, argv[2], &udp) != napi_ok) {
    free(address);
    napi_throw_type_error(env, NULL, "bindPort(address: string, port: number, udp: boolean)");
    return NULL;
  }
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  int family;
  struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
    family = v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
    family = v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    len = sizeof *v6;
  } else {
    free(address);
    napi_throw(env, errno_error(env, EINVAL, "inet_pton"));
    return NULL;
  }
  free(address);
  const char *failed = "socket";
  int fd = socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) {
    if (!udp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) failed = "setsockopt";
    else if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) failed = "setsockopt";
    else if (bind(fd, (struct sockaddr *)&ss, len) < 0) failed = "bind";
    else if (!udp && listen(fd, 511) < 0) failed = "listen";
    else if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) failed = "getsockname";
    else failed = NULL;
  }
  if (failed != NULL) {
    int err = errno;
    if (fd >= 0) close(fd);
    napi_throw(env, errno_error(env, err, failed));
    return NULL;
  }
  napi_value result, fd_value, port_value;
  CHECK(env, napi_create_array_with_length(env, 2, &result));
  CHECK(env, napi_create_int32(env, fd, &fd_value));
  CHECK(env, napi_create_uint32(env, ntohs(family == AF_INET ? v4->sin_port : v6->sin6_port), &port_value));
  CHECK(env, napi_set_element(env, result, 0, fd_value));
  CHECK(env, napi_set_element(env, result, 1, port_value));
  return result;
}

// --- hashing ---------------------------------------------------------------------------------
//
// SHA-256 and SHA-512 on the OpenSSL that Node carries (an official Node exports its symbols for
// addons), found at run time so that a Node built without them loses only this part of the addon.
// The same digest functions Node's createHash calls; what it spares is loading node:crypto, ~5 ms
// of Node compiling its own modules, in a short command that hashes a manifest or a config.
// (Hashing a big stream on a thread of its own was tried: a pull's wall time did not move, and
// handing each chunk over cost ~90 ms more CPU for 180 MB.)

typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct evp_md_st EVP_MD;
static struct {
  int tried, ok;
  EVP_MD_CTX *(*ctx_new)(void);
  void (*ctx_free)(EVP_MD_CTX *);
  const EVP_MD *(*sha256)(void);
  const EVP_MD *(*sha512)(void);
  int (*init)(EVP_MD_CTX *, const EVP_MD *, void *);
  int (*update)(EVP_MD_CTX *, const void *, size_t);
  int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
} evp;

static int evp_load(void) {
  if (!evp.tried) {
    evp.tried = 1;
    evp.ctx_new = (EVP_MD_CTX * (*)(void)) dlsym(RTLD_DEFAULT, "EVP_MD_CTX_new");
    evp.ctx_free = (void (*)(EVP_MD_CTX *))dlsym(RTLD_DEFAULT, "EVP_MD_CTX_free");
    evp.sha256 = (const EVP_MD *(*)(void))dlsym(RTLD_DEFAULT, "EVP_sha256");
    evp.sha512 = (const EVP_MD *(*)(void))dlsym(RTLD_DEFAULT, "EVP_sha512");
    evp.init = (int (*)(EVP_MD_CTX *, const EVP_MD *, void *))dlsym(RTLD_DEFAULT, "EVP_DigestInit_ex");
    evp.update = (int (*)(EVP_MD_CTX *, const void *, size_t))dlsym(RTLD_DEFAULT, "EVP_DigestUpdate");
    evp.final = (int (*)(EVP_MD_CTX *, unsigned char *, unsigned int *))dlsym(RTLD_DEFAULT, "EVP_DigestFinal_ex");
    evp.ok = evp.ctx_new && evp.ctx_free && evp.sha256 && evp.sha512 && evp.init && evp.update && evp.final;
  }
  return evp.ok;
}

typedef struct {
  EVP_MD_CTX *ctx;
  int finished, failed;
} hasher;

static void hash_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  hasher *h = data;
  evp.ctx_free(h->ctx);
  free(h);
}

static napi_value js_hash_start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *name = argc == 1 ? string_arg(env, argv[0]) : NULL;
  const EVP_MD *md = NULL;
  if (name != NULL && evp_load()) md = strcmp(name, "sha256") == 0 ? evp.sha256() : strcmp(name, "sha512") == 0 ? evp.sha512() : NULL;
  free(name);
  if (md == NULL) {
    napi_throw_type_error(env, NULL, "hashStart: sha256 or sha512, with Node's OpenSSL");
    return NULL;
  }
  hasher *h = calloc(1, sizeof *h);
  if (h == NULL || (h->ctx = evp.ctx_new()) == NULL || !evp.init(h->ctx, md, NULL)) {
    if (h != NULL && h->ctx != NULL) evp.ctx_free(h->ctx);
    free(h);
    napi_throw_error(env, NULL, "hashStart: out of memory");
    return NULL;
  }
  napi_value out;
  if (napi_create_external(env, h, hash_finalize, NULL, &out) != napi_ok) {
    evp.ctx_free(h->ctx);
    free(h);
    napi_throw_error(env, NULL, "hashStart: napi_create_external failed");
    return NULL;
  }
  return out;
}

/** The hash a call names as its first of `argc` arguments (all put in argv); NULL once it has thrown. */
static hasher *hash_call(napi_env env, napi_callback_info info, size_t argc, napi_value *argv) {
  size_t got = argc;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &got, argv, NULL, NULL) != napi_ok || got < argc || napi_get_value_external(env, argv[0], &data) != napi_ok ||
      data == NULL) {
    napi_throw_type_error(env, NULL, "not a hash");
    return NULL;
  }
  hasher *h = data;
  if (h->finished) {
    napi_throw_error(env, NULL, "hash already finished");
    return NULL;
  }
  return h;
}

static napi_value js_hash_update(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  hasher *h = hash_call(env, info, 2, argv);
  if (h == NULL) return NULL;
  void *data;
  size_t n;
  if (napi_get_typedarray_info(env, argv[1], NULL, &n, &data, NULL, NULL) != napi_ok) {
    napi_throw_type_error(env, NULL, "hashUpdate: a Buffer or Uint8Array");
    return NULL;
  }
  if (!evp.update(h->ctx, data, n)) h->failed = 1;
  return NULL;
}

static napi_value js_hash_digest(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  hasher *h = hash_call(env, info, 1, argv);
  if (h == NULL) return NULL;
  h->finished = 1;
  unsigned char md[64];
  unsigned int len = 0;
  if (h->failed || !evp.final(h->ctx, md, &len)) {
    napi_throw_error(env, NULL, "hashDigest: the digest failed");
    return NULL;
  }
  static const char hex[] = "0123456789abcdef";
  char out[129];
  for (unsigned int i = 0; i < len; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  napi_value s;
  CHECK(env, napi_create_string_latin1(env, out, 2 * len, &s));
  return s;
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback call;
  } functions[] = {
    {"mount", js_mount},
    {"umount", js_umount},
    {"netns", js_netns},
    {"run", js_run},
    {"startMonitor", js_start_monitor},
    {"bindPort", js_bind_port},
    {"hashStart", js_hash_start},
    {"hashUpdate", js_hash_update},
    {"hashDigest", js_hash_digest},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    CHECK(env, napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].call, NULL, &fn));
    CHECK(env, napi_set_named_property(env, exports, functions[i].name, fn));
  }
  napi_property_descriptor methods[] = {
    {"send", NULL, seqpacket_send, NULL, NULL, NULL, napi_default, NULL},
    {"awaitWritable", NULL, seqpacket_await_writable, NULL, NULL, NULL, napi_default, NULL},
    {"shutdownWrite", NULL, seqpacket_shutdown_write, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, seqpacket_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  CHECK(env, napi_define_class(env, "SeqpacketSocket", NAPI_AUTO_LENGTH, seqpacket_new, NULL, sizeof methods / sizeof methods[0], methods, &cls));
  CHECK(env, napi_set_named_property(env, exports, "SeqpacketSocket", cls));
  return exports;
}
