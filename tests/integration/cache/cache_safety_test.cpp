// What the cache must never do: serve one user's response to another, let a stampede through,
// or outgrow its memory budget; and what it must keep doing under a scan: serve the hot keys.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>

#include "cache_fixture.hpp"

using namespace sluice::test;
using namespace std::chrono_literals;

TEST(CachePrivacy, CredentialsBypassSharedEntries) {
  CacheSetup s(R"({ ttl = "1m" })");
  auto anon = s.get("/whoami/1");
  ASSERT_TRUE(anon);
  EXPECT_EQ(x_cache(anon), "MISS");
  auto alice = s.get("/whoami/1", {"Authorization: Bearer alice"});
  auto bob = s.get("/whoami/1", {"Authorization: Bearer bob"});
  auto carol = s.get("/whoami/1", {"Cookie: session=carol"});
  ASSERT_TRUE(alice && bob && carol);
  EXPECT_EQ(x_cache(alice), "BYPASS");
  EXPECT_EQ(alice->body, "user Bearer alice \n");
  EXPECT_EQ(x_cache(bob), "BYPASS");
  EXPECT_EQ(bob->body, "user Bearer bob \n");
  EXPECT_EQ(x_cache(carol), "BYPASS");
  EXPECT_EQ(carol->body, "user  carol\n");
  auto anon2 = s.get("/whoami/1");
  ASSERT_TRUE(anon2);
  EXPECT_EQ(x_cache(anon2), "HIT");
  EXPECT_EQ(anon2->body, anon->body);
}

TEST(CachePrivacy, CredentialInTheKeyGivesEachUserTheirOwnEntry) {
  CacheSetup s(R"({ ttl = "1m", key = "{method}{path}{header:Authorization}{cookie:session}" })");
  for (int round = 0; round < 2; ++round) {
    for (std::string user : {"alice", "bob"}) {
      auto r = s.get("/whoami/2", {"Authorization: Bearer " + user});
      ASSERT_TRUE(r);
      EXPECT_EQ(r->body, "user Bearer " + user + " \n");
      EXPECT_EQ(x_cache(r), round == 0 ? "MISS" : "HIT") << user;
    }
    for (std::string user : {"carol", "dave"}) {
      auto r = s.get("/whoami/2", {"Cookie: theme=dark; session=" + user});
      ASSERT_TRUE(r);
      EXPECT_EQ(r->body, "user  " + user + "\n");
      EXPECT_EQ(x_cache(r), round == 0 ? "MISS" : "HIT") << user;
    }
  }
  EXPECT_EQ(s.backend_hits("/whoami/2"), 4);
}

TEST(CachePrivacy, PrivateResponsesAreNeverStored) {
  CacheSetup s(R"({ ttl = "1m", origin_cache_control = false })");
  for (int i = 0; i < 3; ++i) {
    auto p = s.get("/private/1");
    auto c = s.get("/cookie/1");
    ASSERT_TRUE(p && c);
    EXPECT_EQ(x_cache(p), "MISS");
    EXPECT_EQ(x_cache(c), "MISS");
    EXPECT_EQ(c->header("Set-Cookie"), "session=s1");
  }
  EXPECT_EQ(s.backend_hits("/private/1"), 3);
  EXPECT_EQ(s.backend_hits("/cookie/1"), 3);
}

namespace {

// Opens `n` connections, sends one request on each at once, and reads every answer.
std::vector<std::string> concurrent_gets(uint16_t port, const std::string& path, int n) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      continue;
    }
    fds.push_back(fd);
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  for (int fd : fds)
    (void)!::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::vector<std::string> out(fds.size());
  std::vector<bool> done(fds.size(), false);
  size_t open = fds.size();
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (open > 0 && std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> p;
    std::vector<size_t> idx;
    for (size_t i = 0; i < fds.size(); ++i)
      if (!done[i]) p.push_back({fds[i], POLLIN, 0}), idx.push_back(i);
    if (::poll(p.data(), p.size(), 200) <= 0) continue;
    for (size_t k = 0; k < p.size(); ++k) {
      if (!p[k].revents) continue;
      char buf[4096];
      ssize_t got = ::recv(p[k].fd, buf, sizeof buf, 0);
      if (got <= 0) {
        done[idx[k]] = true;
        --open;
      } else {
        out[idx[k]].append(buf, static_cast<size_t>(got));
      }
    }
  }
  for (int fd : fds)
    ::close(fd);
  return out;
}

}  // namespace

