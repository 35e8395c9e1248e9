#include "gateway/serve/metrics_http.hpp"

namespace gw::gateway {
namespace {

std::string_view reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    default: return "Internal Server Error";
  }
}

std::string response(int status, std::string_view content_type, std::string_view body, std::string_view extra = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason(status)) + "\r\n";
  out += "Content-Type: ";
  out += content_type;
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  out += extra;
  out += "Connection: close\r\n\r\n";
  out += body;
  return out;
}

// Where the head ends (just past the empty line), or npos. Lines end with
// CRLF; a bare LF is taken too, as most servers do.
std::size_t head_end(std::string_view received) {
  const std::size_t crlf = received.find("\r\n\r\n");
  const std::size_t lf = received.find("\n\n");
  if (crlf == std::string_view::npos && lf == std::string_view::npos) return std::string_view::npos;
  if (lf == std::string_view::npos || (crlf != std::string_view::npos && crlf < lf)) return crlf + 4;
  return lf + 2;
}

bool token_char(char c) { return c > ' ' && c < 0x7f; }

}  // namespace

HeadState head_state(std::string_view received) {
  const std::size_t end = head_end(received);
  if (end != std::string_view::npos) return end <= kMaxRequestHead ? HeadState::complete : HeadState::too_large;
  return received.size() < kMaxRequestHead ? HeadState::incomplete : HeadState::too_large;
}

std::string error_response(int status) {
  return response(status, "text/plain; charset=utf-8", std::string(reason(status)) + "\n");
}

std::string metrics_response(std::string_view head, const std::function<std::string()>& render) {
  // The request line: METHOD SP TARGET SP HTTP/1.x
  std::string_view line = head.substr(0, head.find('\n'));
  if (line.ends_with('\r')) line.remove_suffix(1);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return error_response(400);
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  const auto tokens = [](std::string_view s) {
    if (s.empty()) return false;
    for (const char c : s)
      if (!token_char(c)) return false;
    return true;
  };
  if (!tokens(method) || !tokens(target) || (version != "HTTP/1.1" && version != "HTTP/1.0"))
    return error_response(400);
  if (method != "GET") return response(405, "text/plain; charset=utf-8", "Method Not Allowed\n", "Allow: GET\r\n");
  if (target.substr(0, target.find('?')) != "/metrics") return error_response(404);
  return response(200, "text/plain; version=0.0.4; charset=utf-8", render());
}

}  // namespace gw::gateway
