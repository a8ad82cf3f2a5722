#include "app/read_index.h"

#include <utility>

namespace chronoconf {

ReadIndex::ReadIndex(Projection* projection, Follower* follower)
    : projection_(projection), follower_(follower) {
  thread_ = std::thread([this] { Run(); });
}

ReadIndex::~ReadIndex() { Stop(); }

void ReadIndex::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void ReadIndex::Request(Done done) {
  // Sole writer: what this process acknowledged is applied already.
  if (follower_->sole_writer_caught_up()) {
    done(Status::OK(), projection_->head());
    return;
  }
  {
    MutexLock lock(&mu_);
    if (!stopping_) {
      waiting_.push_back(std::move(done));
      cv_.Signal();
      return;
    }
  }
  done(Status::Unavailable("the server is stopping"), 0);
}

void ReadIndex::Run() {
  while (true) {
    std::vector<Done> batch;
    bool stopping = false;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && waiting_.empty()) cv_.Wait(&mu_);
      batch.swap(waiting_);
      stopping = stopping_;
    }
    if (stopping) {
      for (Done& done : batch) done(Status::Unavailable("the server is stopping"), 0);
      return;
    }
    // Every request of the batch arrived before this head read starts, so
    // the head it learns covers every write acknowledged before them.
    Status s = follower_->SyncWithStore();
    const int64_t revision = projection_->head();
    for (Done& done : batch) done(s, revision);
  }
}

}  // namespace chronoconf
