#include "privsep/writer_service.hpp"

#include <sys/socket.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "base/log.hpp"
#include "privsep/channel.hpp"

namespace dovetail::privsep {
namespace {

struct Job {
  DeliverRequest request;
  base::UniqueFd body;
};

}  // namespace

int run_writer_service(base::UniqueFd sock, WriterBackend& backend, unsigned threads) {
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Job> queue;
  bool closing = false;
  std::mutex send_mutex;

  auto worker = [&] {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex);
        cv.wait(lock, [&] { return closing || !queue.empty(); });
        if (queue.empty()) return;
        job = std::move(queue.front());
        queue.pop_front();
      }
      DeliverReply reply = backend.deliver(job.request, job.body.get());
      reply.id = job.request.id;
      std::lock_guard lock(send_mutex);
      if (!send_frame(sock.get(), encode(reply))) ::shutdown(sock.get(), SHUT_RDWR);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < (threads ? threads : 1); ++i) pool.emplace_back(worker);

  int status = 0;
  if (!send_frame(sock.get(), encode_ready())) status = 1;
  while (status == 0) {
    auto got = recv_frame(sock.get());
    if (!got) {
      if (got.error().kind != base::ErrorKind::kNotFound) {
        base::log::error("dovetail-writer: ", got.error().message);
        status = 1;
      }
      break;
    }
    auto header = decode_header(got->frame);
    if (header && header->type == MessageType::kReload) {
      if (auto st = decode_reload(got->frame); !st || got->fd.valid()) {
        base::log::error("dovetail-writer: ", (st ? std::string("reload frame with a descriptor")
                                                  : st.error().message) + " (closing the channel)");
        status = 1;
        break;
      }
      backend.reload();
      continue;
    }
    auto request = decode_request(got->frame);
    if (!request) {
      base::log::error("dovetail-writer: ", request.error().message + " (closing the channel)");
      status = 1;
      break;
    }
    if (request->body_in_fd != got->fd.valid()) {
      base::log::error("dovetail-writer: ", "body descriptor missing or unexpected (closing the channel)");
      status = 1;
      break;
    }
    std::lock_guard lock(mutex);
    queue.push_back(Job{std::move(*request), std::move(got->fd)});
    cv.notify_one();
  }
  ::shutdown(sock.get(), SHUT_RDWR);
  {
    std::lock_guard lock(mutex);
    closing = true;
    if (status != 0) queue.clear();  // a violating peer gets no more work done for it
  }
  cv.notify_all();
  for (auto& t : pool) t.join();
  return status;
}

}  // namespace dovetail::privsep
