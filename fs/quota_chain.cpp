#include "fs/quota_chain.hpp"

namespace gw::fs {
namespace {

std::shared_ptr<const QuotaChain> compute(const View& view, const Inode& node) {
  const auto scope = node.mapping->quotas();
  if (!scope) return nullptr;
  const InodePtr parent = node.is_root ? nullptr : node.place_parent();
  std::shared_ptr<const QuotaChain> base;
  if (parent && parent->is_backed() && parent->mapping.get() == node.mapping.get()) base = quota_chain(view, *parent);
  else if (!scope->chain.empty()) base = std::make_shared<const QuotaChain>(scope->chain);
  if (S_ISDIR(node.type) && !node.is_root) {
    for (const QuotaPtr& q : scope->inside) {
      if (!q->is_at(node.dev, node.ino)) continue;
      auto chain = std::make_shared<QuotaChain>(base ? *base : QuotaChain{});
      chain->push_back(q);
      return chain;
    }
  }
  return base;
}

}  // namespace

std::shared_ptr<const QuotaChain> quota_chain(const View& view, const Inode& node) {
  if (!node.is_backed() || !view.quotas().any()) return nullptr;
  const std::uint64_t generation = view.quotas().generation();
  if (auto cached = node.cached_quotas(generation)) return cached->empty() ? nullptr : cached;
  auto chain = compute(view, node);
  if (!chain) chain = std::make_shared<const QuotaChain>();  // cached as "none"
  node.cache_quotas(generation, chain);
  return chain->empty() ? nullptr : chain;
}

bool same_quotas(const View& view, const Inode& a, const Inode& b) {
  const auto qa = quota_chain(view, a);
  const auto qb = quota_chain(view, b);
  if (!qa || !qb) return !qa && !qb;
  return *qa == *qb;
}

}  // namespace gw::fs
