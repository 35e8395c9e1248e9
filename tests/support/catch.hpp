// Catch2 v2 (Debian 12) and v3 (Debian 13) behind one include.
#pragma once
#if defined(GATEWAY_CATCH3)
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#else
#include <catch2/catch.hpp>
#endif
