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
//	hush accepted names v1
//	name "..."         one line per entry name, in name order
//	sum HEX            the SHA-256 of the lines above it
//
// A write rewrites the names file only when the names changed. A write
// that adds or removes none (a value, a description, the recipients)
// hashes the file it would write (one pass over the entry names through a
// 64 KiB buffer, no copy of them), compares that with the file's last
// line, and writes nothing when they agree; any other write writes the
// file in one pass, hashing as it goes. A read of a new version leaves
// the names file alone. A names file whose lines are not those its last
// line hashes (damaged, or cut short) is ignored: the names are then
// unknown (nil). A state written before the names file existed lists its
// names inline ("name" lines); it is still read, and the next record of a
// version moves them out. The state file itself did not change format, so
// an earlier hush still reads it.

const (
	namesMagic = "hush accepted names v1\n"
	sumPrefix  = "sum "
	sumLine    = len(sumPrefix) + 2*sha256.Size + 1
)

// namesPath returns the names file of the state file p.
func namesPath(p string) string { return p + ".names" }

// writeNames writes the names file of d to w, and returns its last line.
func writeNames(w io.Writer, d *document) (string, error) {
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, h), 64<<10)
	bw.WriteString(namesMagic)
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
	if err := bw.Flush(); err != nil {
		return "", err
	}
	last := sumPrefix + hex.EncodeToString(h.Sum(nil)) + "\n"
	_, err := io.WriteString(w, last)
	return last, err
}

// namesChanged reports whether d holds a name its base does not, or lacks
// one its base has; true if d is not a clone.
func (d *document) namesChanged() bool {
	if d.base == nil {
		return true
	}
	for i, name := range d.keys {
		if (d.vals[i] == nil) == d.has(name) {
			return true
		}
	}
	return false
}

// saveNames makes the names file of the state file p hold d's names,
// unless it does already.
func (f *File) saveNames(p string, d *document) error {
	if !d.namesChanged() {
		last, _ := writeNames(io.Discard, d)
		if lastLine(namesPath(p)) == last {
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
	if _, err := writeNames(pf, d); err != nil {
		pf.Cleanup()
		return err
	}
	return pf.CloseAtomicallyReplace()
}

// lastLine returns the sum line that ends the file at p, or "".
func lastLine(p string) string {
	fh, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil || fi.Size() < int64(len(namesMagic)+sumLine) {
		return ""
	}
	b := make([]byte, sumLine)
	if _, err := fh.ReadAt(b, fi.Size()-int64(sumLine)); err != nil {
		return ""
	}
	return string(b)
}

// loadNames reads the names file of the state file p; nil when there is
// none, or its lines are not those its last line hashes.
func loadNames(p string) ([]string, error) {
	b, err := os.ReadFile(namesPath(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the accepted names: %w", err)
	}
	if len(b) < len(namesMagic)+sumLine {
		return nil, nil
	}
	body, last := b[:len(b)-sumLine], b[len(b)-sumLine:]
	sum := sha256.Sum256(body)
	rest, ok := bytes.CutPrefix(body, []byte(namesMagic))
	if !ok || string(last) != sumPrefix+hex.EncodeToString(sum[:])+"\n" {
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
