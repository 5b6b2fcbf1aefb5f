#!/usr/bin/env node
// Makes a ledger signing key (Ed25519) outside the service, and prints its kid: the RFC 7638
// SHA-256 thumbprint of the public JWK, which is what `gatehouse keys rotate --kid` and the
// ledger name it by. Node's own crypto only, so it runs anywhere Node 20+ does (also inside
// the Gatehouse image). Writes with mode 0600 and never overwrites a file.
//
//   node deploy/scripts/ledger-key.mjs --pem signing-key.pem     # PKCS#8 PEM, for GATEHOUSE_SIGNING_KEY_FILE
//   node deploy/scripts/ledger-key.mjs --jwk-dir keys/            # keys/<kid>.jwk, for GATEHOUSE_SIGNING_KEYS_DIR
//   node deploy/scripts/ledger-key.mjs --kid-of signing-key.pem   # the kid of an existing key
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function kidOf(privateKey) {
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' });
  // RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace.
  const canonical = JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x });
  return createHash('sha256').update(canonical).digest('base64url');
}

function readKey(path) {
  const text = readFileSync(path, 'utf8');
  const key = text.includes('-----BEGIN')
    ? createPrivateKey(text)
    : createPrivateKey({ key: JSON.parse(text), format: 'jwk' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path}: not an Ed25519 private key`);
  return key;
}

const [option, target] = process.argv.slice(2);
if (!['--pem', '--jwk-dir', '--kid-of'].includes(option ?? '') || !target) {
  process.stderr.write('usage: ledger-key.mjs --pem FILE | --jwk-dir DIR | --kid-of FILE\n');
  process.exit(2);
}
if (option === '--kid-of') {
  process.stdout.write(`${kidOf(readKey(target))}\n`);
} else {
  const { privateKey } = generateKeyPairSync('ed25519');
  const kid = kidOf(privateKey);
  const [path, text] =
    option === '--pem'
      ? [target, privateKey.export({ type: 'pkcs8', format: 'pem' })]
      : [
          join(target, `${kid}.jwk`),
          JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid }),
        ];
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  process.stdout.write(`${JSON.stringify({ kid, file: path })}\n`);
}
