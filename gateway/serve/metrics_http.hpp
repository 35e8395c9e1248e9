// The HTTP/1.1 the metrics endpoint speaks, as pure functions (the socket
// side is serve/metrics_service): one request per connection, GET /metrics
// only. Everything else gets a short error answer: 404 for another path,
// 405 for another method, 400 for what is not an HTTP/1.x request line,
// 431 for a head over kMaxRequestHead, 408 when the head does not arrive in
// time. Nothing a client sends is echoed back or logged.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace gw::gateway {

inline constexpr std::size_t kMaxRequestHead = 8192;

// Whether `received` (the bytes read so far) holds a whole request head:
// the request line and headers up to the empty line. A body is never read.
enum class HeadState { incomplete, complete, too_large };
HeadState head_state(std::string_view received);

// The whole response to the request head `head`; `render` makes the page,
// called only for GET /metrics (a query string is ignored).
std::string metrics_response(std::string_view head, const std::function<std::string()>& render);

// The response for a status that has no page: 408, 431 (and what
// metrics_response answers with its own errors).
std::string error_response(int status);

}  // namespace gw::gateway
