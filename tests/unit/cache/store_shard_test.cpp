// The store shard's own structures: the entry table, the list of entries not yet indexed for
// purges, the ghost set; and purges over a mix of indexed and not yet indexed entries.
#include "cache/store_shard.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <unordered_map>

#include "cache/cache_store.hpp"
#include "cache_test_util.hpp"

using namespace sluice;
using namespace sluice::cache;
using namespace sluice::cache::detail;
using namespace sluice::cache::testing;

TEST(EntryTable, AgreesWithAMapUnderCollisionsAndRemovals) {
  // Hashes from a small range collide and their runs wrap around the end of the slot array.
  std::mt19937 rng(7);
  EntryTable table;
  std::unordered_map<std::string, std::unique_ptr<Node>> reference;
  for (int step = 0; step < 200'000; ++step) {
    std::string key = "k" + std::to_string(rng() % 3'000);
    uint64_t hash = std::hash<std::string>()(key) % 97 * 0x10001;  // stable per key
    auto it = reference.find(key);
    if (it == reference.end()) {
      auto node = std::make_unique<Node>();
      node->key = key;
      node->hash = hash;
      table.insert(node.get());
      reference.emplace(key, std::move(node));
    } else if (rng() % 3 == 0) {
      table.erase(it->second.get());
      reference.erase(it);
    }
    if (step % 997 == 0) {
      for (const auto& [k, n] : reference)
        ASSERT_EQ(table.find(n->hash, k), n.get()) << k << " at step " << step;
    }
    std::string absent = "absent" + std::to_string(rng() % 50);
    ASSERT_EQ(table.find(std::hash<std::string>()(absent) % 97 * 0x10001, absent), nullptr);
  }
  EXPECT_EQ(table.size(), reference.size());
  size_t drained = 0;
  table.drain([&](Node*) { ++drained; });
  EXPECT_EQ(drained, reference.size());
  EXPECT_EQ(table.size(), 0u);
}

TEST(UnindexedList, KeepsInsertionOrderThroughRemovalsAndCompaction) {
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < 5'000; ++i) {
    nodes.push_back(std::make_unique<Node>());
    nodes.back()->seq = static_cast<uint64_t>(i);
  }
  UnindexedList list;
  for (auto& n : nodes)
    list.push(n.get());
  // The oldest stays while most others leave: the removed slots behind it are squeezed out.
  std::mt19937 rng(3);
  std::vector<bool> live(nodes.size(), true);
  for (int i = 1; i < 5'000; ++i)
    if (rng() % 10 != 0) {
      list.remove(nodes[static_cast<size_t>(i)].get());
      live[static_cast<size_t>(i)] = false;
    }
  // Newer entries after the compaction, then the survivors leave oldest first.
  for (int i = 0; i < 100; ++i) {
    nodes.push_back(std::make_unique<Node>());
    nodes.back()->seq = 5'000 + static_cast<uint64_t>(i);
    list.push(nodes.back().get());
    live.push_back(true);
  }
  size_t expected = static_cast<size_t>(std::count(live.begin(), live.end(), true));
  EXPECT_EQ(list.size(), expected);
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!live[i]) continue;
    ASSERT_EQ(list.front(), nodes[i].get()) << i;
    list.remove(nodes[i].get());
  }
  EXPECT_EQ(list.size(), 0u);
  EXPECT_EQ(list.front(), nullptr);
}

TEST(GhostSet, RemembersAboutTheLastCapacityHashes) {
  GhostSet ghost;
  std::mt19937_64 rng(11);
  std::vector<uint64_t> added;
  for (int i = 0; i < 30'000; ++i) {
    added.push_back(rng());
    ghost.add(added.back(), 10'000);
  }
  // The most recent `capacity` are (nearly) all there; those from two capacities back are gone.
  int recent = 0, old = 0, never = 0;
  for (size_t i = added.size() - 10'000; i < added.size(); ++i)
    recent += ghost.take(added[i]);
  for (size_t i = 0; i < 5'000; ++i)
    old += ghost.take(added[i]);
  for (int i = 0; i < 10'000; ++i)
    never += ghost.take(rng());
  std::printf(
      "[ ghost  ] kept %d of the last 10000, %d of 5000 from 2.5-3 capacities back, "
      "%d false of 10000\n",
      recent, old, never);
  EXPECT_GT(recent, 9'500);
  EXPECT_LT(old, 1'000);
  EXPECT_LT(never, 20);
  EXPECT_FALSE(ghost.take(added.back()));  // taken above
  ghost.clear();
  EXPECT_FALSE(ghost.take(added[added.size() - 2]));
}

TEST(GhostSet, RemembersHashesThatShareTheirShardBits) {
  // A shard's ghost set sees only hashes whose shard-selecting high bits are equal: its buckets
  // must not depend on those bits, or most of them would stay empty.
  GhostSet ghost;
  std::mt19937_64 rng(12);
  std::vector<uint64_t> added;
  for (int i = 0; i < 20'000; ++i) {
    added.push_back((rng() & ~(uint64_t{63} << 40)) | (uint64_t{17} << 40));
    ghost.add(added.back(), 10'000);
  }
  int recent = 0;
  for (size_t i = added.size() - 10'000; i < added.size(); ++i)
    recent += ghost.take(added[i]);
  EXPECT_GT(recent, 9'500);
}

TEST(CacheStore, PurgesAgreeWithAModelOverIndexedAndUnindexedEntries) {
  // Random stores, replacements, erasures and purges; every purge brings only the entries older
  // than itself into the indexes, so later ones see a mix of both.
  CacheStats stats(1);
  CacheStore store({1ull << 30, 4, EvictionPolicy::s3fifo}, stats);
  std::map<std::string, std::string> model;  // key -> target
  std::mt19937 rng(5);
  auto target_of = [&] {
    return "/api/" + std::to_string(rng() % 6) + "/" + std::to_string(rng() % 40);
  };
  CacheStore::LookupOptions o;
  o.coalesce = false;
  for (int step = 0; step < 20'000; ++step) {
    int op = static_cast<int>(rng() % 100);
    std::string key = "k" + std::to_string(rng() % 400);
    if (op < 70) {
      std::string target = target_of();
      store.insert(hash_key(key), key, simple_entry(target, at(3600)), at(0));
      model[key] = target;
    } else if (op < 80) {
      store.erase(hash_key(key), key);
      model.erase(key);
    } else {
      PurgePattern pattern(op < 90 ? target_of() : "/api/" + std::to_string(rng() % 6) + "/*");
      size_t expected = 0;
      for (auto it = model.begin(); it != model.end();)
        if (pattern.matches(it->second)) {
          it = model.erase(it);
          ++expected;
        } else {
          ++it;
        }
      ASSERT_EQ(store.purge(pattern), expected) << pattern.text() << " at step " << step;
    }
  }
  EXPECT_EQ(store.entries(), model.size());
  for (int i = 0; i < 400; ++i) {
    std::string key = "k" + std::to_string(i);
    bool present = store.lookup(hash_key(key), key, at(1), o).found == CacheStore::Found::fresh;
    EXPECT_EQ(present, model.count(key) == 1) << key;
  }
}
