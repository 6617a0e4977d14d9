// Fuzzes the privileged writer's only parser: decode_request() must refuse or accept any
// bytes without crashing, and whatever it accepts must re-encode to the same frame.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "privsep/wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto req = dovetail::privsep::decode_request(in);
  if (req && dovetail::privsep::encode(*req) != in) std::abort();
  auto rep = dovetail::privsep::decode_reply(in);
  if (rep && dovetail::privsep::encode(*rep) != in) std::abort();
  return 0;
}
