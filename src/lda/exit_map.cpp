#include "lda/exit_map.hpp"

#include <sysexits.h>

#include <type_traits>
#include <variant>

namespace dovetail::lda {

int exit_code_for(const deliver::Outcome& outcome, RejectMode mode) {
  return std::visit(
      [mode](const auto& o) -> int {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, deliver::Delivered>) {
          return EX_OK;
        } else if constexpr (std::is_same_v<T, deliver::TempFail>) {
          return EX_TEMPFAIL;
        } else {
          if (o.enhanced == "5.1.1") return EX_NOUSER;
          // A rejection mail was sent to the sender: for the MTA the message is handled.
          return mode == RejectMode::kStderr ? EX_NOPERM : EX_OK;
        }
      },
      outcome);
}

}  // namespace dovetail::lda
