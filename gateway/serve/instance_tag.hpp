// This gateway instance's tag: 8 hex digits made once and kept in
// <state-dir>/instance, so the same gateway (its workers, its restarts)
// keeps one tag and replicas sharing volumes (each with its own state
// folder) have different ones. Upload temporaries carry it
// (fs/upload_sweep.hpp: a starting replica never sweeps another's upload).
#pragma once

#include <string>

namespace gw::gateway {

// The tag in <state_dir>/instance, made there first if missing or not a
// tag. Throws ExitError when the state folder cannot be written.
std::string instance_tag(const std::string& state_dir);

}  // namespace gw::gateway
