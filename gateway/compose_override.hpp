// `gateway compose-override`: the docker-compose override file that mounts
// every external Docker volume the rules name (SFTP_VOLUMES) into the gateway
// container at <volumes-dir>/<volume> and declares it external. It replaces
// the classic setup's ytt template; the compose stack merges it with its
// docker-compose.yaml. Generated, never hand-edited.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "gateway/options/options.hpp"
#include "mapping/model.hpp"

namespace gw::gateway {

// The compose file format the stack's docker-compose.yaml uses: docker-compose
// refuses to merge files of different versions.
inline constexpr const char* compose_file_version = "2.4";
// The service the volumes are mounted into.
inline constexpr const char* compose_gateway_service = "gateway";

// Pure: one mount per distinct volume, in the order the rules first name it.
// Each volume is declared under a prefixed key (`ext_<volume>`) so a volume
// called like one of the stack's own (data, state) cannot merge into it.
std::string render_compose_override(const std::vector<mapping::Rule>& rules, const std::string& volumes_dir);

// Validates users and rules (exit 2 with every problem on err, as `check`),
// then prints the override on out.
int run_compose_override(const Settings& settings, std::ostream& out, std::ostream& err);

}  // namespace gw::gateway
