// A C++ peer of the legacy wire, written from its description (packages/legacy/README.md) with
// the same serialisation library as the original envtest: cereal's BinaryArchive
// (Debian's libcereal-dev). The QEMU tier (test/vm/legacy.vm.test.ts) builds it on the host and
// runs it in the guest against `envtest server --wire legacy` and `envtest client --wire legacy`.
//
//   legacy-peer client CID PORT COUNT NAME   connect, clock exchange, COUNT messageexp (another
//                                            exchange half-way), print "ts text" per message
//   legacy-peer server PORT COUNT            listen, accept once, answer clock requests, read
//                                            COUNT messageexp, print one JSON line
//
// Unlike the original it loops on short reads and writes. As the original does, the client leaves
// the unused header bytes non-zero (0xA5 here instead of stack contents) and sends a garbage clock
// request payload: the server under test must tolerate both. The server checks that the peer under
// test sends zeros there.
#include <cereal/archives/binary.hpp>
#include <cereal/types/string.hpp>
#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sstream>
#include <string>

struct timestamps {
  long long recvtime = 0, sendtime = 0;
  template <class A> void serialize(A& a) { a(recvtime, sendtime); }
};
struct messageexp {
  long long timestamp = 0;
  std::string sometalk;
  template <class A> void serialize(A& a) { a(timestamp, sometalk); }
};

static long long now_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return 1000000000LL * t.tv_sec + t.tv_nsec;
}

