// A separate process appending to the ledger with N concurrent writers, each append its own
// transaction. Used by the ledger test to prove that writers in several processes never fork
// the chain. Runs the built service code (dist/), which `npm test` builds first.
import 'reflect-metadata';

const [url, keysDir, writers, perWriter, tag] = process.argv.slice(2);
const dist = (path) => new URL(`../../dist/src/${path}`, import.meta.url).href;
const { createDataSource } = await import(dist('database/data-source.js'));
const { LedgerRepository } = await import(dist('ledger/ledger.repository.js'));
const { LedgerService } = await import(dist('ledger/ledger.service.js'));
const { LedgerSequencer } = await import(dist('ledger/ledger-sequencer.service.js'));
const { KeyRing } = await import(dist('ledger/signing-keys.js'));

const dataSource = createDataSource(url, { poolSize: Number(writers) });
await dataSource.initialize();
const ring = await KeyRing.load({
  signingKeyFile: undefined,
  signingKeysDir: keysDir,
  generateSigningKey: false,
  checkpointIntervalSeconds: 0,
});
const repository = new LedgerRepository(dataSource);
const ledger = new LedgerService(dataSource, repository, new LedgerSequencer(repository, ring));
await Promise.all(
  Array.from({ length: Number(writers) }, async (_, w) => {
    for (let i = 0; i < Number(perWriter); i++) {
      await ledger.transaction(async (tx) => {
        tx.record({
          type: 'test.concurrent',
          subject: `writer:${tag}-${w}`,
          actor: { sub: `system:${tag}` },
          payload: { writer: w, i },
        });
      });
    }
  }),
);
await dataSource.destroy();
