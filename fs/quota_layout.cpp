#include "fs/quota_layout.hpp"

#include <algorithm>

namespace gw::fs {
namespace {

// One mapping root of the built tree and the folder it serves.
struct Served {
  InodePtr root;
  std::string folder;  // mapping::folder_key, mapping::home_key
  std::string volume;  // "" for a home
  std::string subdir;
};

// Whether `inner` is `outer` or below it (both subdirs of one volume).
bool within(const std::string& inner, const std::string& outer) {
  return outer.empty() || inner == outer || (inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
                                             inner[outer.size()] == '/');
}

struct Limited {
  mapping::Limit limit;
  std::vector<std::string> mappings;
  std::string volume;
  std::string subdir;
  InodePtr root;  // one root that opens the folder
  QuotaPtr quota;
};

std::vector<Served> served_roots(const UserTrees& users,
                                 std::map<std::string, Limited>* limited) {
  std::vector<Served> out;
  const auto root_of = [](const UserTree& tree, const std::string& label) -> InodePtr {
    for (const auto& node : tree.roots)
      if (node->mapping->label == label) return node;
    return nullptr;
  };
  const auto note = [&](const Served& s, const mapping::Limit& limit) {
    if (!limit.any()) return;
    Limited& l = (*limited)[s.folder];
    l.limit = limit;  // one folder has one limit (mapping::parse refuses two)
    l.mappings.push_back(s.root->mapping->label);
    l.volume = s.volume;
    l.subdir = s.subdir;
    if (!l.root) l.root = s.root;
  };
  for (const auto& [name, tree] : users) {
    const mapping::UserPlan& up = tree->plan;
    if (InodePtr home = root_of(*tree, up.user.name + ":~")) {
      out.push_back({home, mapping::home_key(up.user.name), "", ""});
      note(out.back(), up.home_limit);
    }
    for (const mapping::MountPlan& m : up.mounts) {
      InodePtr node = root_of(*tree, up.user.name + ":" + m.name);
      if (!node) continue;
      out.push_back({node, mapping::folder_key(m.volume, m.subdir), m.volume, m.subdir});
      note(out.back(), m.limit);
    }
  }
  // A folder limited by one rule limits every mapping of it.
  for (const Served& s : out) {
    const auto it = limited->find(s.folder);
    if (it == limited->end()) continue;
    auto& labels = it->second.mappings;
    if (std::find(labels.begin(), labels.end(), s.root->mapping->label) == labels.end())
      labels.push_back(s.root->mapping->label);
  }
  return out;
}

// Whether any rule of the plans limits a folder (a home or a mapping).
bool any_limit(const UserTrees& users) {
  return std::any_of(users.begin(), users.end(), [](const auto& entry) {
    const mapping::UserPlan& up = entry.second->plan;
    return up.home_limit.any() ||
           std::any_of(up.mounts.begin(), up.mounts.end(), [](const mapping::MountPlan& m) { return m.limit.any(); });
  });
}

}  // namespace

void apply_quotas(View& view, const UserTrees& users,
                  const std::function<void()>& before_counting) {
  // Nothing limited, before or now: not one string built per root.
  if (!view.quotas().any() && !any_limit(users)) return;
  std::map<std::string, Limited> limited;
  const std::vector<Served> roots = served_roots(users, &limited);
  if (limited.empty() && !view.quotas().any()) return;  // nothing limited, before or now
  std::map<std::string, QuotaPtr> folders;
  std::vector<CountTarget> counts;
  for (auto& [name, l] : limited) {
    l.quota = view.quotas().folder(name, l.limit);
    std::sort(l.mappings.begin(), l.mappings.end());
    l.quota->configure(l.limit, l.mappings);
    l.quota->set_place(l.root->dev, l.root->ino);
    folders[name] = l.quota;
    counts.emplace_back(l.quota, l.root);
  }
  for (const Served& s : roots) {
    auto scope = std::make_shared<MappingQuotas>();
    if (s.volume.empty()) {  // a home: its own limit only
      if (const auto it = limited.find(s.folder); it != limited.end()) scope->chain.push_back(it->second.quota);
    } else {
      // Around the mapped folder, outermost first; inside it, any order.
      std::vector<const Limited*> around;
      for (const auto& [name, l] : limited) {
        if (l.volume != s.volume || l.volume.empty()) continue;
        if (within(s.subdir, l.subdir)) around.push_back(&l);
        else if (within(l.subdir, s.subdir)) scope->inside.push_back(l.quota);
      }
      std::sort(around.begin(), around.end(),
                [](const Limited* a, const Limited* b) { return a->subdir.size() < b->subdir.size(); });
      for (const Limited* l : around) scope->chain.push_back(l->quota);
    }
    s.root->mapping->set_quotas(scope->chain.empty() && scope->inside.empty() ? nullptr : std::move(scope));
  }
  view.quotas().install(std::move(folders));
  if (before_counting) before_counting();
  count_folders(view, counts);
  view.rescans().set(view, view.quota_rescan(), std::move(counts));
}

}  // namespace gw::fs
