/**
 * The `--import` entry that starts OpenTelemetry before any module of the service loads:
 *
 *   node --import ./dist/src/telemetry/register.js dist/src/cli/main.js serve
 *
 * (`npm start` does this, and `bin/gatehouse.js` imports this file first for `serve`.)
 * Instrumentation works by patching modules as they load, so it must be installed before
 * Nest, Fastify, Mercurius, GraphQL and pg are imported; a static import in main.ts would be
 * too late, since ES modules are all linked before any of them runs.
 *
 * The instrumented libraries are CommonJS (pg, graphql, fastify's http): they are patched by
 * the require hook the instrumentations install. The ESM loader hook (import-in-the-middle)
 * is registered as well, restricted to those packages, so an ES-module import of one of them
 * is patched too; restricting it leaves every other module untouched, which avoids the
 * breakage a loader that wraps everything is known for.
 */
import {
  register as registerHooks,
  supportsSyncHooks,
} from 'import-in-the-middle/register-hooks.mjs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { ConfigError, loadConfig } from '../config/config.js';
import { startTelemetry } from './sdk.js';

const INSTRUMENTED = ['http', 'https', 'node:http', 'node:https', 'pg', 'graphql', 'fastify'];

// Worker threads (evaluation, ledger verification) inherit --import; they serve no requests.
if (isMainThread) {
  if (supportsSyncHooks()) registerHooks({ include: INSTRUMENTED });
  else
    register('import-in-the-middle/hook.mjs', import.meta.url, {
      data: { include: INSTRUMENTED },
    });
  try {
    startTelemetry(loadConfig(process.env).telemetry);
  } catch (error) {
    // A wrong setting is reported, with the variable's name, by the command itself.
    if (!(error instanceof ConfigError)) throw error;
  }
}
