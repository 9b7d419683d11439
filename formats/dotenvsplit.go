package formats

import (
	"bytes"
	"runtime/debug"
)

// A big dotenv file is parsed in two halves at once, one in a goroutine
// of its own: on a machine with two CPUs or more, in about half the time
// (the time goes mostly to the list of secrets and their names, new
// memory that each half fills on its own CPU). The second half starts at
// the line after the middle, a guess that holds unless a quoted value
// spans that line: the first half's parser stops at the first line that
// starts at or past it, and the guess held if that is the line. Its
// secrets are used only if it held, both halves are in name order, each
// after the other, and the second half parsed without error: then the
// result is exactly the one parse's. Otherwise the first half's parser
// goes on to the end of the file, as if alone (a file out of order, or
// malformed, is parsed as it would be, a little slower).

const (
	// splitMin is the size from which a file is parsed in two halves.
	splitMin = 1 << 20
	// splitMaxLines bounds the lines of a file parsed in two halves:
	// the list of secrets is made with room for one a line (twice those
	// of the first half).
	splitMaxLines = 1 << 19
)

// parseSplit parses data in two halves; ok is false if data is too small
// or too big for that (and nothing was parsed). A memory fault reading
// data in the second half's goroutine (a mapped file cut short) panics
// again in the caller's, where debug.SetPanicOnFault makes it one; a
// panic in the caller's returns once that goroutine has ended.
func parseSplit(data []byte) (out lists, ok bool, err error) {
	i := bytes.IndexByte(data[len(data)/2:], '\n')
	if len(data) < splitMin || i < 0 {
		return lists{}, false, nil
	}
	split := len(data)/2 + i + 1
	// base is the number of lines before split, at least the number of
	// secrets on them: the second half's secrets go from index base on
	// (the second half, with as many lines again, has room), and are
	// moved down to follow the first half's. Only the first half is
	// counted here: the second is read first by its own goroutine.
	base := bytes.Count(data[:split], []byte{'\n'})
	if base > splitMaxLines/2 {
		return lists{}, false, nil
	}
	size := 2*base + 64
	all := makeLists(size)
	p := &dotenvParser{data: data, line: 1, end: split, presize: size, out: all.slice(0, 0, base)}
	q := &dotenvParser{data: data, pos: split, line: base + 1, presize: size, out: all.slice(base, base, size)}
	var (
		second  lists
		errQ    error
		fault   any
		settled = make(chan struct{})
	)
	go func() {
		defer close(settled)
		defer func() { fault = recover() }()
		debug.SetPanicOnFault(true)
		second, errQ = q.parse()
	}()
	// A fault here (see SetPanicOnFault) waits for the second half too:
	// no goroutine reads data once the caller has recovered (and unmapped).
	joined := false
	defer func() {
		if !joined {
			<-settled
		}
	}()
	first, err := p.parse()
	<-settled
	joined = true
	if fault != nil {
		panic(fault)
	}
	if err != nil {
		return lists{}, true, err
	}
	np, nq := first.len(), second.len()
	if p.pos == split && errQ == nil && p.seen == nil && q.seen == nil &&
		(np == 0 || nq == 0 || first.names[np-1] < second.names[0]) {
		if nq > 0 && &second.names[0] != &all.names[:base+1][base] {
			// The second half outgrew its room, and was moved.
			return lists{append(first.names, second.names...), append(first.values, second.values...)}, true, nil
		}
		n := np + nq
		copy(all.names[np:n], second.names)
		copy(all.values[np:n], second.values)
		// The second half's copies past the end.
		clear(all.names[n : base+nq])
		clear(all.values[n : base+nq])
		return all.slice(0, n, n), true, nil
	}
	p.end = 0
	out, err = p.parse()
	return out, true, err
}
