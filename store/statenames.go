package store

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"

	"github.com/hush-secrets/hush/internal/atomicfile"
	"github.com/hush-secrets/hush/store/internal/format"
)

// The entry names of the accepted version are kept beside the state file,
// in the file of the same name with ".names" appended, for `hush trust`'s
// report of what changed; only Trust (and AcceptedStateOf) reads them:
//
//	hush accepted names v1 HEX   HEX: the SHA-256 of the lines below
//	name "..."                   one line per entry name, in name order
//
// A write rewrites the names file only when the names changed: it hashes
// the lines it would write (one pass over the entry names, through a
// 64 KiB buffer, no copy of them) and compares that with the first line
// of the file. A write that changes values, descriptions or recipients,
// or a read of a new version, leaves the names file alone. A names file
// whose lines are not those its first line hashes (damaged, or cut short)
// is ignored: the names are then unknown (nil). A state written before the
// names file existed lists its names inline ("name" lines); it is still
// read, and the next record of a version moves them out. The state file
// itself did not change format, so an earlier hush still reads it.

const namesMagic = "hush accepted names v1 "

// namesPath returns the names file of the state file p.
func namesPath(p string) string { return p + ".names" }

// writeNames writes the name lines of d to w.
func writeNames(w io.Writer, d *document) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	line := make([]byte, 0, 2*MaxNameLen)
	d.each(func(fd *format.Document, i int, e *docEntry) {
		line = append(line[:0], "name "...)
		if e == nil {
			line = appendQuoted(line, fd.Bytes(fd.Entries[i].Name))
		} else {
			line = appendQuoted(line, e.Name)
		}
		bw.Write(append(line, '\n'))
	})
	return bw.Flush()
}

// namesHeader returns the first line of the names file of d.
func namesHeader(d *document) string {
	h := sha256.New()
	writeNames(h, d) // a hash never fails
	return namesMagic + hex.EncodeToString(h.Sum(nil)) + "\n"
}

// saveNames makes the names file of the state file p hold d's names,
// unless it does already.
func (f *File) saveNames(p string, d *document) error {
	head := namesHeader(d)
	if fh, err := os.Open(namesPath(p)); err == nil {
		old := make([]byte, len(head))
		_, err := io.ReadFull(fh, old)
		fh.Close()
		if err == nil && string(old) == head {
			return nil
		}
	}
	if err := os.MkdirAll(f.opts.StateDir, 0o700); err != nil {
		return err
	}
	pf, err := atomicfile.NewPendingFile(namesPath(p), 0o600, atomicfile.NoSync())
	if err != nil {
		return err
	}
	if _, err := io.WriteString(pf, head); err != nil {
		pf.Cleanup()
		return err
	}
	if err := writeNames(pf, d); err != nil {
		pf.Cleanup()
		return err
	}
	return pf.CloseAtomicallyReplace()
}

// loadNames reads the names file of the state file p; nil when there is
// none, or its lines are not those its first line hashes.
func loadNames(p string) ([]string, error) {
	b, err := os.ReadFile(namesPath(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the accepted names: %w", err)
	}
	head, rest, _ := bytes.Cut(b, []byte("\n"))
	sum := sha256.Sum256(rest)
	if string(head) != namesMagic+hex.EncodeToString(sum[:]) {
		return nil, nil
	}
	names := make([]string, 0, bytes.Count(rest, []byte("\n")))
	for len(rest) > 0 {
		line, tail, _ := bytes.Cut(rest, []byte("\n"))
		rest = tail
		q, ok := bytes.CutPrefix(line, []byte("name "))
		n, err := strconv.Unquote(string(q))
		if !ok || err != nil {
			return nil, errors.New("accepted names: bad line")
		}
		names = append(names, n)
	}
	return names, nil
}

// appendQuoted appends strconv.Quote(s), without its cost for the common
// name: printable ASCII with no quote or backslash is quoted as it is.
func appendQuoted[S string | []byte](b []byte, s S) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, string(s))
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
