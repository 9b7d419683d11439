#!/usr/bin/env node
// Writes a ToolHive-format encrypted secrets file, independently of hush's
// Go reader, so that the reader is tested against a second implementation
// of the format:
//
//   key  = SHA-256(password)
//   file = 12-byte random nonce || AES-256-GCM ciphertext || 16-byte tag
//   plaintext = JSON {"secrets": {name: value}}
//
// Usage: node scripts/toolhive-fixture.js OUT [PASSWORD]
// It was run once to make fixtures/import/toolhive.enc (password in
// fixtures/README.md); the Go tests need only the file, not node.
'use strict';
const crypto = require('crypto');
const fs = require('fs');

const out = process.argv[2];
const password = process.argv[3] || 'correct horse battery staple';
if (!out) {
  console.error('usage: node scripts/toolhive-fixture.js OUT [PASSWORD]');
  process.exit(2);
}

// Keep in step with the expected values in migrate/fixtures_test.go.
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

const key = crypto.createHash('sha256').update(Buffer.from(password, 'utf8')).digest();
const nonce = crypto.randomBytes(12);
const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce);
const plaintext = Buffer.from(JSON.stringify({ secrets }), 'utf8');
const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
const tag = cipher.getAuthTag();
fs.writeFileSync(out, Buffer.concat([nonce, ciphertext, tag]), { mode: 0o600 });
