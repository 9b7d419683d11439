module github.com/hush-secrets/hush/internal/dotenvcheck

go 1.26.0

require (
	github.com/compose-spec/compose-go/v2 v2.16.2
	github.com/hush-secrets/hush v0.0.0
	github.com/joho/godotenv v1.5.1
)

require (
	filippo.io/age v1.3.2 // indirect
	filippo.io/edwards25519 v1.2.0 // indirect
	filippo.io/hpke v0.4.0 // indirect
	github.com/gofrs/flock v0.13.2 // indirect
	github.com/sirupsen/logrus v1.10.1 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/term v0.45.0 // indirect
)

replace github.com/hush-secrets/hush => ../..
