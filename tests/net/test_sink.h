// The tests' stand-in for the sequencer: a bounded moodycamel queue drained
// by one worker thread that answers each request through Server::reply.
#pragma once

#include <concurrentqueue/blockingconcurrentqueue.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "net/server.h"

namespace coffer::net::testing {

class QueueSink : public RequestSink {
 public:
  // The queue gets room to spare: moodycamel hands out blocks per producer
  // thread, so its own bound is coarse; capacity_ is the exact one.
  explicit QueueSink(size_t capacity)
      : capacity_(capacity), queue_(std::max<size_t>(capacity, 256) * 4) {}
  ~QueueSink() override { stop(); }

  // The worker answers in batches of up to `reverse_batch` requests, each
  // batch in reverse order, to check that the server restores request order.
  void start(Server* server, size_t reverse_batch = 1) {
    server_ = server;
    reverse_batch_ = reverse_batch;
    worker_ = std::thread([this] { run(); });
  }

  void stop() {
    running_ = false;
    if (worker_.joinable()) worker_.join();
  }

  bool try_push(Request&& request) override {
    ++push_attempts_;
    if (refuse_.load()) return false;
    if (size_.fetch_add(1) >= capacity_) {
      --size_;
      return false;
    }
    uint64_t session_id = request.session.session_id();
    {
      std::lock_guard lock(mutex_);
      size_t& n = outstanding_[session_id];
      ++n;
      outstanding_max_ = std::max(outstanding_max_, n);
    }
    // moodycamel leaves the element alone when try_enqueue fails.
    if (!queue_.try_enqueue(std::move(request))) {
      --size_;
      std::lock_guard lock(mutex_);
      --outstanding_[session_id];
      return false;
    }
    return true;
  }

  // While set, try_push refuses everything (a full core queue).
  std::atomic<bool> refuse_{false};
  // While set, the worker does not take requests, so the queue fills up.
  std::atomic<bool> paused_{false};

  size_t push_attempts() const { return push_attempts_.load(); }
  size_t size() const { return size_.load(); }
  size_t outstanding_max() {
    std::lock_guard lock(mutex_);
    return outstanding_max_;
  }

 private:
  void run() {
    std::vector<Request> batch;
    while (running_.load()) {
      Request r;
      if (!queue_.wait_dequeue_timed(r, std::chrono::milliseconds(5))) {
        flush(batch);
        continue;
      }
      // A request taken while paused is held until resumed, and still counts
      // in size(): the queue is full for the server until it is answered.
      while (paused_.load() && running_.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      --size_;
      batch.push_back(std::move(r));
      if (batch.size() >= reverse_batch_) flush(batch);
    }
    flush(batch);
  }

  void flush(std::vector<Request>& batch) {
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      {
        std::lock_guard lock(mutex_);
        --outstanding_[it->session.session_id()];
      }
      server_->reply(it->session, it->request_id, std::move(it->body));  // echo
    }
    batch.clear();
  }

  const size_t capacity_;
  moodycamel::BlockingConcurrentQueue<Request> queue_;
  Server* server_ = nullptr;
  size_t reverse_batch_ = 1;
  std::thread worker_;
  std::atomic<bool> running_{true};
  std::atomic<size_t> size_{0};
  std::atomic<size_t> push_attempts_{0};
  std::mutex mutex_;
  std::map<uint64_t, size_t> outstanding_;  // per session: pushed, not yet answered
  size_t outstanding_max_ = 0;
};

}  // namespace coffer::net::testing
