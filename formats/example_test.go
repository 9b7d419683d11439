package formats_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hush-secrets/hush/formats"
	"github.com/hush-secrets/hush/scope"
	"github.com/hush-secrets/hush/store"
)

func ExampleParseDotenv() {
	env := `# comments and blank lines are skipped
export API_URL=https://api.example   # an inline comment after a blank
PASSWORD='single quotes: $literal \n'
GREETING="double quotes: line one\nline two"
`
	secrets, err := formats.ParseDotenv(strings.NewReader(env))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range secrets {
		fmt.Printf("%s=%q\n", s.Name, s.Value)
	}
	formats.WriteDotenv(os.Stdout, secrets)
	// Output:
	// API_URL="https://api.example"
	// PASSWORD="single quotes: $literal \\n"
	// GREETING="double quotes: line one\nline two"
	// API_URL='https://api.example'
	// PASSWORD='single quotes: $literal \n'
	// GREETING='double quotes: line one
	// line two'
}

// Each value is written in the encoding the most dotenv readers read
// exactly: single quotes unless the value has a single quote in it. What
// no common reader holds (a NUL byte, bytes that are not UTF-8) is left
// out, and the error says which secrets and why.
func ExampleWriteDotenv() {
	err := formats.WriteDotenv(os.Stdout, []formats.Secret{
		{Name: "TOKEN", Value: []byte("$5 `off`")},
		{Name: "QUOTE", Value: []byte("it's $5")},
		{Name: "BLOB", Value: []byte("\xff\x00ok")},
	})
	fmt.Println(err)
	// Output:
	// TOKEN='$5 `off`'
	// QUOTE="it's \$5"
	// formats: dotenv export: left out 1 secret(s): BLOB (value contains a NUL byte, which no common dotenv reader holds)
}

// What a shell variable cannot hold is left out, and the error says which
// secrets and why; everything else is written.
func ExampleWriteShell() {
	err := formats.WriteShell(os.Stdout, []formats.Secret{
		{Name: "GREETING", Value: []byte("it's here")},
		{Name: "dotted.name", Value: []byte("x")},
	})
	fmt.Println(errors.Is(err, formats.ErrSkipped))
	fmt.Println(err)
	// Output:
	// export GREETING='it'\''s here'
	// true
	// formats: shell export: left out 1 secret(s): dotted.name (not a shell variable name)
}

func ExampleParseJSON() {
	secrets, err := formats.ParseJSON(strings.NewReader(`{"API_TOKEN": "s3cret", "DB_URL": "postgres://db/app"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	formats.WriteJSON(os.Stdout, secrets)

	_, err = formats.ParseJSON(strings.NewReader(`{"PORT": 8080}`))
	fmt.Println(err)
	// Output:
	// {
	//   "API_TOKEN": "s3cret",
	//   "DB_URL": "postgres://db/app"
	// }
	// formats: json: line 1: value of PORT is a number; only string values are supported (nested objects are not)
}

// A program imports through a User view, so that a file cannot plant
// reserved names. An existing secret with a different value stops the
// whole import unless the mode says what to do with it.
func ExampleImport() {
	ctx := context.Background()
	p := store.NewMemory() // a real program opens its file store
	p.Set(ctx, "DB_URL", []byte("postgres://old"))
	user := scope.User(p)

	secrets, _ := formats.ParseDotenv(strings.NewReader("API_TOKEN=s3cret\nDB_URL=postgres://new\n"))
	_, err := formats.Import(ctx, user, secrets, formats.ImportFail)
	fmt.Println(err)

	rep, err := formats.Import(ctx, user, secrets, formats.ImportSkipExisting)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("added:", rep.Added, "skipped:", rep.Skipped)
	v, _ := p.Get(ctx, "DB_URL")
	fmt.Printf("DB_URL=%s\n", v)
	// Output:
	// formats: import: 1 secret(s) already exist with different values: DB_URL
	// added: [API_TOKEN] skipped: [DB_URL]
	// DB_URL=postgres://old
}
