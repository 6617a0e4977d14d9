// Fuzzes the privileged writer's only parser: decode_request() and the stage frames' decoders
// must refuse or accept any bytes without crashing, and whatever they accept must re-encode
// to the same frame.
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
  auto stage = dovetail::privsep::decode_stage_begin(in);
  if (stage && dovetail::privsep::encode(*stage) != in) std::abort();
  auto more = dovetail::privsep::decode_stage_more(in);
  if (more && dovetail::privsep::encode_stage_more(*more) != in) std::abort();
  if (dovetail::privsep::decode_stage_end(in) && dovetail::privsep::encode_stage_end() != in) std::abort();
  return 0;
}
