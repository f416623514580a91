import { MemoryWatermarkStore } from '../../testkit/memory-watermark-store';
import { describeWatermarkStoreContract } from './watermark-store-contract';

describeWatermarkStoreContract('MemoryWatermarkStore', () => {
  const store = new MemoryWatermarkStore();
  return { store, other: store };
});
