// The store contract against MemoryEventStore.
#include "event_store_contract.h"
#include "store/memory_event_store.h"

namespace chronoconf {
namespace {

class MemoryFactory : public StoreFactory {
 public:
  std::unique_ptr<EventStore> Make(Clock* clock) override {
    return std::make_unique<MemoryEventStore>(clock);
  }
  // Not durable and one instance by nature: no DurableStoreContract.
};

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, EventStoreContract, MemoryFactory);

}  // namespace
}  // namespace chronoconf
