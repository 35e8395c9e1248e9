// Which limits an object's changes count against (fs/quota.hpp): its
// mapping's chain, plus every limited folder between the mapping's root and
// the object, found by walking up the places the view knows (the same
// places audit paths come from). Cached on the inode for one generation of
// the view's quotas; null when nothing limits the object, which is the one
// check an unlimited mapping pays.
#pragma once

#include <memory>

#include "fs/quota.hpp"
#include "fs/view.hpp"

namespace gw::fs {

std::shared_ptr<const QuotaChain> quota_chain(const View& view, const Inode& node);

// Whether changes in `a` and in `b` count against the same limits (a rename
// or a hard link between them moves no usage from one limit to another).
bool same_quotas(const View& view, const Inode& a, const Inode& b);

}  // namespace gw::fs
