#if !defined(GATEWAY_CATCH3)
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#endif
