// Reads a dotenv file with npm dotenv's parse (what config() uses) and
// writes each value to OUTDIR/NAME, as UTF-8.
// Usage: node read_npm.js FILE OUTDIR. A file it refuses: exit 1.
const fs = require('fs')
const path = require('path')
const dotenv = require('dotenv')

const parsed = dotenv.parse(fs.readFileSync(process.argv[2]))
for (const [name, value] of Object.entries(parsed)) {
  fs.writeFileSync(path.join(process.argv[3], name), value)
}
