#include "app/read_index.h"

#include <utility>

namespace chronoconf {

ReadIndex::ReadIndex(Projection* projection, Follower* follower)
    : projection_(projection), follower_(follower) {
  thread_ = std::thread([this] { Run(); });
}

ReadIndex::~ReadIndex() { Stop(); }

void ReadIndex::BeginShutdown() {
  std::vector<Done> answer;
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    answer.swap(waiting_);
    for (Done& done : in_flight_) answer.push_back(std::move(done));
    in_flight_.clear();  // the head read under way answers nobody now
  }
  cv_.SignalAll();
  for (Done& done : answer) done(Status::Unavailable("the server is shutting down"), 0);
}

void ReadIndex::Stop() {
  BeginShutdown();
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
  done(Status::Unavailable("the server is shutting down"), 0);
}

void ReadIndex::Run() {
  while (true) {
    {
      MutexLock lock(&mu_);
      while (!stopping_ && waiting_.empty()) cv_.Wait(&mu_);
      if (stopping_) return;  // BeginShutdown answered every request
      in_flight_.swap(waiting_);
    }
    // Every request of the batch arrived before this head read starts, so
    // the head it learns covers every write acknowledged before them.
    Status s = follower_->SyncWithStore();
    const int64_t revision = projection_->head();
    std::vector<Done> batch;
    {
      MutexLock lock(&mu_);
      batch.swap(in_flight_);  // empty when a shutdown answered them meanwhile
    }
    for (Done& done : batch) done(s, revision);
  }
}

}  // namespace chronoconf
