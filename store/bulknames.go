package store

import (
	"bytes"
	"sort"
	"strings"

	"github.com/hush-secrets/hush/store/internal/format"
)

// NamesTx is a Tx that lists names without the rest of each entry.
// [TxNames] uses the method when a Tx has it.
type NamesTx interface {
	Tx

	// Names returns the names List would return that start with prefix
	// ("": every one), sorted, without building the entries' metadata.
	// Its error is List's.
	Names(prefix string) ([]string, error)
}

// TxNames returns the names of the entries of tx that start with prefix,
// sorted (see [NamesTx]):
//
//   - if tx is a [NamesTx], TxNames calls its method: the file and memory
//     stores, and the views of package scope over them, list the names
//     alone, and a store as read from its file finds those with prefix
//     by binary search;
//   - otherwise it calls tx.List and keeps the names with prefix.
//
// Either way the error, if any, is tx's, unchanged.
func TxNames(tx Tx, prefix string) ([]string, error) {
	if n, ok := tx.(NamesTx); ok {
		return n.Names(prefix)
	}
	es, err := tx.List()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range es {
		if strings.HasPrefix(e.Name, prefix) {
			names = append(names, e.Name)
		}
	}
	return names, nil
}

var _ NamesTx = (*docTx)(nil)

// Names implements [NamesTx].
func (t *docTx) Names(prefix string) ([]string, error) { return t.doc.namesWith(prefix), nil }

// namesWith returns the names of d's entries that start with prefix,
// sorted, as substrings of one string. Of a document as decoded (or a
// clone of one with no change yet), it reads only the entries with
// prefix, found by binary search.
func (d *document) namesWith(prefix string) []string {
	b := d
	if d.base != nil && len(d.keys) == 0 {
		b = d.base
	}
	pb := []byte(prefix)
	var all strings.Builder
	var ends []int
	if fd := b.decoded; fd != nil && b.base == nil {
		es := fd.Entries
		lo := sort.Search(len(es), func(i int) bool { return string(fd.Bytes(es[i].Name)) >= prefix })
		hi := lo + sort.Search(len(es)-lo, func(i int) bool { return !bytes.HasPrefix(fd.Bytes(es[lo+i].Name), pb) })
		size := 0
		for i := lo; i < hi; i++ {
			size += es[i].Name.Len()
		}
		all.Grow(size)
		ends = make([]int, 0, hi-lo)
		for i := lo; i < hi; i++ {
			all.Write(fd.Bytes(es[i].Name))
			ends = append(ends, all.Len())
		}
	} else if b.base == nil && b.decoded == nil {
		for _, e := range b.list() {
			if strings.HasPrefix(e.Name, prefix) {
				all.WriteString(e.Name)
				ends = append(ends, all.Len())
			}
		}
	} else {
		d.each(func(fd *format.Document, i int, e *docEntry) {
			if e == nil {
				name := fd.Bytes(fd.Entries[i].Name)
				if !bytes.HasPrefix(name, pb) {
					return
				}
				all.Write(name)
			} else {
				if !strings.HasPrefix(e.Name, prefix) {
					return
				}
				all.WriteString(e.Name)
			}
			ends = append(ends, all.Len())
		})
	}
	if len(ends) == 0 {
		return nil
	}
	s := all.String()
	out := make([]string, len(ends))
	start := 0
	for i, end := range ends {
		out[i], start = s[start:end], end
	}
	return out
}
