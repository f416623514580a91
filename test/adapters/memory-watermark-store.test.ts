import { MemoryWatermarkStore } from '../../lib/core/memory-watermark-store';
import { describeWatermarkStoreContract } from './watermark-store-contract';

describeWatermarkStoreContract('MemoryWatermarkStore', () => {
  const store = new MemoryWatermarkStore();
  return { store, other: store };
});
