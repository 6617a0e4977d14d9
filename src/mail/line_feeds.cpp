#include "mail/line_feeds.hpp"

#include <bit>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace dovetail::mail {
namespace {

uint64_t count_scalar(const char* p, const char* end, bool after_cr) {
  uint64_t n = 0;
  for (; p < end; ++p) {
    if (*p == '\n' && !after_cr) ++n;
    after_cr = *p == '\r';
  }
  return n;
}

// Per block: LF positions, minus those right after a CR (the CR mask shifted by one, the
// previous block's last CR carried in).
uint64_t count_sse2(const char* p, const char* end, bool after_cr) {
  uint64_t n = 0;
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  uint32_t carry = after_cr ? 1 : 0;
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const auto lfs = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)));
    const auto crs = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr)));
    n += static_cast<uint64_t>(std::popcount(lfs & ~((crs << 1) | carry) & 0xffffu));
    carry = (crs >> 15) & 1u;
  }
  after_cr = carry != 0;
#endif
  return n + count_scalar(p, end, after_cr);
}

#if defined(__x86_64__)
__attribute__((target("avx2,popcnt"))) uint64_t count_avx2(const char* p, const char* end, bool after_cr) {
  uint64_t n = 0;
  const __m256i cr = _mm256_set1_epi8('\r');
  const __m256i lf = _mm256_set1_epi8('\n');
  uint64_t carry = after_cr ? 1 : 0;
  for (; end - p >= 32; p += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const auto lfs = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, lf)));
    const auto crs = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, cr)));
    const uint64_t after = ((static_cast<uint64_t>(crs) << 1) | carry) & 0xffffffffu;
    n += static_cast<uint64_t>(std::popcount(static_cast<uint64_t>(lfs) & ~after));
    carry = crs >> 31;
  }
  return n + count_sse2(p, end, carry != 0);
}
#endif

}  // namespace

uint64_t count_lf_not_after_cr(std::string_view bytes, bool after_cr) {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
#if defined(__x86_64__)
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
  if (avx2) return count_avx2(p, end, after_cr);
#endif
  return count_sse2(p, end, after_cr);
}

}  // namespace dovetail::mail
