#!/usr/bin/env node
// Writes a ToolHive-format encrypted secrets file, independently of hush's
// Go reader, so that the reader is tested against a second implementation
// of the format.
//
// Original format (the default):
//   key  = SHA-256(password)
//   file = 12-byte random nonce || AES-256-GCM ciphertext || 16-byte tag
//
// Framed format (--framed), which current ToolHive writes:
//   key  = Argon2id(password, salt, time 2, memory 19456 KiB, 1 lane, 32 bytes),
//          computed by the reference C implementation's `argon2` command
//          (Debian package argon2), since node has no Argon2
//   file = "THVSEC" || 0x01 || 16-byte salt || nonce || ciphertext || tag
//
// Both: plaintext = JSON {"secrets": {name: value}}.
//
// Usage: node scripts/toolhive-fixture.js [--framed] OUT [PASSWORD]
// It was run once for each of fixtures/import/toolhive.enc and
// toolhive-framed.enc (password in fixtures/README.md); the Go tests need
// only the files, not node or argon2.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const { execFileSync } = require('child_process');

const args = process.argv.slice(2);
const framed = args[0] === '--framed';
if (framed) args.shift();
const out = args[0];
const password = args[1] || 'correct horse battery staple';
if (!out) {
  console.error('usage: node scripts/toolhive-fixture.js [--framed] OUT [PASSWORD]');
  process.exit(2);
}

// Keep in step with the expected values in formats/fixtures_test.go.
const secrets = {
  GITHUB_TOKEN: 'ghp_exampleexampleexample',
  EMPTY: '',
  UNICODE: 'h\u00e9llo w\u00f6rld \u2713',
  MULTILINE: 'line one\nline two\n',
  QUOTES: 'it\'s "quoted" $HOME `tick` \\',
  __thv_workloads_BEARER_TOKEN_api: 'bearer-value',
  __thv_registry_OAUTH_REFRESH_TOKEN: 'refresh-value',
  __thv_auth_login: 'login-value',
};

let header = Buffer.alloc(0);
let key;
if (framed) {
  // The argon2 command takes the salt as an argument, so it is made of
  // random letters and digits: still 16 random bytes as far as the format
  // cares.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const salt = Buffer.from(Array.from(crypto.randomBytes(16), (b) => alphabet[b % alphabet.length]).join(''), 'ascii');
  const hex = execFileSync('argon2', [salt.toString('ascii'), '-id', '-t', '2', '-k', '19456', '-p', '1', '-l', '32', '-r'],
    { input: Buffer.from(password, 'utf8') }).toString().trim();
  key = Buffer.from(hex, 'hex');
  if (key.length !== 32) throw new Error('argon2 gave ' + key.length + ' bytes');
  header = Buffer.concat([Buffer.from('THVSEC', 'ascii'), Buffer.from([1]), salt]);
} else {
  key = crypto.createHash('sha256').update(Buffer.from(password, 'utf8')).digest();
}
const nonce = crypto.randomBytes(12);
const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce);
const plaintext = Buffer.from(JSON.stringify({ secrets }), 'utf8');
const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
const tag = cipher.getAuthTag();
fs.writeFileSync(out, Buffer.concat([header, nonce, ciphertext, tag]), { mode: 0o600 });
