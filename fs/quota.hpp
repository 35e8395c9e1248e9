// Quotas on folders: a limit on what a mapped folder (or a home) holds, in
// bytes (st_size summed, a hard-linked file once) and in entries (files,
// folders, symlinks), whoever wrote it. Enforced where the view changes a
// size or adds a name, before the change: usage never passes a limit through
// the gateway, whatever number of sessions write at once.
//
// How usage is known: a count (fs/quota_scan.hpp) at start, at every reload
// and every --quota-rescan, on the view's background thread; in between, the
// gateway's own changes keep it exact. Until a folder's first count ends,
// nothing may grow in it (EDQUOT): a limit is never trusted to a guess. While
// a later count runs, the previous figure stands, and what grows meanwhile
// is added to the new count when it ends (space freed meanwhile is credited
// by the next count: usage is over-, never under-estimated).
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fs/quota_scan.hpp"
#include "mapping/model.hpp"

namespace gw::fs {

// One limited folder, shared by every mapping of it and kept across reloads
// (a reload changes its limit in place).
class FolderQuota {
 public:
  FolderQuota(std::string name, mapping::Limit limit) : name_(std::move(name)), limit_(limit) {}

  const std::string& name() const { return name_; }  // "thttpd_files/site", "~ryan"

  // Takes `more` (growth), all or nothing: false when it would pass a limit
  // or the folder has not been counted yet.
  bool take(Usage more);
  // Gives back what was freed (never below zero).
  void give(Usage less);
  // Adds what grew without asking (written behind the gateway's back into
  // a file it was changing): usage may then pass the limit, until a count.
  void force(Usage more);

  struct Snapshot {
    std::string name;
    std::vector<std::string> mappings;  // labels of the mappings that serve it
    Usage used;
    mapping::Limit limit;
    bool counted = false;
    std::time_t counted_at = 0;
  };
  Snapshot snapshot() const;

  // Counting the folder (fs/quota_count.hpp): asked for (false when a count
  // is already waiting to run), started, finished or given up.
  bool ask_count();
  void count_started();
  void count_finished(Usage found);
  void count_abandoned();

  // Set by the view's build: the limit, who serves the folder, where it is.
  void configure(const mapping::Limit& limit, std::vector<std::string> mappings);
  void set_place(dev_t dev, ino_t ino);
  bool is_at(dev_t dev, ino_t ino) const;

 private:
  const std::string name_;
  mutable std::mutex mu_;  // guards everything below
  mapping::Limit limit_;
  std::vector<std::string> mappings_;
  Usage used_;
  Usage grown_;            // taken while a count runs
  bool count_asked_ = false;
  bool counting_ = false;
  bool counted_ = false;
  std::time_t counted_at_ = 0;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

using QuotaPtr = std::shared_ptr<FolderQuota>;

// The limits a change counts against, outermost first: for an object, its
// mapping's folder's limit, every limited folder above that folder, and
// every limited folder between the mapping's root and the object.
using QuotaChain = std::vector<QuotaPtr>;

// What a mapping root needs to know of the limits (set by each build):
// its chain, and the limited folders inside it, by (dev, ino).
struct MappingQuotas {
  QuotaChain chain;
  std::vector<QuotaPtr> inside;
};

// Takes `more` from every quota of `chain`, all or nothing. Returns the
// quota that refused, or null when all took it.
const FolderQuota* take_all(const QuotaChain& chain, Usage more);
void give_all(const QuotaChain& chain, Usage less);

// Every limited folder of the served tree.
class Quotas {
 public:
  // The quota of folder `name` for a build: the served one if there is one
  // (usage kept), else a new one, not yet counted.
  QuotaPtr folder(const std::string& name, const mapping::Limit& limit) const;
  // The built tree's folders become the served ones; a folder no longer
  // limited keeps counting for chains still cached, but refuses nothing.
  void install(std::map<std::string, QuotaPtr> folders);

  std::vector<QuotaPtr> all() const;
  std::vector<FolderQuota::Snapshot> report() const;
  bool any() const { return any_.load(std::memory_order_acquire); }
  // Changes with every install: a cached chain of an older one is recomputed.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // Serialises the size changes of one backing file (write, truncate,
  // fallocate): its size before and after each change is then its own.
  std::mutex& size_lock(dev_t dev, ino_t ino) { return size_locks_[(dev * 31 + ino) % size_locks_.size()]; }

 private:
  mutable std::mutex mu_;  // guards folders_
  std::map<std::string, QuotaPtr> folders_;
  std::atomic<bool> any_{false};
  std::atomic<std::uint64_t> generation_{0};
  std::array<std::mutex, 64> size_locks_;
};

}  // namespace gw::fs
