// What the supervisor's sinks are made from: the event options once
// checked (gateway/options fills it from Settings). Kept free of
// gateway/options so the sinks build and test on their own.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace gw::gateway {

struct EventSinkSettings {
  std::vector<std::string> urls;  // --event-url, in option order
  std::string secret;             // --event-secret-file's content (required with urls)
  std::string command;            // --event-command: absolute path, or "" for none
  uid_t command_uid = 65534;      // --event-command-user's ids (default nobody)
  gid_t command_gid = 65534;
  double timeout_seconds = 10;    // --event-timeout, per attempt
};

}  // namespace gw::gateway
