module github.com/hush-secrets/hush

go 1.26.8

require (
	filippo.io/age v1.3.2
	github.com/gofrs/flock v0.13.2
	golang.org/x/crypto v0.55.0
)

require (
	filippo.io/edwards25519 v1.2.0 // indirect
	filippo.io/hpke v0.4.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/term v0.45.0 // indirect
)
