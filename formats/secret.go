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
	// A list in strictly increasing order (hush export writes one) names
	// nothing twice: no map of its names needed.
	i := 1
	for i < len(secrets) && secrets[i-1].Name < secrets[i].Name {
		i++
	}
	if i >= len(secrets) {
		return nil
	}
	seen := make(map[string]bool, len(secrets))
	for _, s := range secrets {
		if seen[s.Name] {
			return fmt.Errorf("formats: %s: name %s given twice", op, quote(s.Name))
		}
		seen[s.Name] = true
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