TEST(CacheCoalescing, ThousandConcurrentMissesReachTheBackendOnce) {
  ScriptedBackend backend([](const ReceivedRequest&) {
    BackendReply r;
    r.delay = 500ms;
    r.raw = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\ncold\n";
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.workers = 2;
  g.route_extra = R"(cache = { ttl = "1m" })";
  auto gw = g.start();
  auto answers = concurrent_gets(g.port, "/cold", 1000);
  ASSERT_EQ(answers.size(), 1000u);
  int ok = 0;
  for (const auto& a : answers)
    if (a.rfind("HTTP/1.1 200", 0) == 0 && a.find("\r\n\r\ncold\n") != std::string::npos) ++ok;
  EXPECT_EQ(ok, 1000);
  EXPECT_EQ(backend.requests().size(), 1u);
}

TEST(CacheCoalescing, UncacheableAnswersDoNotSerialiseRequests) {
  ScriptedBackend backend([](const ReceivedRequest&) {
    BackendReply r;
    r.delay = 300ms;
    r.raw = "HTTP/1.1 200 OK\r\nCache-Control: private\r\nContent-Length: 3\r\n\r\nme\n";
    return r;
  });
  GatewaySetup g;
  g.endpoints = {backend.port()};
  g.route_extra = R"(cache = { ttl = "1m" })";
  auto gw = g.start();
  ASSERT_TRUE(http_request(g.port, "GET", "/p"));  // learns that /p cannot be shared
  auto start = std::chrono::steady_clock::now();
  auto answers = concurrent_gets(g.port, "/p", 20);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(answers.size(), 20u);
  EXPECT_LT(took, 2s);  // 20 × 300 ms if they queued behind one another
  EXPECT_EQ(backend.requests().size(), 21u);
}

TEST(CacheMemory, TwoGigabytesThroughA256MegabyteCacheStayWithinBudget) {
  TempDir files;
  std::string object(1000 * 1000, 'x');
  write_file(files / "big.bin", object);
  NginxOptions o;
  o.locations =
      "    location /big/ { root " + files.path().string() + "; try_files /big.bin =404; }\n";
  Nginx nginx(o);
  GatewaySetup g;
  g.endpoints = {nginx.port()};
  g.route_extra = R"(cache = { ttl = "1h" })";
  g.more = "[cache]\nmax_memory = \"256MB\"\n";
  auto gw = g.start();
  long base = rss_kib(gw->process().pid());
  RawClient c(g.port, 30s);
  size_t stored = 0;
  for (int i = 0; i < 2100; ++i) {  // 2.1 GB of distinct objects
    ASSERT_TRUE(c.send(get_request("/big/" + std::to_string(i))));
    auto r = c.read_response();
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->body.size(), object.size());
    stored += r->body.size();
  }
  long grown = rss_kib(gw->process().pid()) - base;
  EXPECT_LT(grown, 256 * 1024 * 12 / 10) << "RSS grew by " << grown << " KiB";
  auto stats = http_request(g.admin_port, "GET", "/cache/stats");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->body.find("\"evictions\":0,"), std::string::npos) << stats->body;
  std::printf("2.1 GB through a 256 MB cache: RSS +%ld MiB\n", grown / 1024);
}

TEST(CacheEviction, HotKeysSurviveAScan) {
  SmallCache cache;
  auto get = [&](const std::string& path) { return cache.get(path); };
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 10; ++k)
      get("/plain/hot" + std::to_string(k));
  for (int i = 0; i < 20000; ++i) {  // far more distinct keys than fit
    get("/plain/scan" + std::to_string(i));
    if (i % 100 == 0)
      for (int k = 0; k < 10; ++k)
        get("/plain/hot" + std::to_string(k));
  }
  int hits = 0;
  for (int k = 0; k < 10; ++k)
    hits += x_cache(get("/plain/hot" + std::to_string(k))) == "HIT";
  EXPECT_GE(hits, 9);
}

TEST(CacheAdmission, OneOffKeysAreRelayedUnstoredOnceTheCacheFillsWithThem) {
  SmallCache cache;
  CacheSetup& s = cache.s;
  auto get = [&](const std::string& path) { return cache.get(path); };
  constexpr int kKeys = 8000;  // about five times what fits
  int intact = 0;
  for (int i = 0; i < kKeys; ++i) {
    std::string path = "/plain/once" + std::to_string(i);
    auto r = get(path);
    intact += r && r->status == 200 && r->body == "plain " + path + " \n" && x_cache(r) == "MISS";
  }
  EXPECT_EQ(intact, kKeys);
  auto stats = http_request(s.g.admin_port, "GET", "/cache/stats");
  ASSERT_TRUE(stats);
  // The first occurrences are the totals object's.
  auto stores = static_cast<int64_t>(json_number(stats->body, "stores"));
  auto skipped = static_cast<int64_t>(json_number(stats->body, "not_admitted"));
  std::printf("%d one-off keys through a 1 MB cache: %ld stored, %ld relayed unstored\n", kKeys,
              static_cast<long>(stores), static_cast<long>(skipped));
  EXPECT_EQ(stores + skipped, kKeys);
  EXPECT_GT(skipped, kKeys / 2);

  // A key that comes back is stored on its second miss at the latest, and then served.
  std::string again = "/plain/again";
  get(again);
  auto second = get(again);
  EXPECT_EQ(x_cache(second), "MISS");
  auto third = get(again);
  EXPECT_EQ(x_cache(third), "HIT");
  ASSERT_TRUE(third);
  EXPECT_EQ(third->body, "plain /plain/again \n");
  EXPECT_LE(s.backend_hits(again), 2);
}
