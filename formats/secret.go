package formats

import (
	"bytes"
	"fmt"
	"io"

	"github.com/hush-secrets/hush/store"
)

// Secret is one name and value moving into or out of a store.
type Secret struct {
	Name  string
	Value []byte
}

// readAllLimited reads r up to the largest store the file provider allows.
// A *bytes.Reader (as the CLI passes) is read into one buffer of its
// length, not grown by copies.
func readAllLimited(r io.Reader) ([]byte, error) {
	if br, ok := r.(*bytes.Reader); ok && br.Len() <= store.MaxStoreSize {
		data := make([]byte, br.Len())
		br.Read(data) // a bytes.Reader reads all it has at once
		return data, nil
	}
	data, err := io.ReadAll(io.LimitReader(r, store.MaxStoreSize+1))
	if err != nil {
		return nil, fmt.Errorf("formats: reading input: %w", err)
	}
	if len(data) > store.MaxStoreSize {
		return nil, fmt.Errorf("formats: input is larger than %d bytes: %w", store.MaxStoreSize, store.ErrLimit)
	}
	return data, nil
}

// checkDuplicates refuses a list that names a secret twice; op ("export"
// or "import") says which operation refused it.
func checkDuplicates(op string, secrets []Secret) error {
	return checkNames(op, len(secrets), func(i int) string { return secrets[i].Name })
}

// checkNames is checkDuplicates of the n names that name gives.
func checkNames(op string, n int, name func(i int) string) error {
	// A list in strictly increasing order (hush export writes one) names
	// nothing twice: no map of its names needed.
	i := 1
	for i < n && name(i-1) < name(i) {
		i++
	}
	if i >= n {
		return nil
	}
	seen := make(map[string]bool, n)
	for i := range n {
		if seen[name(i)] {
			return fmt.Errorf("formats: %s: name %s given twice", op, quote(name(i)))
		}
		seen[name(i)] = true
	}
	return nil
}

// finishExport writes the buffered output and reports what was skipped.
func finishExport(w io.Writer, b *bytes.Buffer, skip *SkipError) error {
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("formats: %s export: %w", skip.Format, err)
	}
	if len(skip.Skipped) > 0 {
		return skip
	}
	return nil
}
