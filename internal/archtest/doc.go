// Package archtest holds no code: its tests check the module's layout
// against the map that opens docs/ARCHITECTURE.md (each package's imports
// inside the module are exactly the arrows the map gives it) and against
// the house rules that a reviewer would otherwise check by hand: library
// packages read no environment, no unsafe outside tests, no non-test file
// over 500 lines, no leftover markers.
package archtest