static void die(const char* what) {
  std::fprintf(stderr, "legacy-peer: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

static bool read_all(int fd, void* buf, size_t n) {
  char* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

static void write_all(int fd, const void* buf, size_t n) {
  const char* p = static_cast<const char*>(buf);
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) die("write");
    p += w;
    n -= static_cast<size_t>(w);
  }
}

template <class T> static std::string serialize(T& v) {
  std::ostringstream os;
  {
    cereal::BinaryOutputArchive ar(os);
    ar(v);
  }
  return os.str();
}

template <class T> static T deserialize(const std::string& s) {
  std::istringstream is(s);
  T v;
  cereal::BinaryInputArchive ar(is);
  ar(v);
  return v;
}

// One frame as the original sends it: the 28-byte header, then the body in a second write.
static void send_frame(int fd, int type, const std::string& payload, unsigned char filler) {
  int hdr[7];
  std::memset(hdr, filler, sizeof hdr);
  hdr[0] = type;
  hdr[1] = static_cast<int>(payload.size());
  if (payload.size() <= 20) {
    std::memcpy(hdr + 2, payload.data(), payload.size());
    write_all(fd, hdr, sizeof hdr);
  } else {
    write_all(fd, hdr, sizeof hdr);
    write_all(fd, payload.data(), payload.size());
  }
}

// Reads one frame; returns false at a clean end of stream. `unused_nonzero` counts non-zero
// bytes in the unused part of the inline area.
static bool recv_frame(int fd, int& type, std::string& payload, long& unused_nonzero) {
  unsigned char hdr[28];
  if (!read_all(fd, hdr, sizeof hdr)) return false;
  int len;
  std::memcpy(&type, hdr, 4);
  std::memcpy(&len, hdr + 4, 4);
  if (len < 0 || len > 4096) {
    std::fprintf(stderr, "legacy-peer: bad len %d\n", len);
    std::exit(3);
  }
  for (int i = (len <= 20 ? 8 + len : 8); i < 28; i++) unused_nonzero += hdr[i] != 0;
  if (len <= 20) {
    payload.assign(reinterpret_cast<char*>(hdr + 8), static_cast<size_t>(len));
  } else {
    payload.resize(static_cast<size_t>(len));
    if (!read_all(fd, &payload[0], payload.size())) {
      std::fprintf(stderr, "legacy-peer: truncated body\n");
      std::exit(3);
    }
  }
  return true;
}

static std::string text_of(const std::string& name, int k) {
  unsigned seed = 0;
  for (char c : name) seed = seed * 31 + static_cast<unsigned char>(c);
  int len = (k % 5 == 0) ? 1 + k % 4 : 1 + static_cast<int>((seed + 7u * static_cast<unsigned>(k)) % 65u);
  std::string s;
  for (int j = 0; j < len; j++) s += static_cast<char>('A' + (seed + static_cast<unsigned>(k + 3 * j)) % 26u);
  return s;
}

static long long clock_exchange(int fd) {
  long long t1 = now_ns();
  timestamps garbage;
  garbage.recvtime = 0x7f5a358d3d40LL;  // what the original leaks: a stack pointer
  garbage.sendtime = 0x7f5a35a88439LL;
  send_frame(fd, 3, serialize(garbage), 0xA5);
  int type;
  std::string payload;
  long unused = 0;
  if (!recv_frame(fd, type, payload, unused)) {
    std::fprintf(stderr, "legacy-peer: no clock reply\n");
    std::exit(4);
  }
  long long t2 = now_ns();
  if (type != 3 || payload.size() != 16) {
    std::fprintf(stderr, "legacy-peer: clock reply of type %d len %zu\n", type, payload.size());
    std::exit(4);
  }
  timestamps r = deserialize<timestamps>(payload);
  long long dt = ((t1 - r.recvtime) + (t2 - r.sendtime)) / 2;
  std::fprintf(stderr, "legacy-peer: clock T1=%lld T1'=%lld T2'=%lld T2=%lld dt=%lld unused_nonzero=%ld\n", t1, r.recvtime, r.sendtime, t2, dt, unused);
  return dt;
}

static int run_client(unsigned cid, unsigned port, int count, const std::string& name) {
  int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  sockaddr_vm a;
  std::memset(&a, 0, sizeof a);
  a.svm_family = AF_VSOCK;
  a.svm_cid = cid;
  a.svm_port = port;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("connect");
  long long dt = clock_exchange(fd);
  for (int k = 0; k < count; k++) {
    if (k == count / 2) dt = clock_exchange(fd);
    messageexp m;
    m.timestamp = now_ns() - dt;
    m.sometalk = text_of(name, k);
    send_frame(fd, 4, serialize(m), 0xA5);
    std::printf("%lld %s\n", m.timestamp, m.sometalk.c_str());
    std::fflush(stdout);
    usleep(20000);
  }
  close(fd);
  return 0;
}

static int run_server(unsigned port, int count) {
  int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  sockaddr_vm a;
  std::memset(&a, 0, sizeof a);
  a.svm_family = AF_VSOCK;
  a.svm_cid = VMADDR_CID_ANY;
  a.svm_port = port;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("bind");
  if (listen(fd, 5) < 0) die("listen");
  std::fprintf(stderr, "legacy-peer: listening on %u\n", port);
  int c = accept(fd, nullptr, nullptr);
  if (c < 0) die("accept");
  int messages = 0, clock_requests = 0, bad_texts = 0;
  long unused_nonzero = 0, request_nonzero = 0;
  long long max_ahead = -(1LL << 62), max_behind = 0;
  std::string lines;
  while (messages < count) {
    int type;
    std::string payload;
    if (!recv_frame(c, type, payload, unused_nonzero)) break;
    if (type == 3) {
      long long t1p = now_ns();
      timestamps req = deserialize<timestamps>(payload);  // contents ignored, as the original
      request_nonzero += req.recvtime != 0 || req.sendtime != 0;
      timestamps r;
      r.recvtime = t1p;
      r.sendtime = now_ns();
      send_frame(c, 3, serialize(r), 0);
      clock_requests++;
    } else if (type == 4) {
      messageexp m = deserialize<messageexp>(payload);
      long long now = now_ns();
      if (m.timestamp - now > max_ahead) max_ahead = m.timestamp - now;
      if (now - m.timestamp > max_behind) max_behind = now - m.timestamp;
      bool ok = !m.sometalk.empty() && m.sometalk.size() <= 65;
      for (char ch : m.sometalk) ok = ok && ch >= 'A' && ch <= 'Z';
      bad_texts += !ok;
      if (serialize(m) != payload) bad_texts++;  // every byte accounted for: no trailing bytes
      messages++;
    } else {
      std::fprintf(stderr, "legacy-peer: unexpected type %d\n", type);
      return 3;
    }
  }
  std::printf("{\"messages\":%d,\"clockRequests\":%d,\"badTexts\":%d,\"unusedNonzero\":%ld,\"requestNonzero\":%ld,\"maxAheadNs\":%lld,\"maxBehindNs\":%lld}\n",
              messages, clock_requests, bad_texts, unused_nonzero, request_nonzero, max_ahead, max_behind);
  close(c);
  close(fd);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 6 && std::string(argv[1]) == "client") return run_client(std::strtoul(argv[2], nullptr, 10), std::strtoul(argv[3], nullptr, 10), std::atoi(argv[4]), argv[5]);
  if (argc == 4 && std::string(argv[1]) == "server") return run_server(std::strtoul(argv[2], nullptr, 10), std::atoi(argv[3]));
  std::fprintf(stderr, "usage: legacy-peer client CID PORT COUNT NAME | legacy-peer server PORT COUNT\n");
  return 2;
}
