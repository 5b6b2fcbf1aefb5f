import { Global, Module } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { BlobStore } from './blob-store.js';

@Global()
@Module({
  providers: [
    { provide: BlobStore, inject: [CONFIG], useFactory: (c: Config) => new BlobStore(c.dataDir) },
  ],
  exports: [BlobStore],
})
export class BlobsModule {}
