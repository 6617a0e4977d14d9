#include "net/blocking_pool.hpp"

#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <exception>

#include "base/log.hpp"

namespace dovetail::net {

struct BlockingPool::Impl {
  explicit Impl(unsigned n) : pool(n) {}
  asio::thread_pool pool;
};

BlockingPool::BlockingPool(unsigned threads)
    : impl_(std::make_unique<Impl>(threads == 0 ? 1 : threads)), threads_(threads == 0 ? 1 : threads) {}

BlockingPool::~BlockingPool() { join(); }

void BlockingPool::join() { impl_->pool.join(); }

void BlockingPool::submit(std::function<void()> job) {
  asio::post(impl_->pool, [job = std::move(job)]() {
    try {
      job();
    } catch (const std::exception& e) {
      base::log::error("net: ", std::string("bug: blocking job threw: ") + e.what());
    } catch (...) {
      base::log::error("net: ", "bug: blocking job threw");
    }
  });
}

}  // namespace dovetail::net
